"""Instructions per watch event and per log line, counted by callgrind: a figure that does not
move with the load on this shared machine (wall-clock figures move by ±30%), for judging
changes to the hot paths.

Each consumer runs twice under `valgrind --tool=callgrind`, with N and 2N items; the
difference divided by N is the cost of one item, start-up excluded. Counted: the consumer
process's user-space instructions (the kernel's are not, for any consumer).

    python benches/instructions.py --server-binary PATH
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import logs_bench
import results
import watch_bench
from benchpod import TOKEN, BenchPod

WATCH_N = 1_000
LOG_N = 50_000


def count(cmd: list[str], env: dict[str, str], out: Path) -> int:
    res = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *cmd],
                         env=env, capture_output=True, text=True, timeout=900)
    if res.returncode != 0:
        raise RuntimeError(f"{cmd[0]} under callgrind failed:\n{res.stderr[-2000:]}")
    m = re.search(r"Collected : (\d+)", res.stderr)
    if m is None:
        raise RuntimeError(f"no instruction count in callgrind's output:\n{res.stderr[-1000:]}")
    out.unlink(missing_ok=True)
    return int(m.group(1))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--server-binary", required=True)
    ap.add_argument("--out", default=results.default_out(), help="where instructions.json goes")
    args = ap.parse_args()
    pod = BenchPod(args.server_binary, "bench", "instructions")
    env, sa = pod.env, pod.sa
    scratch = sa.parent / "callgrind.out"

    def per_item(make: object, n: int) -> float:
        """Instructions per item: (count(2n) - count(n)) / n."""
        assert callable(make)
        counts = []
        for k in (n, 2 * n):
            cmd, size = make(k)
            size(k)
            counts.append(count(cmd, env, scratch))
        return (counts[1] - counts[0]) / n

    py = sys.executable
    watch: dict[str, float] = {}
    logs: dict[str, float] = {}
    print(f"Instructions per item (callgrind) on {pod.url}")
    try:
        def watch_size(k: int) -> None:
            pod.control("PUT", "/_control/watchbench", {"n": k, "size": 4096})

        for name in ("incluster", "json.loads lines", "orjson.loads lines"):
            print(f"  watch: {name}", flush=True)
            code = watch_bench.CONSUMERS[name]
            watch[name] = per_item(lambda k, c=code: ([py, "-c", c, str(k)], watch_size),
                                   WATCH_N)

        pod.control("POST", "/_control/pods", {"namespace": "bench", "name": "logbench",
                                           "containers": ["app"]})
        url = f"{pod.url}/api/v1/namespaces/bench/pods/logbench/log"

        def log_size(k: int) -> None:
            pod.control("PUT", "/_control/logbench", {"n": k, "size": logs_bench.SIZE})

        print("  logs: incluster", flush=True)
        logs["incluster"] = per_item(
            lambda k: ([py, "-c", logs_bench.CONSUMERS["incluster"], str(k)], log_size), LOG_N)
        print("  logs: curl", flush=True)
        logs["curl"] = per_item(
            lambda k: (["curl", "-sS", "--fail", "--cacert", str(sa / "ca.crt"), "-H",
                        f"Authorization: Bearer {TOKEN}", "-o", "/dev/null", url], log_size),
            LOG_N)
    finally:
        pod.stop()

    table = [(f"{label}: {k}", v, v / d["incluster"])
             for label, d in (("watch event, ~4 KB Pod, as Python objects", watch),
                              (f"log line of {logs_bench.SIZE} B", logs))
             for k, v in d.items()]
    w = max(len(t[0]) for t in table)
    print()
    print(f"| {'workload':<{w}} | {'instructions / item':>20} | {'it / incluster':>14} |")
    print("|" + "-" * (w + 2) + "|" + "-" * 22 + "|" + "-" * 16 + "|")
    for name, v, r in table:
        print(f"| {name:<{w}} | {v:>20,.0f} | {r:>13.2f}x |")

    rows = [
        results.row("instructions per watch event (~4 KB Pod, as Python objects)",
                    "instructions", "lower", dict(watch), chart=False),
        results.row(f"instructions per log line ({logs_bench.SIZE} B)", "instructions",
                    "lower", dict(logs), chart=False),
    ]
    results.write(
        args.out, "instructions",
        "Instructions per item (callgrind), which do not move with the machine's load",
        f"the difference between runs of N and 2N items, divided by N (watch N = {WATCH_N:,}, "
        f"logs N = {LOG_N:,}); user-space instructions of the consumer process only",
        ["incluster", "json.loads lines", "orjson.loads lines", "curl"], rows,
        ["Instruction counts are not time (a multiply chain costs more than its count), but "
         "they repeat to within about 0.5% between runs, so they judge a change where "
         "wall-clock runs cannot."])


if __name__ == "__main__":
    main()
