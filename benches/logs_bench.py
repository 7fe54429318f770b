"""Log throughput: 200,000 lines of ~100 B consumed in Python by incluster, next to curl (no
parsing: the transfer rate), the official `kubernetes` client and lightkube on the same
server; and the delay from a line being written by the server to its arrival in a Python loop.

Run by benches/run.sh (a throwaway venv with the peers). Server on core 0, clients on core 1.

    python benches/logs_bench.py --server-binary PATH
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from benchpod import TOKEN, BenchPod

N = 200_000
SIZE = 100
ROUNDS = 9

COMMON = (
    "import os, sys, time\n"
    "SA = os.environ['INCLUSTER_SERVICEACCOUNT_DIR']\n"
    "N = int(sys.argv[1])\n"
)

CONSUMERS = {
    # Each loop runs inside a function, as real code does (module-level loops pay for a
    # globals-dict store per iteration).
    "incluster": COMMON
    + "import incluster\n"
    "c = incluster.Client()\n"
    "def consume():\n"
    "    n = 0\n"
    "    for line in c.logs('logbench', namespace='bench'):\n"
    "        n += 1\n"
    "    return n\n"
    "t = time.perf_counter(); n = consume()\n"
    "dt = time.perf_counter() - t\n"
    "assert n == N, n\n"
    "print(n / dt)\n",
    "kubernetes": COMMON
    + "from kubernetes import client\n"
    "from kubernetes.config.incluster_config import InClusterConfigLoader\n"
    "InClusterConfigLoader(token_filename=SA + '/token', cert_filename=SA + '/ca.crt')"
    ".load_and_set()\n"
    "v1 = client.CoreV1Api()\n"
    "t = time.perf_counter()\n"
    "lines = v1.read_namespaced_pod_log('logbench', 'bench').splitlines()\n"
    "dt = time.perf_counter() - t\n"
    "assert len(lines) == N, len(lines)\n"
    "print(N / dt)\n",
    "lightkube": COMMON
    + "import lightkube\n"
    "from lightkube.config.kubeconfig import KubeConfig\n"
    "c = lightkube.Client(config=KubeConfig.from_service_account(SA))\n"
    "def consume():\n"
    "    n = 0\n"
    "    for line in c.log('logbench', namespace='bench'):\n"
    "        n += 1\n"
    "    return n\n"
    "t = time.perf_counter(); n = consume()\n"
    "dt = time.perf_counter() - t\n"
    "assert n == N, n\n"
    "print(n / dt)\n",
}

LATENCY = """
import os, time, json, threading, http.client, ssl, statistics, datetime
import incluster
SA = os.environ['INCLUSTER_SERVICEACCOUNT_DIR']
port = int(os.environ['KUBERNETES_SERVICE_PORT'])
c = incluster.Client()
def append(i):
    ctx = ssl.create_default_context(cafile=SA + '/ca.crt')
    conn = http.client.HTTPSConnection('127.0.0.1', port, context=ctx)
    body = json.dumps({"namespace": "bench", "pod": "live", "lines": [f"line {i}"]})
    conn.request('POST', '/_control/logs', body=body)
    conn.getresponse().read()
delays = []
def writer():
    for i in range(60):
        time.sleep(0.02)
        append(i)
threading.Thread(target=writer, daemon=True).start()
with c.logs('live', namespace='bench', follow=True, timestamps=True) as lines:
    for line in lines:
        now = time.time_ns()
        ts = line.split(' ', 1)[0]
        secs, frac = ts.rstrip('Z').split('.') if '.' in ts else (ts.rstrip('Z'), '0')
        base = datetime.datetime.fromisoformat(secs).replace(tzinfo=datetime.timezone.utc)
        written = int(base.timestamp()) * 10**9 + int(frac.ljust(9, '0')[:9])
        delays.append((now - written) / 1000)
        if len(delays) == 60:
            break
delays.sort()
print(statistics.median(delays[10:]), delays[-1])
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--server-binary", required=True)
    args = ap.parse_args()
    pod = BenchPod(args.server_binary, "bench", "logbench")
    env, sa = pod.env, pod.sa
    url = f"{pod.url}/api/v1/namespaces/bench/pods/logbench/log"

    def control(method: str, path: str, body: object) -> None:
        subprocess.run(["curl", "-sS", "--fail", "--cacert", str(sa / "ca.crt"), "-X", method,
                        "-d", json.dumps(body), pod.url + path], check=True,
                       capture_output=True)

    print(f"Log benchmark: {N} lines of {SIZE} B on {pod.url}"
          + ("; server on core 0, clients on core 1" if pod.pinned else ""))
    try:
        control("PUT", "/_control/logbench", {"n": N, "size": SIZE})
        control("POST", "/_control/pods", {"namespace": "bench", "name": "logbench",
                                           "containers": ["app"]})
        control("POST", "/_control/pods", {"namespace": "bench", "name": "live",
                                           "containers": ["app"]})
        # Interleaved rounds (curl, then each consumer, again and again): a slow spell of this
        # shared machine hits every client alike. The table shows medians, and the spread.
        runs: dict[str, list[float]] = {"curl (transfer only)": [], **{k: [] for k in CONSUMERS}}
        for r in range(ROUNDS):
            print(f"  round {r + 1}/{ROUNDS}", flush=True)
            out = subprocess.run(
                ["curl", "-sS", "--fail", "--cacert", str(sa / "ca.crt"), "-H",
                 f"Authorization: Bearer {TOKEN}", "-o", "/dev/null", "-w",
                 "%{size_download} %{time_total}", url],
                check=True, capture_output=True, text=True).stdout.split()
            assert int(out[0]) == N * SIZE, out
            runs["curl (transfer only)"].append(N / float(out[1]))
            for name, code in CONSUMERS.items():
                if name != "incluster" and r >= 3:
                    continue  # the slow peers: three rounds are enough
                res = subprocess.run([sys.executable, "-c", code, str(N)], env=env,
                                     capture_output=True, text=True, timeout=600)
                if res.returncode != 0:
                    raise RuntimeError(f"{name} failed:\n{res.stderr[-2000:]}")
                runs[name].append(float(res.stdout))
        rates = {k: statistics.median(v) for k, v in runs.items()}

        # The same at 10x the size, where connection setup no longer counts: the per-line
        # cost of each side alone.
        big_n = 10 * N
        control("PUT", "/_control/logbench", {"n": big_n, "size": SIZE})
        steady: dict[str, list[float]] = {"curl": [], "incluster": []}
        for _ in range(3):
            out = subprocess.run(
                ["curl", "-sS", "--fail", "--cacert", str(sa / "ca.crt"), "-H",
                 f"Authorization: Bearer {TOKEN}", "-o", "/dev/null", "-w",
                 "%{size_download} %{time_total}", url],
                check=True, capture_output=True, text=True).stdout.split()
            assert int(out[0]) == big_n * SIZE, out
            steady["curl"].append(big_n / float(out[1]))
            res = subprocess.run([sys.executable, "-c", CONSUMERS["incluster"], str(big_n)],
                                 env=env, capture_output=True, text=True, timeout=600,
                                 check=True)
            steady["incluster"].append(float(res.stdout))
        lat = subprocess.run([sys.executable, "-c", LATENCY], env=env, capture_output=True,
                             text=True, timeout=120)
        if lat.returncode != 0:
            raise RuntimeError(lat.stderr[-2000:])
        p50, worst = (float(x) for x in lat.stdout.split())
    finally:
        pod.stop()
    inc = rates["incluster"]
    print()
    print(f"| {'consumer':<22} | {'lines/s':>12} | {'MB/s':>8} | {'incluster / it':>14} |")
    print("|" + "-" * 24 + "|" + "-" * 14 + "|" + "-" * 10 + "|" + "-" * 16 + "|")
    for k, r in rates.items():
        print(f"| {k:<22} | {r:>12,.0f} | {r * SIZE / 1e6:>8.1f} | {inc / r:>13.2f}x |")
    print("\nspread over the rounds (lines/s, min-max): "
          + "; ".join(f"{k} {min(v):,.0f}-{max(v):,.0f}" for k, v in runs.items()))
    print(f"\ngoal: incluster >= 0.9x curl's rate; measured {inc / rates['curl (transfer only)']:.2f}x")
    sc, si = statistics.median(steady["curl"]), statistics.median(steady["incluster"])
    print(f"steady state, {10 * N:,} lines: curl {sc:,.0f} lines/s, incluster {si:,.0f} "
          f"({si / sc:.2f}x)")
    print(f"line written by the server -> in the Python loop: median {p50:.0f} µs, worst {worst:.0f} µs")


if __name__ == "__main__":
    main()
