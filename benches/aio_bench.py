"""asyncio: incluster.aio next to lightkube's AsyncClient, kubernetes_asyncio and kr8s's
asyncio API.

1. N concurrent watches (default 1,000) of one ConfigMap collection, each receiving a trickle
   of events (the test server's churn, spread over seconds): events delivered of those
   expected, peak OS threads, peak RSS, CPU seconds, and the worst lateness of a task that
   sleeps 1 ms in a loop (loop lag). Each client runs in its own process, on the default
   event loop, with a time limit; a client that does not deliver everything says so.
2. incluster only: one async watch stream of ~4 KB Pods vs the sync iterator (events/s);
   GET p50 on a keep-alive connection, async vs sync; how long a cancelled request holds its
   worker; loop lag while 500 watch streams and 1,000 concurrent requests run, split by phase
   (opening the 500 watches, their first reads, five writes each an event for all 500, the
   1,000 requests made by one gather while they wait), and the same gather of 1,000 tasks
   that only await a future: what asyncio itself costs the loop, whatever the client).
   With --before DIR (an `incluster` package built from other code, put first on PYTHONPATH),
   the GET and loop-lag parts run in interleaved rounds (before, this, before, this, ...;
   --rounds of each) and the medians are printed side by side, with the load average.

Figures are printed and written to OUT/aio.json; nothing is asserted (tests never time).

    python benches/aio_bench.py --server-binary PATH [--watches 1000] [--out DIR]
        [--only alone] [--before DIR --rounds 5]

benches/run.sh's throwaway venv gets the peers with
    pip install kubernetes-asyncio==36.1.0 lightkube==1.0.1 kr8s==0.20.15 uvloop==0.23.0
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from benchpod import BenchPod

# Shared by every consumer: the simulated pod's settings, a control call to the test server,
# and the run: open N watches from the current resourceVersion, let them connect, start a
# trickle of writes, then one "stop" ConfigMap that ends each watch; sample threads and RSS
# and probe the loop's lateness meanwhile.
PRELUDE = r'''
import asyncio, http.client, json, os, ssl, sys, time
SA = os.environ["INCLUSTER_SERVICEACCOUNT_DIR"]
PORT = int(os.environ["KUBERNETES_SERVICE_PORT"])
URL = f"https://127.0.0.1:{PORT}"
TOKEN = open(SA + "/token").read().strip()
CA = SA + "/ca.crt"
N, COUNT, INTERVAL, LIMIT = (int(a) for a in sys.argv[1:5])
NS = "bench"
PATH = f"/api/v1/namespaces/{NS}/configmaps"

def control(method, path, body=None):
    ctx = ssl.create_default_context(cafile=CA)
    c = http.client.HTTPSConnection("127.0.0.1", PORT, context=ctx, timeout=600)
    c.request(method, path, body=None if body is None else json.dumps(body).encode(),
              headers={"Content-Type": "application/json", "Authorization": "Bearer " + TOKEN})
    r = c.getresponse(); out = r.read(); c.close()
    assert 200 <= r.status < 300, (r.status, out[:200])
    return json.loads(out) if out else None

def threads():
    return len(os.listdir("/proc/self/task"))

def rss_mb():
    return next(int(l.split()[1]) for l in open("/proc/self/status")
                if l.startswith("VmRSS:")) / 1024

async def bench(watch_one):
    loop = asyncio.get_running_loop()
    rv = control("GET", PATH)["metadata"]["resourceVersion"]
    peak = {"threads": threads(), "rss_mb": rss_mb()}
    lag = [0.0]
    async def sample():
        while True:
            peak["threads"] = max(peak["threads"], threads())
            peak["rss_mb"] = max(peak["rss_mb"], rss_mb())
            await asyncio.sleep(0.1)
    async def probe():
        while True:
            t = time.perf_counter()
            await asyncio.sleep(0.001)
            lag[0] = max(lag[0], time.perf_counter() - t - 0.001)
    helpers = [asyncio.ensure_future(sample()), asyncio.ensure_future(probe())]
    cpu, t0 = time.process_time(), time.perf_counter()
    tasks = [asyncio.ensure_future(watch_one(rv)) for _ in range(N)]
    await asyncio.sleep(3 + N / 500)  # every watch connects
    churn = await loop.run_in_executor(None, control, "POST", "/_control/churn",
        {"namespace": NS, "count": COUNT, "prefix": "trickle", "interval_ms": INTERVAL})
    # The server spreads the writes over time after answering.
    await asyncio.sleep(churn["writes"] * INTERVAL / 1000 + 2)
    await loop.run_in_executor(None, control, "POST", PATH, {"metadata": {"name": "stop"}})
    done, pending = await asyncio.wait(tasks, timeout=LIMIT)
    delivered = sum(t.result() for t in done if t.exception() is None)
    errors = sorted({repr(t.exception())[:120] for t in done if t.exception() is not None})
    for t in list(pending) + helpers:
        t.cancel()
    print(json.dumps({"delivered": delivered, "expected": N * churn["writes"],
                      "finished": len(done), "threads": peak["threads"],
                      "rss_mb": round(peak["rss_mb"], 1),
                      "cpu_s": round(time.process_time() - cpu, 2),
                      "wall_s": round(time.perf_counter() - t0, 2),
                      "max_loop_lag_ms": round(lag[0] * 1000, 1), "errors": errors[:3]}))
    os._exit(0)  # peers' pending streams must not hold the exit
'''

CONSUMERS = {
    "incluster.aio": PRELUDE + r'''
import incluster.aio
c = incluster.aio.Client()
async def watch_one(rv):
    n = 0
    async for e in c.watch(PATH, resource_version=rv):
        if e.object["metadata"]["name"] == "stop":
            return n
        n += 1
asyncio.run(bench(watch_one))
''',
    # httpx under lightkube: its default pool limits apply (as a user gets them).
    "lightkube AsyncClient": PRELUDE + r'''
import lightkube
from lightkube.config.kubeconfig import KubeConfig
from lightkube.resources.core_v1 import ConfigMap
c = lightkube.AsyncClient(config=KubeConfig.from_service_account(SA))
async def watch_one(rv):
    n = 0
    async for op, obj in c.watch(ConfigMap, namespace=NS, resource_version=rv):
        if obj.metadata.name == "stop":
            return n
        n += 1
asyncio.run(bench(watch_one))
''',
    # aiohttp's connector allows 100 connections unless told: told N, as its docs say.
    "kubernetes_asyncio": PRELUDE + r'''
from kubernetes_asyncio import client, watch
cfg = client.Configuration(host=URL)
cfg.ssl_ca_cert = CA
cfg.api_key = {"BearerToken": TOKEN}
cfg.api_key_prefix = {"BearerToken": "Bearer"}
cfg.connection_pool_maxsize = N + 10
async def main():
    v1 = client.CoreV1Api(client.ApiClient(cfg))
    async def watch_one(rv):
        n = 0
        async with watch.Watch().stream(v1.list_namespaced_config_map, NS,
                                        resource_version=rv) as s:
            async for e in s:
                if e["object"].metadata.name == "stop":
                    return n
                n += 1
    await bench(watch_one)
asyncio.run(main())
''',
    "kr8s.asyncio": PRELUDE + r'''
import kr8s.asyncio
from kr8s.asyncio.objects import ConfigMap
async def main():
    api = await kr8s.asyncio.api(serviceaccount=SA)
    async def watch_one(rv):
        n = 0
        async for ev, obj in api.watch(ConfigMap, namespace=NS, since=rv):
            if obj.name == "stop":
                return n
            n += 1
    await bench(watch_one)
asyncio.run(main())
''',
}

# incluster only: stream rate, GET p50, loop lag under mixed load.
ALONE = r'''
import asyncio, json, os, statistics, sys, time
import incluster, incluster.aio
EVENTS = int(sys.argv[1])
PARTS = sys.argv[2].split(",") if len(sys.argv) > 2 else ["rate", "get", "cancel", "lag"]
sync = incluster.Client()
aio = incluster.aio.Client()
PODS = "/api/v1/namespaces/bench/pods"
out = {}

def sync_rate():
    t, n = time.perf_counter(), 0
    with sync.watch(PODS, resume=False) as w:
        for e in w:
            n += 1
            if n == EVENTS:
                break
    return n / (time.perf_counter() - t)

async def async_rate():
    t, n = time.perf_counter(), 0
    async with aio.watch(PODS, resume=False) as w:
        async for e in w:
            n += 1
            if n == EVENTS:
                break
    return n / (time.perf_counter() - t)

if "rate" in PARTS:
    rates = {"sync": [], "async": []}
    for _ in range(3):
        rates["sync"].append(sync_rate())
        rates["async"].append(asyncio.run(async_rate()))
    out["watch_events_per_s"] = {k: round(statistics.median(v)) for k, v in rates.items()}

def sync_p50(n=2000):
    ts = []
    for _ in range(n):
        t = time.perf_counter(); sync.get("/version"); ts.append(time.perf_counter() - t)
    return statistics.median(ts) * 1e6

async def async_p50(n=2000):
    ts = []
    for _ in range(n):
        t = time.perf_counter(); await aio.get("/version"); ts.append(time.perf_counter() - t)
    return statistics.median(ts) * 1e6

if "get" in PARTS:
    sync_p50(200); asyncio.run(async_p50(200))
    out["get_p50_us"] = {"sync": round(sync_p50()), "async": round(asyncio.run(async_p50()))}

async def cancel_free(n=30):
    # A request under way (the server holds it 60 s) is cancelled: how long until its worker
    # is free again (the connection closed, the call over).
    ts = []
    for _ in range(n):
        t = asyncio.ensure_future(aio.get("/_test/delay", params={"ms": 60000}))
        await asyncio.sleep(0.02)
        while not incluster._native._aio_busy():
            await asyncio.sleep(0.001)
        t0 = time.perf_counter()
        t.cancel()
        try:
            await t
        except asyncio.CancelledError:
            pass
        # Polled with the GIL released (a sleeping loop would hold it, and the worker needs
        # it to finish): this blocks the loop, which has nothing else to do here.
        while incluster._native._aio_busy():
            time.sleep(0.00005)
        ts.append(time.perf_counter() - t0)
    return round(statistics.median(ts) * 1000, 2), round(max(ts) * 1000, 2)

if "cancel" in PARTS:
    out["cancel_to_worker_free_ms"] = dict(zip(("p50", "max"), asyncio.run(cancel_free())))

async def mixed():
    # Each probe sample counts for the phase it ended in. The last phase runs the same gather
    # with a coroutine that only awaits a future: what asyncio itself costs the loop for 1,000
    # tasks made at once, whatever client they call.
    lat = {"open": [], "first_reads": [], "events": [], "requests": [], "requests_noop": []}
    phase = ["open"]
    stop = False
    async def probe():
        while not stop:
            t = time.perf_counter()
            await asyncio.sleep(0.001)
            lat[phase[0]].append(time.perf_counter() - t - 0.001)
    cms = "/api/v1/namespaces/bench/configmaps"
    rv = (await aio.get(cms))["metadata"]["resourceVersion"]
    p = asyncio.ensure_future(probe())
    await asyncio.sleep(0.05)
    watches = [aio.watch(cms, resource_version=rv) for _ in range(500)]
    await asyncio.gather(*(w.__aenter__() for w in watches))
    phase[0] = "first_reads"
    got = [0]
    async def read(w):
        async for _ in w:
            got[0] += 1
    readers = [asyncio.ensure_future(read(w)) for w in watches]
    await asyncio.sleep(0.3)
    phase[0] = "events"  # five writes, 100 ms apart: each one an event for all 500 streams
    for i in range(5):
        await aio.post(cms, {"metadata": {"name": f"lag-{os.getpid()}-{i}"}})
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.2)
    phase[0] = "requests"
    t = time.perf_counter()
    await asyncio.gather(*(aio.get("/version") for _ in range(1000)))
    took = time.perf_counter() - t
    await asyncio.sleep(0.1)
    phase[0] = "requests_noop"
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    loop.call_later(took, done.set_result, None)
    async def noop():
        await done
    await asyncio.gather(*(noop() for _ in range(1000)))
    await asyncio.sleep(0.05)
    stop = True
    await p
    for r in readers:
        r.cancel()
    for w in watches:
        await w.aclose()
    every = sorted(x for k, v in lat.items() if k != "requests_noop" for x in v)
    res = {"max_ms": round(every[-1] * 1000, 2),
           "p99_ms": round(every[int(len(every) * .99)] * 1000, 2), "requests_s": round(took, 2),
           "events_delivered": got[0]}
    for k, v in lat.items():
        res[f"max_ms_{k}"] = round(max(v, default=0) * 1000, 2)
    return res

if "lag" in PARTS:
    out["loop_lag_500_streams_1000_requests"] = asyncio.run(mixed())
print(json.dumps(out))
'''


def interleaved(args: argparse.Namespace) -> None:
    """GET p50 and loop lag, the package in --before and this one in alternate rounds (the
    machine is shared: alternating spreads its load over both); medians side by side."""
    import os
    import statistics
    pod = BenchPod(args.server_binary, "bench", "aio-interleaved")
    runs: dict[str, list[dict[str, object]]] = {"before": [], "this": []}
    loads: list[float] = []
    try:
        for _ in range(args.rounds):
            for which in ("before", "this"):
                env = dict(pod.env)
                if which == "before":
                    env["PYTHONPATH"] = args.before + os.pathsep + env.get("PYTHONPATH", "")
                loads.append(os.getloadavg()[0])
                p = subprocess.run([sys.executable, "-c", ALONE, "0", "get,lag"], env=env,
                                   capture_output=True, text=True, timeout=900)
                if p.returncode != 0:
                    print(which, "failed:", p.stderr[-300:], flush=True)
                    continue
                r = json.loads(p.stdout.strip().splitlines()[-1])
                print(f"{which:7} {json.dumps(r)}", flush=True)
                runs[which].append(r)
    finally:
        pod.stop()

    def med(which: str, part: str, key: str) -> float:
        return statistics.median(float(r[part][key]) for r in runs[which])  # type: ignore[index]

    print(f"\n{args.rounds} interleaved rounds, load average (1 min) {min(loads):.1f}-"
          f"{max(loads):.1f}; medians:")
    print(f"{'':34} {'before':>10} {'this':>10}")
    rows = [("get_p50_us", "sync"), ("get_p50_us", "async")] + [
        ("loop_lag_500_streams_1000_requests", k) for k in (
            "max_ms_open", "max_ms_first_reads", "max_ms_events", "max_ms_requests",
            "max_ms_requests_noop", "max_ms", "p99_ms", "requests_s")]
    for part, key in rows:
        print(f"{part[:14] + ' ' + key:34} {med('before', part, key):>10} "
              f"{med('this', part, key):>10}")
    for which in ("before", "this"):
        ratio = [float(r["get_p50_us"]["async"]) / float(r["get_p50_us"]["sync"])  # type: ignore[index]
                 for r in runs[which]]
        print(f"async/sync GET p50 ratio, {which}: median {statistics.median(ratio):.2f} "
              f"(rounds: {', '.join(f'{x:.2f}' for x in ratio)})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--server-binary", required=True)
    ap.add_argument("--watches", type=int, default=1000)
    ap.add_argument("--count", type=int, default=10, help="ConfigMaps churned (a trickle)")
    ap.add_argument("--interval-ms", type=int, default=300)
    ap.add_argument("--limit", type=int, default=120, help="seconds a client may take")
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--only", default="")
    ap.add_argument("--out", default="")
    ap.add_argument("--before", default="", help="a directory holding another `incluster` "
                    "package: interleaved rounds of the GET and loop-lag parts against it")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    if args.before:
        interleaved(args)
        return
    results: dict[str, object] = {}
    for name, code in CONSUMERS.items():
        if args.only and args.only != name:
            continue
        pod = BenchPod(args.server_binary, "bench", "aio")
        try:
            p = subprocess.run(
                [sys.executable, "-c", code, str(args.watches), str(args.count),
                 str(args.interval_ms), str(args.limit)],
                env=pod.env, capture_output=True, text=True, timeout=args.limit + 120)
            line = p.stdout.strip().splitlines()[-1:] or [""]
            try:
                results[name] = json.loads(line[0])
            except json.JSONDecodeError:
                results[name] = {"failed": (p.stderr or p.stdout).strip()[-300:]}
        except subprocess.TimeoutExpired:
            results[name] = {"failed": "did not finish"}
        finally:
            pod.stop()
        print(f"{name:24} {json.dumps(results[name])}", flush=True)

    if not args.only or args.only == "alone":
        pod = BenchPod(args.server_binary, "bench", "aio-alone")
        try:
            pod.control("PUT", "/_control/watchbench", {"n": args.events * 4, "size": 4096})
            p = subprocess.run([sys.executable, "-c", ALONE, str(args.events)], env=pod.env,
                               capture_output=True, text=True, timeout=900)
            results["incluster alone"] = (json.loads(p.stdout.strip().splitlines()[-1])
                                          if p.returncode == 0 else {"failed": p.stderr[-300:]})
        finally:
            pod.stop()
        print(f"{'incluster alone':24} {json.dumps(results['incluster alone'])}", flush=True)
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "aio.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
