"""incluster.aio's wait next to the ways of waiting without it: N concurrent waits (default
1,000) for ConfigMaps that do not exist yet, then created all at once.

Three clients, each in its own process against the release test server (benchpod.py's
setting):
- ``aio``: ``await kube.wait(...)`` with incluster.aio (the core's wait machine over an
  async watch on the loop);
- ``threads``: the sync ``Client.wait`` on a thread per wait;
- ``to_thread``: the sync ``Client.wait`` through ``asyncio.to_thread`` (the default
  executor), what an asyncio program does without an async client.

Then an exec session's throughput, sync next to async: ``cat`` of 64 MB (``--exec-mb``) through
``exec_stream``, fed by a writer thread (task) and read by the iterator (``async for``).

For each wait client: OS threads and RSS while the N waits wait, GET /version p50 before the waits and
while they wait (through the same client, as that program would ask: awaited, on a thread, or
through ``to_thread``), and the time from the first create to the last wait met (and how
much of it the 1,000 creates, from 16 threads of the same process, took). Figures are
printed as a table and as JSON; nothing is asserted (tests never time).

    python benches/aio_flows_bench.py --server-binary PATH [--waits 1000] [--exec-mb 64]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from benchpod import BenchPod

CHILD = r'''
import asyncio, json, os, statistics, sys, threading, time
import incluster, incluster.aio

VARIANT, N, PREFIX = sys.argv[1], int(sys.argv[2]), sys.argv[3]
PATH = "/api/v1/namespaces/bench/configmaps"
COND = "jsonpath={.data.k}=v"
GETS = 200
GET_LIMIT = 20.0

def threads():
    return len(os.listdir("/proc/self/task"))

def rss_mb():
    return next(int(l.split()[1]) for l in open("/proc/self/status")
                if l.startswith("VmRSS:")) / 1024

def p50(samples):
    return round(statistics.median(samples) * 1e6)

def report(**kw):
    print(json.dumps(kw), flush=True)

def obj(i):
    return {"metadata": {"name": f"{PREFIX}{i}"}, "data": {"k": "v"}}

async def timed_gets(get):
    out = []
    deadline = time.monotonic() + GET_LIMIT
    for _ in range(GETS):
        t = time.perf_counter()
        try:
            await asyncio.wait_for(get(), max(0.001, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            return None
        out.append(time.perf_counter() - t)
    return p50(out)

async def main_async(to_thread):
    sync = incluster.Client()
    kube = incluster.aio.Client()
    if to_thread:
        get = lambda: asyncio.to_thread(sync.get, "/version")
        wait = lambda i: asyncio.to_thread(sync.wait, f"{PATH}/{PREFIX}{i}", COND)
    else:
        get = lambda: kube.get("/version")
        wait = lambda i: kube.wait(f"{PATH}/{PREFIX}{i}", COND)
    idle = await timed_gets(get)
    waits = [asyncio.ensure_future(wait(i)) for i in range(N)]
    await asyncio.sleep(5)  # every wait listed and watching (to_thread: its first few)
    t, r = threads(), rss_mb()
    busy = await timed_gets(get)
    # Created with the sync client from 16 threads of their own, the same way for every
    # variant (not through to_thread: its executor is full of waits).
    t0 = time.monotonic()
    posters = [threading.Thread(target=lambda k: [sync.post(PATH, obj(i))
                                                  for i in range(k, N, 16)], args=(k,))
               for k in range(16)]
    for p in posters:
        p.start()
    while any(p.is_alive() for p in posters):
        await asyncio.sleep(0.01)
    posted = time.monotonic() - t0
    await asyncio.gather(*waits)
    met = time.monotonic() - t0
    report(threads=t, rss_mb=round(r), get_p50_idle_us=idle, get_p50_waiting_us=busy,
           all_met_s=round(met, 2), posts_s=round(posted, 2))

def main_threads():
    sync = incluster.Client()
    def gets():
        out = []
        for _ in range(GETS):
            t = time.perf_counter()
            sync.get("/version")
            out.append(time.perf_counter() - t)
        return p50(out)
    idle = gets()
    ts = [threading.Thread(target=sync.wait, args=(f"{PATH}/{PREFIX}{i}", COND), daemon=True)
          for i in range(N)]
    for t in ts:
        t.start()
    time.sleep(5)
    t_, r = threads(), rss_mb()
    busy = gets()
    t0 = time.monotonic()
    posters = [threading.Thread(target=lambda k: [sync.post(PATH, obj(i))
                                                  for i in range(k, N, 16)], args=(k,))
               for k in range(16)]
    for p in posters:
        p.start()
    for p in posters:
        p.join()
    posted = time.monotonic() - t0
    for t in ts:
        t.join()
    report(threads=t_, rss_mb=round(r), get_p50_idle_us=idle, get_p50_waiting_us=busy,
           all_met_s=round(time.monotonic() - t0, 2), posts_s=round(posted, 2))

MB = 1024 * 1024

def exec_sync():
    """cat of N MB through an ExecStream: written from a thread, read by the iterator."""
    kube = incluster.Client()
    block = b"x" * MB
    best = None
    for _ in range(3):
        t0 = time.perf_counter()
        with kube.exec_stream("web", ["cat"], stdin=True) as s:
            def feed():
                for _ in range(N):
                    s.write(block)
                s.close_stdin()
            w = threading.Thread(target=feed)
            w.start()
            got = sum(len(d) for _, d in s)
            w.join()
        assert got == N * MB, got
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    report(mb_s=round(N / best, 1))

async def exec_aio():
    """The same through incluster.aio: a task writes, `async for` reads."""
    kube = incluster.aio.Client()
    block = b"x" * MB
    best = None
    for _ in range(3):
        t0 = time.perf_counter()
        async with kube.exec_stream("web", ["cat"], stdin=True) as s:
            async def feed():
                for _ in range(N):
                    await s.write(block)
                await s.close_stdin()
            w = asyncio.ensure_future(feed())
            got = 0
            async for _, d in s:
                got += len(d)
            await w
        assert got == N * MB, got
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    report(mb_s=round(N / best, 1))

if VARIANT == "threads":
    main_threads()
elif VARIANT == "exec_sync":
    exec_sync()
elif VARIANT == "exec_aio":
    asyncio.run(exec_aio())
else:
    asyncio.run(main_async(VARIANT == "to_thread"))
'''


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--server-binary", required=True)
    ap.add_argument("--waits", type=int, default=1000)
    ap.add_argument("--exec-mb", type=int, default=64)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    pod = BenchPod(args.server_binary, "bench", "aioflows")
    results = {}
    try:
        for variant in ("aio", "threads", "to_thread"):
            try:
                out = subprocess.run([sys.executable, "-c", CHILD, variant, str(args.waits),
                                      f"{variant.replace('_', '')}-"],
                                     env=pod.env, capture_output=True, text=True, timeout=300)
            except subprocess.TimeoutExpired:
                results[variant] = {"error": "did not finish within 300 s"}
                continue
            if out.returncode != 0:
                results[variant] = {"error": out.stderr.strip().splitlines()[-1:]}
            else:
                results[variant] = json.loads(out.stdout.strip().splitlines()[-1])
        for variant in ("exec_sync", "exec_aio"):
            out = subprocess.run([sys.executable, "-c", CHILD, variant, str(args.exec_mb), "-"],
                                 env=pod.env, capture_output=True, text=True, timeout=300)
            results[variant] = (json.loads(out.stdout.strip().splitlines()[-1])
                                if out.returncode == 0
                                else {"error": out.stderr.strip().splitlines()[-1:]})
    finally:
        pod.stop()
    print(f"{args.waits} concurrent waits for objects created later")
    print("| client | OS threads | RSS | GET p50 idle | GET p50 while waiting | all met "
          "(of which the creates) |")
    print("|---|---:|---:|---:|---:|---:|")
    names = {"aio": "incluster.aio `await kube.wait`",
             "threads": "sync `Client.wait`, a thread each",
             "to_thread": "sync `Client.wait` via `asyncio.to_thread`"}
    for v, r in results.items():
        if v.startswith("exec"):
            continue
        if "error" in r:
            print(f"| {names[v]} | failed: {r['error']} |")
            continue
        busy = r["get_p50_waiting_us"]
        print(f"| {names[v]} | {r['threads']} | {r['rss_mb']} MB | {r['get_p50_idle_us']} µs | "
              f"{'no answer within 20 s' if busy is None else f'{busy} µs'} | "
              f"{r['all_met_s']} s ({r['posts_s']} s) |")
    print(f"\nexec_stream: cat of {args.exec_mb} MB (best of 3)")
    print("| client | MB/s |")
    print("|---|---:|")
    for v, name in (("exec_sync", "sync: a writer thread, the iterator"),
                    ("exec_aio", "incluster.aio: a writer task, `async for`")):
        r = results[v]
        print(f"| {name} | " + (f"failed: {r['error']} |" if "error" in r
                                 else f"{r['mb_s']} |"))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "aio_flows.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
