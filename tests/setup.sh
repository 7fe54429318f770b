#!/usr/bin/env bash
# Installs the system tools the tests need, only when missing. Safe to run again.
set -euo pipefail

missing=()
command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
# The C tests also run as ASan + UBSan builds, with Debian's clang and its sanitizer runtimes.
command -v clang >/dev/null 2>&1 || missing+=(clang libclang-rt-14-dev)
# The end-to-end control plane (tests/e2e) generates its PKI with openssl.
command -v openssl >/dev/null 2>&1 || missing+=(openssl)

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
echo "cc: $(cc --version | head -n1)"
echo "valgrind: $(valgrind --version)"
echo "openssl: $(openssl version)"
echo "clang: $(clang --version | head -n1)"
# kube-apiserver and etcd are built from source (tests/e2e/build.sh); Debian's Go is too old
# for Kubernetes 1.36, so a Go toolchain >= the one kubernetes' go.mod names must be installed.
if command -v go >/dev/null 2>&1; then
  echo "go: $(go version)"
else
  echo "go: not found (needed to build kube-apiserver and etcd for tests/e2e; https://go.dev/dl)" >&2
  exit 1
fi
