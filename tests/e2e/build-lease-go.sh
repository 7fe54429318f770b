#!/usr/bin/env bash
# Builds the client-go leader-election contender (tests/e2e/go/lease/main.go) from the Go module
# proxy into a cache outside the clone, once per client-go version and source; prints the
# binary's path on its last line of stdout. client-go's version matches the control plane's
# (tests/e2e/build.sh: kube-apiserver v1.36.3, whose staging modules are v0.36.3), so a warm
# module cache from that build serves it.
#
#   tests/e2e/build-lease-go.sh        # K8S_VERSION=v1.36.3 by default, as build.sh
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.36.3}"
CLIENT_GO="v0.${K8S_VERSION#v1.}"
CACHE="${INCLUSTER_CACHE:-$HOME/.cache/incluster}"
HERE="$(cd "$(dirname "$0")" && pwd)"
SRC="$HERE/go/lease/main.go"
OUT="$CACHE/lease-go/client-go-$CLIENT_GO"
# Keyed by the source, so an edited contender is rebuilt and an unchanged one never is.
BIN="$OUT/bin/lease-$(sha256sum "$SRC" | cut -c1-16)"

say() { printf '[e2e lease-go %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [ -x "$BIN" ]; then
  say "cached: $BIN"
  echo "$BIN"
  exit 0
fi
command -v go >/dev/null || { say "go is not installed"; exit 1; }
mkdir -p "$OUT/src" "$OUT/bin"
cd "$OUT/src"
cp "$SRC" main.go
cat > go.mod <<MOD
module incluster.test/lease

go 1.25

require k8s.io/client-go $CLIENT_GO
MOD
# The same flags as build.sh's kube-apiserver build, so Go's build cache from it is reused.
export GOFLAGS="-buildvcs=false -mod=mod"
export CGO_ENABLED=0
say "client-go $CLIENT_GO: go mod tidy"
go mod tidy >&2
say "go build (cold: a minute or two)"
go build -trimpath -ldflags "-s -w" -o "$BIN.tmp" .
mv "$BIN.tmp" "$BIN"
say "built: $BIN"
echo "$BIN"
