#!/usr/bin/env bash
# The demo's part that runs inside the simulated pod (started by examples/run-in-pod.sh through
# tests/e2e/cluster.py, which sets KUBERNETES_SERVICE_HOST/PORT and INCLUSTER_SERVICEACCOUNT_DIR).
# $BIN holds the built CLI and library; $PYTHON has the incluster package.
set -euo pipefail
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
SA="$INCLUSTER_SERVICEACCOUNT_DIR"
NS="$(cat "$SA/namespace")"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

say "the ServiceAccount directory, laid out as the kubelet does"
ls -la "$SA"
say "incluster info (reads the local files only; never prints the token)"
"$BIN/incluster" info
say "incluster get /version"
"$BIN/incluster" get /version
say "incluster whoami; can-i"
"$BIN/incluster" whoami | grep -E '"(username|source)"' 
echo "create configmaps: $("$BIN/incluster" can-i create configmaps || true)"
echo "list secrets:      $("$BIN/incluster" can-i list secrets || true)"
say "incluster request POST (create a ConfigMap), then get one field back without jq"
"$BIN/incluster" request POST "/api/v1/namespaces/$NS/configmaps" \
  --data '{"metadata":{"name":"hello"},"data":{"greeting":"hi from the pod"}}' -o name
"$BIN/incluster" get "/api/v1/namespaces/$NS/configmaps/hello" -o jsonpath='{.data.greeting}'
echo
say "RBAC says no to secrets: exit code 5 and the API's Status on stderr"
"$BIN/incluster" get "/api/v1/namespaces/$NS/secrets" || echo "exit code $?"

say "the C example (examples/hello.c) linked against libincluster.so"
cc -std=c11 -Wall -Wextra -Werror -Iinclude examples/hello.c -L"$BIN" -Wl,-rpath,"$BIN" \
  -lincluster -o "$WORK/hello"
"$WORK/hello"

say "the Python example (examples/hello.py)"
"$PYTHON" examples/hello.py
