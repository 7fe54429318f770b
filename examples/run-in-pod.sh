#!/usr/bin/env bash
# Builds incluster, starts a real control plane on loopback (etcd + kube-apiserver, built from
# the Go module proxy on first use; see tests/e2e/cluster.py), lays out a ServiceAccount
# directory with a real token exactly as the kubelet does, and runs the CLI, a C program and a
# Python program in that simulated pod (examples/in-pod.sh).
#
#   bash examples/run-in-pod.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${INCLUSTER_CACHE:-$HOME/.cache/incluster}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

say "installing tools if missing (cc, valgrind, openssl)"
bash tests/setup.sh
say "building the library, the CLI and the fake kubelet (the project's test server)"
cargo build --lib --bins

say "building the Python package into a venv (first time: ~1 min)"
VENV="$CACHE/demo-venv"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check maturin==1.16.0
CARGO_TARGET_DIR="$CARGO_TARGET_DIR-python" PATH="$VENV/bin:$PATH" "$VENV/bin/pip" install -q \
  --disable-pip-version-check --no-build-isolation --force-reinstall --no-deps ./python

say "building (first time: about 5 minutes) and starting etcd + kube-apiserver + fake kubelet"
export BIN="$CARGO_TARGET_DIR/debug" PYTHON="$VENV/bin/python"
python3 tests/e2e/cluster.py run -- bash examples/in-pod.sh
say "done: the CLI, the C API and Python worked against a real API server, control plane stopped"
