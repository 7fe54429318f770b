"""incluster from Python, side by side with the official `kubernetes` client and lightkube.

Run by benches/run.sh (which installs all three into a throwaway venv). Against the project's
loopback HTTPS test server (release build), pinned to core 0 while the clients run on core 1.
Prints one table with the ratio of each peer to incluster; every run checks its answer.

    python benches/python_bench.py --server-binary PATH
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from benchpod import BenchPod


GET_VERSION = {
    "incluster": (
        "import incluster\n"
        "c = incluster.Client()\n"
        "v = c.get('/version')\n"
    ),
    "kubernetes": (
        "import os\n"
        "from kubernetes import client\n"
        "from kubernetes.config.incluster_config import InClusterConfigLoader\n"
        "sa = os.environ['INCLUSTER_SERVICEACCOUNT_DIR']\n"
        "InClusterConfigLoader(token_filename=sa + '/token', cert_filename=sa + '/ca.crt')"
        ".load_and_set()\n"
        "c = client.VersionApi()\n"
        "v = c.get_code().to_dict()\n"
        "v = {'gitVersion': v['git_version']}\n"
    ),
    "lightkube": (
        "import os, lightkube\n"
        "from lightkube.config.kubeconfig import KubeConfig\n"
        "cfg = KubeConfig.from_service_account(os.environ['INCLUSTER_SERVICEACCOUNT_DIR'])\n"
        "c = lightkube.Client(config=cfg)\n"
        # lightkube has no typed /version call: use its configured HTTP client.
        "v = c._client._client.get('/version').json()\n"
    ),
}

# The statement each client repeats on a kept-alive connection.
REPEAT = {
    "incluster": "v = c.get('/version')",
    "kubernetes": "v = {'gitVersion': c.get_code().git_version}",
    "lightkube": "v = c._client._client.get('/version').json()",
}

IMPORT = {
    "incluster": "import incluster",
    "kubernetes": "from kubernetes import client, config",
    "lightkube": "import lightkube",
}


def run_py(code: str, env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{code}\n{out.stderr}")
    return out.stdout


def median_of(n: int, f) -> float:  # type: ignore[no-untyped-def]
    return statistics.median(f() for _ in range(n))


def import_ms(name: str, env: dict[str, str]) -> float:
    code = (
        "import time, sys\n"
        "t = time.perf_counter()\n"
        f"{IMPORT[name]}\n"
        "sys.stdout.write(str((time.perf_counter() - t) * 1e3))\n"
    )
    return median_of(15, lambda: float(run_py(code, env)))


def rss_kb() -> str:
    return (
        "def rss():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmRSS:'):\n"
        "            return int(line.split()[1])\n"
    )


def import_rss_mb(name: str, env: dict[str, str]) -> float:
    code = rss_kb() + f"a = rss()\n{IMPORT[name]}\nprint((rss() - a) / 1024)\n"
    return median_of(5, lambda: float(run_py(code, env)))


def whole_process_ms(env: dict[str, str], runs: int) -> dict[str, float]:
    times: dict[str, list[float]] = {k: [] for k in GET_VERSION}
    for i in range(runs + 2):
        for name, code in GET_VERSION.items():  # interleaved: noise hits all alike
            check = code + "assert v['gitVersion'] == 'v1.37.2-incluster-test', v\n"
            t = time.perf_counter()
            run_py(check, env)
            if i >= 2:
                times[name].append((time.perf_counter() - t) * 1e3)
    return {k: statistics.median(v) for k, v in times.items()}


def keepalive_us(name: str, env: dict[str, str], n: int) -> tuple[float, float]:
    code = (
        GET_VERSION[name]
        + "import time\n"
        + f"for _ in range(200):\n    {REPEAT[name]}\n"
        + "xs = []\n"
        + f"for _ in range({n}):\n"
        + "    t = time.perf_counter()\n"
        + f"    {REPEAT[name]}\n"
        + "    xs.append((time.perf_counter() - t) * 1e6)\n"
        + "    assert v['gitVersion'] == 'v1.37.2-incluster-test'\n"
        + "xs.sort()\n"
        + "print(xs[len(xs) // 2], xs[len(xs) * 99 // 100])\n"
    )
    p50, p99 = run_py(code, env).split()
    return float(p50), float(p99)


def threads_rps(name: str, env: dict[str, str], threads: int, per_thread: int) -> float:
    """Requests per second with `threads` threads sharing one client."""
    code = (
        GET_VERSION[name]
        + "import threading, time\n"
        + f"for _ in range(100):\n    {REPEAT[name]}\n"
        + "def work():\n"
        + f"    for _ in range({per_thread}):\n"
        + f"        {REPEAT[name]}\n"
        + "        assert v['gitVersion'] == 'v1.37.2-incluster-test'\n"
        + f"ts = [threading.Thread(target=work) for _ in range({threads})]\n"
        + "t = time.perf_counter()\n"
        + "[x.start() for x in ts]; [x.join() for x in ts]\n"
        + f"print({threads * per_thread} / (time.perf_counter() - t))\n"
    )
    return float(run_py(code, env))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--server-binary", required=True)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--keepalive", type=int, default=3000)
    args = ap.parse_args()

    pod = BenchPod(args.server_binary, "default", "pybench")
    env = pod.env
    print(
        f"Python clients benchmark: test server {pod.where()}, {os.cpu_count()} cores"
    )
    try:
        bare = median_of(15, lambda: _timed(lambda: run_py("pass", env)))
        rows: list[tuple[str, dict[str, float], str]] = []
        rows.append(("import time (ms)", {k: import_ms(k, env) for k in IMPORT}, "≤ 10 ms"))
        rows.append(
            ("RSS added by the import (MB)", {k: import_rss_mb(k, env) for k in IMPORT}, "≤ 2 MB")
        )
        rows.append(("one GET /version, whole process (ms)", whole_process_ms(env, args.runs),
                     "≤ 25 ms"))
        ka = {k: keepalive_us(k, env, args.keepalive) for k in REPEAT}
        rows.append(("keep-alive GET /version p50 (µs)", {k: v[0] for k, v in ka.items()},
                     "≤ 120 µs"))
        rows.append(("keep-alive GET /version p99 (µs)", {k: v[1] for k, v in ka.items()}, ""))
        # Threads share one client; the GIL is released while a request waits.
        for n in (1, 4):
            rows.append((f"GET /version/s, {n} thread{'s' if n > 1 else ''}, one client",
                         {k: threads_rps(k, env, n, 1000) for k in REPEAT}, ""))
    finally:
        pod.stop()

    names = list(IMPORT)
    print()
    print(f"| {'workload':<38} | " + " | ".join(f"{n:>11}" for n in names)
          + " | kubernetes / incluster | lightkube / incluster | goal |")
    print("|" + "-" * 40 + "|" + "|".join("-" * 13 for _ in names) + "|" + "-" * 24 + "|"
          + "-" * 23 + "|------|")
    for label, vals, goal in rows:
        inc = vals["incluster"]
        ratio = lambda k: f"{vals[k] / inc:.1f}x" if inc > 0 else "n/a"  # noqa: E731
        print(f"| {label:<38} | " + " | ".join(f"{vals[n]:>11.2f}" for n in names)
              + f" | {ratio('kubernetes'):>22} | {ratio('lightkube'):>21} | {goal} |")
    print(f"\nbare `python -c pass` as a whole process: {bare:.1f} ms")
    print(f"({args.runs} whole-process runs, {args.keepalive} keep-alive requests per client; "
          "every answer checked)")


def _timed(f) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    f()
    return (time.perf_counter() - t) * 1e3


if __name__ == "__main__":
    main()
