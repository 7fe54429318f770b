#!/usr/bin/env bash
# A short fuzz run of every cargo-fuzz target (default 10 s each; `tests/fuzz-smoke.sh 300` for
# the 5-minute runs). Installs a pinned nightly toolchain and cargo-fuzz when missing. The seed
# corpora in fuzz/corpus are read, never written: what a run discovers goes to a scratch
# corpus under $INCLUSTER_CACHE, and the build to $INCLUSTER_CACHE/fuzz-target.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
SECS="${1:-10}"
CACHE="${INCLUSTER_CACHE:-$HOME/.cache/incluster}"
TARGET_DIR="$CACHE/fuzz-target"
# A pinned nightly, so a broken nightly of the day cannot break the test command.
NIGHTLY="${INCLUSTER_FUZZ_TOOLCHAIN:-nightly-2026-05-19}"

if ! rustup toolchain list | grep -q "^$NIGHTLY"; then
  echo "installing the $NIGHTLY toolchain (cargo-fuzz needs nightly for the sanitizer flags)"
  rustup toolchain install "$NIGHTLY" --profile minimal
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "installing cargo-fuzz 0.13.2 (a few minutes, once)"
  cargo install --locked cargo-fuzz@0.13.2
fi

echo "building the fuzz targets (ASan, release)"
cargo "+$NIGHTLY" fuzz build -O --target-dir "$TARGET_DIR"
for t in $(cargo "+$NIGHTLY" fuzz list); do
  scratch="$CACHE/fuzz-corpus/$t"
  mkdir -p "$scratch"
  echo "fuzzing $t for ${SECS} s"
  # -O: optimised, with debug assertions. A crash exits non-zero and leaves the input in
  # fuzz/artifacts/$t for `cargo fuzz run $t <file>`.
  log="$scratch.log"
  if ! cargo "+$NIGHTLY" fuzz run -O --target-dir "$TARGET_DIR" "$t" "$scratch" "corpus/$t" -- \
      -max_total_time="$SECS" -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz target $t FAILED (full output: $log)"
    exit 1
  fi
  grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)" "$log" || true
done
echo "fuzz smoke: every target ran ${SECS} s without a crash"
