#!/usr/bin/env bash
# Runs the benchmarks (not part of the test command): release builds of the library, the CLI
# and the test server, then each bench, printing a table with ratios to curl.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${INCLUSTER_CACHE:-$HOME/.cache/incluster}/target}"
bash tests/setup.sh >/dev/null
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl; }
echo "==> building release library, CLI and test server"
cargo build --release --lib --bins --example testserver
echo "==> request latency (incluster vs curl)"
cargo bench --bench request

echo "==> Python clients (incluster, kubernetes, lightkube) in a throwaway venv"
BVENV="${INCLUSTER_CACHE:-$HOME/.cache/incluster}/bench-venv"
[ -x "$BVENV/bin/python" ] || python3 -m venv "$BVENV"
"$BVENV/bin/pip" install -q --disable-pip-version-check maturin==1.16.0 kubernetes==37.0.2 lightkube==1.0.1
# The extension builds in its own target dir: with the `python` feature it is a different
# libincluster.so, and must not replace the C library the other benches link.
CARGO_TARGET_DIR="$CARGO_TARGET_DIR-python" PATH="$BVENV/bin:$PATH" "$BVENV/bin/pip" install -q \
  --disable-pip-version-check --no-build-isolation --force-reinstall --no-deps ./python
"$BVENV/bin/python" benches/python_bench.py \
  --server-binary "$CARGO_TARGET_DIR/release/examples/testserver"

echo "==> watch throughput (incluster, kubernetes, lightkube, json.loads; C API MB/s; RSS)"
"$BVENV/bin/python" benches/watch_bench.py \
  --server-binary "$CARGO_TARGET_DIR/release/examples/testserver" \
  --lib-dir "$CARGO_TARGET_DIR/release"

echo "==> log throughput (incluster, curl, kubernetes, lightkube) and line latency"
"$BVENV/bin/python" benches/logs_bench.py \
  --server-binary "$CARGO_TARGET_DIR/release/examples/testserver"
