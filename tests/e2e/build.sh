#!/usr/bin/env bash
# Builds kube-apiserver and etcd from the Go module proxy, once per version, into a cache outside
# the clone. Prints the directory holding the two binaries on its last line of stdout.
#
#   tests/e2e/build.sh            # K8S_VERSION=v1.36.3 ETCD_VERSION=v3.6.16 by default
#
# Why a scratch module: `go install k8s.io/kubernetes/cmd/kube-apiserver@v1.36.3` refuses, because
# kubernetes' go.mod replaces its k8s.io/* staging modules with local paths (./staging/...), and
# the published go.mod requires them at v0.0.0. Our module requires k8s.io/kubernetes and replaces
# every staging module with the matching published v0.X.Y; the list is read from kubernetes' own
# go.mod so that no module can be missed (one missing entry fails with "unknown revision v0.0.0").
#
# A cold build takes several minutes and about 2.5 GB (Go's module and build caches); a warm run
# only checks that the binaries exist.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
CACHE="${INCLUSTER_CACHE:-$HOME/.cache/incluster}"
OUT="$CACHE/controlplane/k8s-$K8S_VERSION-etcd-$ETCD_VERSION"

say() { printf '[e2e build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [ -x "$OUT/bin/kube-apiserver" ] && [ -x "$OUT/bin/etcd" ]; then
  say "cached: $OUT/bin"
  echo "$OUT/bin"
  exit 0
fi

command -v go >/dev/null || { say "go is not installed"; exit 1; }
# The module proxy Go itself uses (GOPROXY from the environment, `go env -w`, or Go's default):
# its first URL entry; "direct" and "off" are not proxies, and the go.mod below is read from one.
PROXY=""
IFS=',|' read -ra proxies <<<"$(go env GOPROXY)"
for p in "${proxies[@]}"; do
  case "$p" in http://* | https://* | file://*) PROXY="${p%/}"; break ;; esac
done
[ -n "$PROXY" ] || {
  say "go env GOPROXY ($(go env GOPROXY)) names no module proxy; set GOPROXY to one"
  exit 1
}
mkdir -p "$OUT/src/apiserver" "$OUT/src/etcd" "$OUT/bin"
export GOFLAGS="-buildvcs=false -mod=mod"
export CGO_ENABLED=0

# ---- kube-apiserver -------------------------------------------------------------------------
minor="${K8S_VERSION#v1.}"      # 36.3
staging="v0.$minor"             # v0.36.3
major_minor="${minor%%.*}"      # 36
say "kube-apiserver $K8S_VERSION: reading kubernetes' go.mod from $PROXY"
mod="$(curl -fsS "$PROXY/k8s.io/kubernetes/@v/$K8S_VERSION.mod")" || {
  say "the Go module proxy did not serve k8s.io/kubernetes $K8S_VERSION"; exit 1; }
godebug="$(printf '%s\n' "$mod" | grep -E '^godebug ' || true)"
gover="$(printf '%s\n' "$mod" | grep -E '^go [0-9]' | head -n1)"
replaces="$(printf '%s\n' "$mod" | sed -n -E "s#^[[:space:]]*(k8s\.io/[a-z0-9-]+) => \./staging/src/.*#\t\1 => \1 $staging#p")"
[ -n "$replaces" ] || { say "no staging replace lines found in kubernetes' go.mod"; exit 1; }
say "  $(printf '%s\n' "$replaces" | wc -l) staging modules replaced with $staging"

cd "$OUT/src/apiserver"
cat > go.mod <<EOF
module incluster.test/apiserver

$gover

$godebug

require k8s.io/kubernetes $K8S_VERSION

replace (
$replaces
)
EOF
cat > tools.go <<'EOF'
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
EOF
say "  go mod download (first time: a few hundred MB, progress below)"
go get -x "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION" 2>&1 \
  | grep --line-buffered -E '^# get .*\.zip: 200' | sed -u 's/^/    /' >&2 || true
go mod tidy >&2 2>&1 || true
commit="$(curl -fsS "$PROXY/k8s.io/kubernetes/@v/$K8S_VERSION.info" | sed -n -E 's/.*"Hash":"([0-9a-f]+)".*/\1/p' || true)"
date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
ld=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ld="$ld -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$major_minor"
  ld="$ld -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date -X $pkg.gitCommit=${commit:-unknown}"
done
say "  go build kube-apiserver (cold: about 5 minutes on 2 cores)"
(
  while sleep 30; do say "  ... still compiling kube-apiserver"; done
) & ticker=$!
trap 'kill $ticker 2>/dev/null || true' EXIT
go build -trimpath -ldflags "-s -w $ld" -o "$OUT/bin/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
mv "$OUT/bin/kube-apiserver.tmp" "$OUT/bin/kube-apiserver"
say "  built: $("$OUT/bin/kube-apiserver" --version)"

# ---- etcd -------------------------------------------------------------------------------------
say "etcd $ETCD_VERSION"
cd "$OUT/src/etcd"
cat > go.mod <<EOF
module incluster.test/etcd

go 1.24
EOF
cat > main.go <<'EOF'
// The etcd server binary: the same entry point as etcd's own main package.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
go mod tidy >&2
go build -trimpath -ldflags "-s -w" -o "$OUT/bin/etcd.tmp" .
mv "$OUT/bin/etcd.tmp" "$OUT/bin/etcd"
say "  built: $("$OUT/bin/etcd" --version | head -n1)"

kill $ticker 2>/dev/null || true
say "done: $OUT/bin"
echo "$OUT/bin"
