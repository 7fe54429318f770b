#!/usr/bin/env bash
# The one command that runs every test and check of incluster. Installs what the tests need
# (idempotently), prints each step, and exits non-zero on the first failure.
#
#   tests/run.sh
#
# Build outputs go to $INCLUSTER_CACHE (default ~/.cache/incluster), outside the clone, so a
# second run reuses them.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${INCLUSTER_CACHE:-$HOME/.cache/incluster}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$CACHE"

step() { printf '\n==> [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

step "tools: checking for cc and valgrind"
bash tests/setup.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

step "build: library (cdylib), CLI, test server"
cargo build --all-targets

step "cargo test (Rust unit tests, header drift, core/CLI/C API against the test server)"
cargo test

step "all tests passed"
