"""Watch throughput: incluster next to the official `kubernetes` client, lightkube, kr8s (its
synchronous and its asyncio API), and raw lines decoded by `json.loads` or by orjson (the
practical ceiling for Python objects), all consuming the same stream of realistic ~4 KB Pod
events as Python objects; the C API's events/s and MB/s; peak RSS at 20,000 and 100,000
events.

Run by benches/run.sh (a throwaway venv with the peers). The server (release test server) is
pinned to core 0 and the consumers to core 1. Every run counts its events and checks them.
The results also go to OUT/watch.json.

    python benches/watch_bench.py --server-binary PATH --lib-dir DIR [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import results
from benchpod import BenchPod

ROOT = Path(__file__).resolve().parents[1]

# Each consumer: a program that reads N events from the Pod watch (or the raw stream) of the
# benchmark server, checks each one, and prints events/s and its peak RSS.
# The peak RSS is the kernel's VmHWM of this process. Not getrusage's ru_maxrss: across the
# fork and exec that start a consumer, Linux carries the parent's peak into the child's
# ru_maxrss, so it would show at least this script's own RSS.
COMMON = (
    "import os, sys, time\n"
    "N = int(sys.argv[1]); SA = os.environ['INCLUSTER_SERVICEACCOUNT_DIR']\n"
    "URL = 'https://127.0.0.1:' + os.environ['KUBERNETES_SERVICE_PORT']\n"
    "def done(n, t):\n"
    "    assert n == N, (n, N)\n"
    "    rate = n / (time.perf_counter() - t)\n"
    "    rss = next(int(l.split()[1]) for l in open('/proc/self/status')\n"
    "               if l.startswith('VmHWM:'))\n"
    "    print(rate, rss)\n"
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
    # kr8s's synchronous API. The class (not "pods") names the kind, as lightkube's Pod does:
    # a name would make kr8s ask the API discovery, which the test server does not serve.
    "kr8s": COMMON
    + "import warnings\n"
    "warnings.filterwarnings('ignore', message='Kubernetes version')\n"
    "import kr8s\n"
    "from kr8s.objects import Pod\n"
    "api = kr8s.api(serviceaccount=SA)\n"
    "t = time.perf_counter(); n = 0\n"
    "for kind, pod in api.watch(Pod, namespace='bench'):\n"
    "    assert pod.metadata.name.startswith('bench-pod-')\n"
    "    n += 1\n"
    "    if n == N: break\n"
    "done(n, t)\n",
    "kr8s.asyncio": COMMON
    + "import warnings\n"
    "warnings.filterwarnings('ignore', message='Kubernetes version')\n"
    "import asyncio, kr8s.asyncio\n"
    "from kr8s.asyncio.objects import Pod\n"
    "async def main():\n"
    "    api = await kr8s.asyncio.api(serviceaccount=SA)\n"
    "    t = time.perf_counter(); n = 0\n"
    "    async for kind, pod in api.watch(Pod, namespace='bench'):\n"
    "        assert pod.metadata.name.startswith('bench-pod-')\n"
    "        n += 1\n"
    "        if n == N: break\n"
    "    done(n, t)\n"
    "asyncio.run(main())\n",
    **{
        f"{decoder} lines": COMMON
        + f"import http.client, ssl, {decoder.split('.')[0]}\n"
        "ctx = ssl.create_default_context(cafile=SA + '/ca.crt')\n"
        "conn = http.client.HTTPSConnection('127.0.0.1', int(URL.rsplit(':', 1)[1]),"
        " context=ctx)\n"
        "t = time.perf_counter(); n = 0\n"
        "conn.request('GET', '/api/v1/namespaces/bench/pods?watch=1',\n"
        "             headers={'Authorization': 'Bearer ' + open(SA + '/token').read()})\n"
        "r = conn.getresponse()\n"
        "for line in r:\n"
        f"    e = {decoder}(line)\n"
        "    assert e['object']['metadata']['name'].startswith('bench-pod-')\n"
        "    n += 1\n"
        "    if n == N: break\n"
        "done(n, t)\n"
        for decoder in ("json.loads", "orjson.loads")
    },
}

# The slow consumers run in the first rounds only (each of their rounds takes 11-18 s here, and
# their spread is small), so that benches/run.sh stays within 10 minutes on 2 cores.
ROUND_CAP = {"kr8s": 2, "kr8s.asyncio": 2}


def run_consumer(code: str, n: int, env: dict[str, str]) -> tuple[float, int]:
    out = subprocess.run([sys.executable, "-c", code, str(n)], env=env, capture_output=True,
                         text=True, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(f"consumer failed:\n{out.stderr[-2000:]}")
    rate, rss = out.stdout.split()
    return float(rate), int(rss)


def cli_rate(cmd: list[str], n: int, env: dict[str, str]) -> float:
    """Events per second of a watch command as a whole process; checks it printed n events."""
    t = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, timeout=600)
    elapsed = time.perf_counter() - t
    if out.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed: {out.stderr.decode()[-2000:]}")
    lines = out.stdout.count(b"\n")
    assert n <= lines <= n + 5, (cmd, lines)
    return n / elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--server-binary", required=True)
    ap.add_argument("--lib-dir", required=True, help="where the release libincluster.so is")
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--rounds", type=int, default=5,
                    help="runs of every consumer, interleaved; the tables show medians")
    ap.add_argument("--out", default=results.default_out(), help="where watch.json goes")
    args = ap.parse_args()

    pod = BenchPod(args.server_binary, "bench", "watchbench")
    env, sa = pod.env, pod.sa

    def size_stream(n: int) -> None:
        pod.control("PUT", "/_control/watchbench", {"n": n, "size": args.size})

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
                if r < ROUND_CAP.get(k, args.rounds):
                    runs[k].append(run_consumer(code, args.events, env))
        rates = {k: (statistics.median(x[0] for x in v), max(x[1] for x in v))
                 for k, v in runs.items()}
        # The command lines, as whole processes: `incluster watch` (a JSON event per line)
        # next to `kubectl get pods --watch -o name` (a name per event; kubectl still decodes
        # every object). Both list nothing here first and end when the stream does.
        print("  command lines: incluster watch, kubectl get --watch", flush=True)
        cli_cmds = {"incluster CLI": [str(Path(args.lib_dir) / "incluster"), "watch",
                                      "/api/v1/namespaces/bench/pods", "--no-resume"]}
        if pod.kubectl is not None:
            cli_cmds["kubectl"] = [*pod.kubectl, "get", "pods", "-n", "bench", "--watch",
                                   "-o", "name"]
        cli_runs: dict[str, list[float]] = {k: [] for k in cli_cmds}
        for _ in range(3):
            for k, cmd in cli_cmds.items():
                cli_runs[k].append(cli_rate(cmd, args.events, env))
        cli_rates = {k: statistics.median(v) for k, v in cli_runs.items()}
        print("  incluster, 100,000 events (RSS)", flush=True)
        size_stream(100_000)
        big = run_consumer(CONSUMERS["incluster"], 100_000, env)
        print("  C API, 100,000 events", flush=True)
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
    print(f"| {'kubectl':<28} | {'n/a':>10} | {'':>14} | {'':>11} |")
    print("\ncommand lines, whole process (events/s, median of 3): "
          + "; ".join(f"{k} {v:.0f}" for k, v in cli_rates.items()))
    spread = {k: (min(x[0] for x in v), max(x[0] for x in v)) for k, v in runs.items()}
    print("\nspread over the rounds (events/s, min-max): "
          + "; ".join(f"{k} {lo:.0f}-{hi:.0f}" for k, (lo, hi) in spread.items()))
    print(f"\ngoal: incluster >= 60,000 events/s as dicts; measured {inc:.0f}")
    print(f"C API, 100,000 events: {c_api['events_per_s']:.0f} events/s, "
          f"{c_api['mb_per_s']:.1f} MB/s of object JSON, peak RSS {c_api['max_rss_kb'] / 1024:.1f} MB")
    print(f"Python incluster peak RSS: {rates['incluster'][1] / 1024:.1f} MB after "
          f"{args.events} events, {big[1] / 1024:.1f} MB after 100,000 events "
          f"({big[0]:.0f} events/s): flat when these are close")
    print(f"kubectl: n/a ({KUBECTL_NA})")
    print("rounds: " + ", ".join(f"{k} {len(v)}" for k, v in runs.items()))

    spread_of = {k: [lo, hi] for k, (lo, hi) in spread.items()}
    json_rows = [
        results.row(f"watch, {args.events:,} Pod events of ~{args.size} B as Python objects",
                    "events/s", "higher", {k: v[0] for k, v in rates.items()} | {"kubectl": None},
                    na={"kubectl": KUBECTL_NA}, spread=spread_of, goal="≥ 60,000",
                    label=f"watch, {args.events:,} ~4 KB Pod events (events/s)"),
        results.row(f"watch, {args.events:,} Pod events, command line as a whole process "
                    "(`incluster watch` in the incluster column, `kubectl get --watch -o name`)",
                    "events/s", "higher",
                    {"incluster": cli_rates["incluster CLI"], "kubectl": cli_rates.get("kubectl")},
                    label=f"watch, {args.events:,} events, command line (events/s)"),
        results.row(f"watch peak RSS, {args.events:,} events", "MB", "lower",
                    {k: v[1] / 1024 for k, v in rates.items()}),
        results.row("watch peak RSS, 100,000 events, Python", "MB", "lower",
                    {"incluster": big[1] / 1024}, chart=False),
        results.row("watch, 100,000 events, Python", "events/s", "higher",
                    {"incluster": big[0]}, chart=False),
        results.row("watch, 100,000 events, C API", "events/s", "higher",
                    {"incluster": float(c_api["events_per_s"])}, chart=False),
        results.row("watch, 100,000 events, C API, object JSON", "MB/s", "higher",
                    {"incluster": float(c_api["mb_per_s"])}, chart=False),
        results.row("watch peak RSS, 100,000 events, C API", "MB", "lower",
                    {"incluster": c_api["max_rss_kb"] / 1024}, chart=False),
    ]
    results.write(
        args.out, "watch",
        "Watch: realistic ~4 KB Pod events consumed as Python objects",
        ("server on core 0, consumers on core 1; " if pod.pinned else "")
        + f"{args.rounds} interleaved rounds (kr8s: {ROUND_CAP['kr8s']}), medians",
        list(CONSUMERS) + ["kubectl"], json_rows,
        ["incluster: dicts; kubernetes: V1Pod from `watch.Watch().stream`; lightkube: Pod from "
         "`Client.watch`; kr8s: Pod objects from `api.watch(Pod)` (sync API) and from the "
         "asyncio API; `json.loads` / `orjson.loads` lines: dicts from raw lines read with "
         "http.client (no resume, no error handling: the ceiling).",
         f"kubectl: n/a ({KUBECTL_NA})."])


KUBECTL_NA = ("a command, not a library: it yields no Python objects; see the command-line row")


if __name__ == "__main__":
    main()
