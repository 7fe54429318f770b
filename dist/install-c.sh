#!/usr/bin/env bash
# Installs the C library (libincluster.so.0 and libincluster.a), its header, incluster.pc and
# the incluster CLI under PREFIX, from a release tarball:
#
#   bash dist/install-c.sh [--libc gnu|musl] [--library-type both|cdylib|staticlib] PREFIX [TARBALL]
#
# Without TARBALL it takes this checkout's (building it first with `dist/build.sh --c-only`
# when missing). --library-type (the name cargo-c's cinstall uses) installs only the shared or
# only the static library: with both installed, `-lincluster` links the shared one, so a
# program that must not need libincluster.so at run time is built against a staticlib-only
# PREFIX (or names the .a itself). Then:
#
#   export PKG_CONFIG_PATH=PREFIX/lib/pkgconfig
#   cc app.c $(pkg-config --cflags --libs incluster)             # needs libincluster.so.0 at run time
#   cc app.c $(pkg-config --static --cflags --libs incluster)    # staticlib PREFIX: self-contained
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

usage() { sed -n '5p' "$0" | sed 's/^#  */usage: /' >&2; exit 2; }
LIBC=gnu
TYPE=both
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --libc) LIBC="${2:-}"; shift 2 || usage ;;
    --library-type) TYPE="${2:-}"; shift 2 || usage ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "install-c.sh: unknown option '$1'" >&2; usage ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
case "$LIBC" in gnu|musl) ;; *) echo "install-c.sh: --libc must be gnu or musl, not '$LIBC'" >&2; exit 2 ;; esac
case "$TYPE" in both|cdylib|staticlib) ;;
  *) echo "install-c.sh: --library-type must be both, cdylib or staticlib, not '$TYPE'" >&2; exit 2 ;;
esac
[ ${#ARGS[@]} -ge 1 ] && [ ${#ARGS[@]} -le 2 ] || usage
PREFIX="${ARGS[0]}"
TARBALL="${ARGS[1]:-}"

if [ -z "$TARBALL" ]; then
  version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$here/../Cargo.toml" | head -n1)
  TARBALL="$(bash "$here/build.sh" --print-dir)/incluster-$version-x86_64-linux-$LIBC.tar.gz"
  [ -f "$TARBALL" ] || bash "$here/build.sh" --c-only >&2
fi
[ -f "$TARBALL" ] || { echo "install-c.sh: no tarball at $TARBALL" >&2; exit 1; }

mkdir -p "$PREFIX"
PREFIX="$(cd "$PREFIX" && pwd)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$TARBALL" -C "$tmp"
src=$(echo "$tmp"/incluster-*)
[ -f "$src/lib/pkgconfig/incluster.pc" ] || { echo "install-c.sh: $TARBALL is not an incluster C tarball" >&2; exit 1; }

if [ "$TYPE" = cdylib ] && ! compgen -G "$src/lib/libincluster.so*" >/dev/null; then
  echo "install-c.sh: $TARBALL has no shared library (the musl build is static only)" >&2
  exit 1
fi
mkdir -p "$PREFIX/bin" "$PREFIX/include" "$PREFIX/lib/pkgconfig"
install -m 755 "$src/bin/incluster" "$PREFIX/bin/incluster"
install -m 644 "$src/include/incluster.h" "$PREFIX/include/incluster.h"
# Each kind is replaced whole, so switching the library type leaves no stale file behind.
if [ "$TYPE" != cdylib ]; then
  install -m 644 "$src/lib/libincluster.a" "$PREFIX/lib/libincluster.a"
else
  rm -f "$PREFIX/lib/libincluster.a"
fi
rm -f "$PREFIX"/lib/libincluster.so*
if [ "$TYPE" != staticlib ]; then
  # cp -P keeps the symlinks (libincluster.so -> .so.0 -> .so.0.x.y).
  cp -P "$src"/lib/libincluster.so* "$PREFIX/lib/" 2>/dev/null || true
fi
# An absolute prefix, as distributions' .pc files have.
sed "s|^prefix=.*|prefix=$PREFIX|" "$src/lib/pkgconfig/incluster.pc" >"$PREFIX/lib/pkgconfig/incluster.pc"

echo "installed into $PREFIX:"
(cd "$PREFIX" && ls -1d bin/incluster include/incluster.h lib/libincluster* lib/pkgconfig/incluster.pc 2>/dev/null \
  | sed 's/^/  /')
