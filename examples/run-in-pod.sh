#!/usr/bin/env bash
# Builds incluster, starts the project's loopback test API server (HTTPS, its own CA), lays out
# a ServiceAccount directory exactly as the kubelet does, and runs the CLI, a C program and a
# Python program in that simulated pod.
#
#   bash examples/run-in-pod.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${INCLUSTER_CACHE:-$HOME/.cache/incluster}/target}"
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

say "installing tools if missing (cc, valgrind)"
bash tests/setup.sh
say "building the library, the CLI and the test API server"
cargo build --lib --bins --example testserver
BIN="$CARGO_TARGET_DIR/debug"

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

say "starting the test API server (loopback HTTPS, generated CA)"
# A token shaped like a ServiceAccount token (a JWT), so `incluster info` can show its claims.
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
EXP=$(( $(date +%s) + 3600 ))
CLAIMS='{"iss":"https://kubernetes.default.svc","sub":"system:serviceaccount:demo:hello",'
CLAIMS+='"aud":["https://kubernetes.default.svc"],"exp":'$EXP',"iat":'$(date +%s)','
CLAIMS+='"kubernetes.io":{"namespace":"demo","serviceaccount":{"name":"hello","uid":"1"},'
CLAIMS+='"pod":{"name":"hello-pod","uid":"2"}}}'
TOKEN="$(printf '{"alg":"none"}' | b64url).$(printf '%s' "$CLAIMS" | b64url).$(head -c 16 /dev/urandom | b64url)"
mkfifo "$WORK/keep-open"
"$BIN/examples/testserver" --dir "$WORK/server" --token "$TOKEN" <"$WORK/keep-open" >"$WORK/ready" &
SERVER_PID=$!
exec 3>"$WORK/keep-open"   # the server exits when this closes
for _ in $(seq 100); do grep -q READY "$WORK/ready" 2>/dev/null && break; sleep 0.1; done
PORT="$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$WORK/ready")"
echo "server on https://127.0.0.1:$PORT"

say "laying out the ServiceAccount directory as the kubelet does"
SA="$WORK/serviceaccount"
TS="..$(date +%Y_%m_%d_%H_%M_%S.%N)"
mkdir -p "$SA/$TS"
printf '%s' "$TOKEN" >"$SA/$TS/token"
cp "$WORK/server/ca.crt" "$SA/$TS/ca.crt"
printf 'demo' >"$SA/$TS/namespace"
ln -s "$TS" "$SA/..data"
for f in token ca.crt namespace; do ln -s "..data/$f" "$SA/$f"; done
ls -la "$SA"

export KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$PORT"
export INCLUSTER_SERVICEACCOUNT_DIR="$SA"

say "incluster info"
"$BIN/incluster" info
say "incluster get /version"
"$BIN/incluster" get /version
say "incluster request POST (create a ConfigMap), then get it back"
"$BIN/incluster" request POST /api/v1/namespaces/demo/configmaps \
  --data '{"metadata":{"name":"hello"},"data":{"greeting":"hi from the pod"}}'
"$BIN/incluster" get /api/v1/namespaces/demo/configmaps/hello
say "a missing object: exit code 5 and the API's Status message on stderr"
"$BIN/incluster" get /api/v1/namespaces/demo/configmaps/nope || echo "exit code $?"

say "the C example (examples/hello.c) linked against libincluster.so"
cc -std=c11 -Wall -Wextra -Werror -Iinclude examples/hello.c -L"$BIN" -Wl,-rpath,"$BIN" \
  -lincluster -o "$WORK/hello"
"$WORK/hello"

say "a field, without jq"
"$BIN/incluster" get /api/v1/namespaces/demo/configmaps/hello -o jsonpath='{.data.greeting}'
echo

say "the Python example (examples/hello.py): building the package into a venv (first time: ~1 min)"
VENV="${INCLUSTER_CACHE:-$HOME/.cache/incluster}/demo-venv"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check maturin==1.16.0
CARGO_TARGET_DIR="$CARGO_TARGET_DIR-python" PATH="$VENV/bin:$PATH" "$VENV/bin/pip" install -q \
  --disable-pip-version-check --no-build-isolation --force-reinstall --no-deps ./python
"$VENV/bin/python" examples/hello.py

say "done: the CLI, the C API and Python worked in a simulated pod"
