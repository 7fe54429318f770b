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

# Cargo judges artefacts fresh by modification times. Two checkouts sharing the cache (a
# developer's and CI's clone) would each find the other's newer artefacts fresh, and run
# tests with the other's paths compiled in (CARGO_MANIFEST_DIR, cargo-miri's directory),
# which may be gone. Coming from another checkout, this one's files are touched once.
if [ "$(cat "$CACHE/last-checkout" 2>/dev/null)" != "$(pwd -P)" ]; then
  git ls-files -z | xargs -0 touch -c
  pwd -P > "$CACHE/last-checkout"
fi

step() { printf '\n==> [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

step "tools: checking for cc, clang, valgrind, openssl and go"
bash tests/setup.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings (and with the python feature, for src/py)"
cargo clippy --all-targets -- -D warnings
# Its own target dir, as for the Python build below: the feature changes the library.
CARGO_TARGET_DIR="$CARGO_TARGET_DIR-python" cargo clippy -p incluster --all-targets --features python -- -D warnings

step "cargo doc --no-deps with warnings denied (broken links, missing docs of public items)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet

MSRV="$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)"
step "MSRV: cargo check with Rust $MSRV, the rust-version in Cargo.toml (installs it on first use)"
rustup toolchain list | grep -q "^$MSRV-" || rustup toolchain install "$MSRV" --profile minimal
# Its own target dir: another compiler's artefacts cannot be shared.
CARGO_TARGET_DIR="$CARGO_TARGET_DIR-msrv" cargo "+$MSRV" check --all-targets --quiet

# A pinned nightly that ships Miri (the fuzz nightly, nightly-2026-05-19, does not).
MIRI_NIGHTLY="${INCLUSTER_MIRI_TOOLCHAIN:-nightly-2026-05-20}"
step "Miri: the C API's unit tests (src/capi) under $MIRI_NIGHTLY (installs it on first use)"
rustup toolchain list | grep -q "^$MIRI_NIGHTLY" ||
  rustup toolchain install "$MIRI_NIGHTLY" --profile minimal --component miri,rust-src
# The unit tests of src/capi only: they run no network and no foreign code (ring's assembly,
# which Miri cannot execute, is only reached by TLS).
# A target dir per toolchain: artefacts of another nightly (even the same version) do not load.
CARGO_TARGET_DIR="$CACHE/miri-target-$MIRI_NIGHTLY" cargo "+$MIRI_NIGHTLY" miri test -p incluster --quiet \
  --lib capi::

step "build: library (cdylib), CLI, test server"
cargo build --all-targets

step "cargo test (Rust unit tests, header drift, core/CLI/C API against the test server)"
cargo test

step "fuzz smoke: every cargo-fuzz target for 10 s (installs nightly and cargo-fuzz on first use)"
bash tests/fuzz-smoke.sh 10

VENV="$CACHE/venv"
step "Python: venv with maturin, pytest, mypy ($VENV)"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check -r tests/python/requirements.txt

step "Python: build and install the package (pip install ./python; release build)"
# Its own target dir: the `python` feature makes a different libincluster.so, which must not
# replace the C library the C tests link.
CARGO_TARGET_DIR="$CARGO_TARGET_DIR-python" PATH="$VENV/bin:$PATH" "$VENV/bin/pip" install -q \
  --disable-pip-version-check --no-build-isolation --force-reinstall --no-deps ./python

step "Python: stubs match the module (mypy stubtest) and the tests type-check (mypy --strict)"
(cd /tmp && "$VENV/bin/python" -m mypy.stubtest incluster)
# Separately: each directory has its own conftest module.
"$VENV/bin/python" -m mypy --strict tests/python
"$VENV/bin/python" -m mypy --strict tests/e2e

step "Python: pytest (warnings are errors)"
INCLUSTER_TESTSERVER="$CARGO_TARGET_DIR/debug/testserver" \
  "$VENV/bin/python" -m pytest -W error tests/python

# Every manylinux wheel, and one musllinux wheel (the others differ only in the CPython they
# are for, and get the same tag check when a full `bash dist/build.sh` of this commit made them).
step "release artefacts: dist/build.sh (static CLI, C tarballs, wheels; cached by commit)"
bash dist/build.sh --musl-pythons 3.13
step "release artefacts as users get them: wheels in fresh venvs, the CLI in an empty root, C via pkg-config"
"$VENV/bin/python" -m mypy --strict tests/dist
INCLUSTER_DIST="$(bash dist/build.sh --print-dir)" \
  INCLUSTER_TESTSERVER="$CARGO_TARGET_DIR/debug/testserver" \
  "$VENV/bin/python" -m pytest -W error -v -s tests/dist

step "end-to-end: kube-apiserver $(sed -n 's/^K8S_VERSION="\${K8S_VERSION:-\(.*\)}"/\1/p' tests/e2e/build.sh) and etcd from the Go module proxy (cold: ~5 min, then cached)"
bash tests/e2e/build.sh >/dev/null

step "end-to-end: every front against a real control plane (etcd + kube-apiserver + fake kubelet)"
"$VENV/bin/python" -m pytest -W error -v tests/e2e

step "all tests passed"
