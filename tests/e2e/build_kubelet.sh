#!/usr/bin/env bash
# Builds the fake kubelet of the exec/attach/port-forward end-to-end tests (tests/e2e/kubelet/,
# on the kubelet's own streaming server, k8s.io/cri-streaming) from the Go module proxy, once per
# version and source, into a cache outside the clone, as tests/e2e/build.sh builds the control
# plane. Prints the binary's path on its last line of stdout.
#
#   tests/e2e/build_kubelet.sh        # K8S_VERSION=v1.36.3 by default (cri-streaming v0.36.3)
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.36.3}"
STAGING="v0.${K8S_VERSION#v1.}"
CACHE="${INCLUSTER_CACHE:-$HOME/.cache/incluster}"
HERE="$(cd "$(dirname "$0")" && pwd)"
# The source's hash is part of the path, so an edit rebuilds and an unchanged tree does not.
SUM="$(sha256sum "$HERE/kubelet/main.go" | cut -c1-12)"
OUT="$CACHE/fake-kubelet/cri-streaming-$STAGING-$SUM"

say() { printf '[e2e kubelet %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [ -x "$OUT/bin/fake-kubelet" ]; then
  say "cached: $OUT/bin/fake-kubelet"
  echo "$OUT/bin/fake-kubelet"
  exit 0
fi
command -v go >/dev/null || { say "go is not installed"; exit 1; }
mkdir -p "$OUT/src" "$OUT/bin"
cp "$HERE/kubelet/main.go" "$OUT/src/main.go"
cd "$OUT/src"
cat > go.mod <<GOMOD
module incluster.test/fakekubelet

go 1.26.0
GOMOD
export GOFLAGS="-buildvcs=false -mod=mod" CGO_ENABLED=0
say "go get k8s.io/cri-streaming@$STAGING"
go get "k8s.io/cri-streaming@$STAGING" >&2
go mod tidy >&2
say "go build (cold: a minute or two)"
go build -trimpath -ldflags "-s -w" -o "$OUT/bin/fake-kubelet.tmp" .
mv "$OUT/bin/fake-kubelet.tmp" "$OUT/bin/fake-kubelet"
say "built: $OUT/bin/fake-kubelet"
echo "$OUT/bin/fake-kubelet"
