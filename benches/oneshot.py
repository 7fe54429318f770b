"""One `incluster get /version` as a whole process: the static musl CLI that dist/build.sh
ships, next to the glibc release build and curl, against the project's loopback HTTPS test
server (pinned to core 0, the clients on core 1, as in the other benchmarks). Each run starts
the process, makes the TLS handshake, checks the answer and exits; runs are interleaved so
that noise hits all alike. `/bin/true` gives the cost of starting any process here.

    cargo build --release --bin incluster --bin testserver && bash dist/build.sh --c-only
    python3 benches/oneshot.py [--runs 300]

Paths default to $CARGO_TARGET_DIR (else $INCLUSTER_CACHE/target) and dist/build.sh's folder
for this checkout. Prints a Markdown table (milliseconds, and each binary's size).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from benchpod import TOKEN, BenchPod  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("INCLUSTER_CACHE") or Path.home() / ".cache/incluster")
TARGET = Path(os.environ.get("CARGO_TARGET_DIR") or CACHE / "target")


def dist_dir() -> Path:
    return Path(subprocess.run(["bash", str(ROOT / "dist/build.sh"), "--print-dir"], check=True,
                               capture_output=True, text=True).stdout.strip())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--server-binary", default=str(TARGET / "release/testserver"))
    ap.add_argument("--static", default=None, help="the static CLI (default: dist/build.sh's)")
    ap.add_argument("--glibc", default=str(TARGET / "release/incluster"))
    args = ap.parse_args()
    static = args.static or str(dist_dir() / "incluster")
    for p in (args.server_binary, static, args.glibc):
        if not os.access(p, os.X_OK):
            sys.exit(f"oneshot.py: {p} is missing (see the usage at the top of this file)")

    pod = BenchPod(args.server_binary, "bench", "oneshot")
    header = pod.sa / "auth-header"
    header.write_text(f"Authorization: Bearer {TOKEN}\n")
    commands = {
        "incluster static (musl)": [static, "get", "/version"],
        "incluster glibc (release)": [args.glibc, "get", "/version"],
        "curl": ["curl", "-sS", "--fail", "--cacert", str(pod.sa / "ca.crt"), "-H", f"@{header}",
                 pod.url + "/version"],
        "/bin/true": ["/bin/true"],
    }
    times: dict[str, list[float]] = {k: [] for k in commands}
    try:
        print(f"one GET /version per process, {args.runs} runs each; test server {pod.where()}",
              flush=True)
        for i in range(args.runs + 5):
            for name, cmd in commands.items():
                t = time.perf_counter()
                out = subprocess.run(cmd, env=pod.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                ms = (time.perf_counter() - t) * 1e3
                if out.returncode != 0 or (name != "/bin/true" and b"gitVersion" not in out.stdout):
                    sys.exit(f"{name} failed: {out.returncode} {out.stderr.decode()[:300]}")
                if i >= 5:  # the first runs warm the page cache
                    times[name].append(ms)
    finally:
        pod.stop()

    print("\n| one process, GET /version | median ms | p90 ms | min ms | binary size |")
    print("|---|---:|---:|---:|---:|")
    for name, xs in times.items():
        xs.sort()
        path = commands[name][0]
        size = f"{os.path.getsize(path) / 1e6:.2f} MB" if name.startswith("incluster") else ""
        print(f"| {name} | {statistics.median(xs):.2f} | {xs[len(xs) * 9 // 10]:.2f} "
              f"| {xs[0]:.2f} | {size} |")


if __name__ == "__main__":
    main()
