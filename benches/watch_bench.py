"""Watch throughput: incluster next to the official `kubernetes` client, lightkube and plain
`json.loads` on raw lines, all consuming the same stream of realistic ~4 KB Pod events as
Python objects; the C API's events/s and MB/s; peak RSS at 20,000 and 100,000 events.

Run by benches/run.sh (a throwaway venv with the peers). The server (release test server) is
pinned to core 0 and the consumers to core 1. Every run counts its events and checks them.

    python benches/watch_bench.py --server-binary PATH --lib-dir DIR
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from benchpod import BenchPod

ROOT = Path(__file__).resolve().parents[1]

# Each consumer: a program that reads N events from the Pod watch (or the raw stream) of the
# benchmark server, checks each one, and prints events/s and its peak RSS.
COMMON = (
    "import os, sys, time, resource\n"
    "N = int(sys.argv[1]); SA = os.environ['INCLUSTER_SERVICEACCOUNT_DIR']\n"
    "URL = 'https://127.0.0.1:' + os.environ['KUBERNETES_SERVICE_PORT']\n"
    "def done(n, t):\n"
    "    assert n == N, (n, N)\n"
    "    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "    print(n / (time.perf_counter() - t), rss)\n"
)

CONSUMERS = {
    "incluster": COMMON
    + "import incluster\n"
    "c = incluster.Client()\n"
    "t = time.perf_counter(); n = 0\n"
    "with c.watch('/api/v1/namespaces/bench/pods', resume=False) as w:\n"
    "    for e in w:\n"
    "        assert e.object['metadata']['name'].startswith('bench-pod-')\n"
    "        n += 1\n"
    "        if n == N: break\n"
    "done(n, t)\n",
    "kubernetes": COMMON
    + "from kubernetes import client, watch\n"
    "from kubernetes.config.incluster_config import InClusterConfigLoader\n"
    "InClusterConfigLoader(token_filename=SA + '/token', cert_filename=SA + '/ca.crt')"
    ".load_and_set()\n"
    "v1 = client.CoreV1Api()\n"
    "t = time.perf_counter(); n = 0\n"
    "for e in watch.Watch().stream(v1.list_namespaced_pod, 'bench'):\n"
    "    assert e['object'].metadata.name.startswith('bench-pod-')\n"
    "    n += 1\n"
    "    if n == N: break\n"
    "done(n, t)\n",
    "lightkube": COMMON
    + "import lightkube\n"
    "from lightkube.config.kubeconfig import KubeConfig\n"
    "from lightkube.resources.core_v1 import Pod\n"
    "c = lightkube.Client(config=KubeConfig.from_service_account(SA))\n"
    "t = time.perf_counter(); n = 0\n"
    "for kind, pod in c.watch(Pod, namespace='bench'):\n"
    "    assert pod.metadata.name.startswith('bench-pod-')\n"
    "    n += 1\n"
    "    if n == N: break\n"
    "done(n, t)\n",
    "json.loads lines": COMMON
    + "import http.client, json, ssl\n"
    "ctx = ssl.create_default_context(cafile=SA + '/ca.crt')\n"
    "conn = http.client.HTTPSConnection('127.0.0.1', int(URL.rsplit(':', 1)[1]), context=ctx)\n"
    "t = time.perf_counter(); n = 0\n"
    "conn.request('GET', '/api/v1/namespaces/bench/pods?watch=1',\n"
    "             headers={'Authorization': 'Bearer ' + open(SA + '/token').read()})\n"
    "r = conn.getresponse()\n"
    "for line in r:\n"
    "    e = json.loads(line)\n"
    "    assert e['object']['metadata']['name'].startswith('bench-pod-')\n"
    "    n += 1\n"
    "    if n == N: break\n"
    "done(n, t)\n",
}


def run_consumer(code: str, n: int, env: dict[str, str]) -> tuple[float, int]:
    out = subprocess.run([sys.executable, "-c", code, str(n)], env=env, capture_output=True,
                         text=True, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(f"consumer failed:\n{out.stderr[-2000:]}")
    rate, rss = out.stdout.split()
    return float(rate), int(rss)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--server-binary", required=True)
    ap.add_argument("--lib-dir", required=True, help="where the release libincluster.so is")
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--rounds", type=int, default=5,
                    help="runs of every consumer, interleaved; the tables show medians")
    args = ap.parse_args()

    pod = BenchPod(args.server_binary, "bench", "watchbench")
    env, sa = pod.env, pod.sa

    def size_stream(n: int) -> None:
        import http.client
        import ssl
        ctx = ssl.create_default_context(cafile=str(sa / "ca.crt"))
        conn = http.client.HTTPSConnection("127.0.0.1", pod.port, context=ctx)
        conn.request("PUT", "/_control/watchbench", body=json.dumps({"n": n, "size": args.size}))
        assert conn.getresponse().status == 200
        conn.close()

    print(f"Watch benchmark: {args.events} Pod events of {args.size} B on {pod.url}"
          + ("; server on core 0, consumers on core 1" if pod.pinned else ""))
    try:
        size_stream(args.events)
        # Interleaved rounds: a slow spell of this shared machine hits every consumer alike,
        # and the median of each is what the table shows (with the spread).
        runs: dict[str, list[tuple[float, int]]] = {k: [] for k in CONSUMERS}
        for r in range(args.rounds):
            print(f"  round {r + 1}/{args.rounds}", flush=True)
            for k, code in CONSUMERS.items():
                runs[k].append(run_consumer(code, args.events, env))
        rates = {k: (statistics.median(x[0] for x in v), max(x[1] for x in v))
                 for k, v in runs.items()}
        size_stream(100_000)
        big = run_consumer(CONSUMERS["incluster"], 100_000, env)
        exe = pod.sa.parent / "watch_mbps"
        subprocess.run(["cc", "-O2", "-std=c11", "-I", str(ROOT / "include"),
                        str(ROOT / "benches/c/watch_mbps.c"), "-L", args.lib_dir,
                        f"-Wl,-rpath,{args.lib_dir}", "-lincluster", "-o", str(exe)], check=True)
        c_out = subprocess.run([str(exe), "100000", str(args.size)], env=env,
                               capture_output=True, text=True, check=True)
        c_api = json.loads(c_out.stdout)
    finally:
        pod.stop()

    inc = rates["incluster"][0]
    print()
    print(f"| {'consumer (Python objects)':<28} | {'events/s':>10} | {'incluster / it':>14} | "
          f"{'peak RSS MB':>11} |")
    print("|" + "-" * 30 + "|" + "-" * 12 + "|" + "-" * 16 + "|" + "-" * 13 + "|")
    for k, (rate, rss) in rates.items():
        print(f"| {k:<28} | {rate:>10.0f} | {inc / rate:>13.1f}x | {rss / 1024:>11.1f} |")
    spread = {k: (min(x[0] for x in v), max(x[0] for x in v)) for k, v in runs.items()}
    print("\nspread over the rounds (events/s, min-max): "
          + "; ".join(f"{k} {lo:.0f}-{hi:.0f}" for k, (lo, hi) in spread.items()))
    print(f"\ngoal: incluster >= 60,000 events/s as dicts; measured {inc:.0f}")
    print(f"C API, 100,000 events: {c_api['events_per_s']:.0f} events/s, "
          f"{c_api['mb_per_s']:.1f} MB/s of object JSON, peak RSS {c_api['max_rss_kb'] / 1024:.1f} MB")
    print(f"Python incluster peak RSS: {rates['incluster'][1] / 1024:.1f} MB after "
          f"{args.events} events, {big[1] / 1024:.1f} MB after 100,000 events "
          f"({big[0]:.0f} events/s): flat when these are close")


if __name__ == "__main__":
    main()
