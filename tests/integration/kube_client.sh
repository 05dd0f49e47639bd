#!/usr/bin/env bash
# plumb's Kubernetes client (engine/kube) against `plumb sandbox` over TLS (issue 3):
#   - the token context, the client-certificate context and an exec-plugin kubeconfig each run
#     the basic scenario (discovery, apply 201 / no-op, conflict + force, dry-run, get, list
#     pages, watch, delete, CRD then CR);
#   - a sandbox injecting 500/503/429 faults: 200 applies all succeed, each object exists once;
#   - a sandbox with added latency: 100 GETs of one batch finish far below 100 x latency.
# Usage: kube_client.sh PLUMB KUBE_CLIENT_DRIVER. Exit 77 (skip) when `plumb sandbox` does not
# exist yet; any other problem fails loudly.
set -u
PLUMB=${1:?plumb binary}
DRIVER=${2:?kube_client driver}

if ! "$PLUMB" sandbox --help >/dev/null 2>&1 && "$PLUMB" sandbox --help 2>&1 | grep -q 'unknown command'; then
    echo "SKIP: this plumb has no 'sandbox' subcommand yet"
    exit 77
fi

WORK=$(mktemp -d /tmp/pl-kube-it-XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# start_sandbox NAME [extra args...]: starts it, waits for the listening line and kubeconfig
start_sandbox() {
    local name=$1; shift
    local dir=$WORK/$name
    mkdir -p "$dir"
    "$PLUMB" sandbox --listen 127.0.0.1:0 --kubeconfig-out "$dir/kubeconfig" \
        --request-log "$dir/requests.log" "$@" >"$dir/out" 2>"$dir/err" &
    PIDS+=($!)
    local pid=$!
    for _ in $(seq 1 100); do
        if grep -q 'listening on https://' "$dir/out" 2>/dev/null && [ -s "$dir/kubeconfig" ]; then
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || { cat "$dir/err" >&2; fail "sandbox $name exited"; }
        sleep 0.1
    done
    cat "$dir/out" "$dir/err" >&2
    fail "sandbox $name did not start"
}

start_sandbox main
KC=$WORK/main/kubeconfig
grep -q 'plumb-sandbox-cert' "$KC" || fail "kubeconfig has no plumb-sandbox-cert context"

echo "== token context"
"$DRIVER" basic "$KC" plumb-sandbox tok || fail "basic scenario with the token context"
echo "== client-certificate context"
"$DRIVER" basic "$KC" plumb-sandbox-cert crt || fail "basic scenario with the client-cert context"
echo "== exec plugin"
"$DRIVER" mkexec "$KC" "$WORK/exec" || fail "writing the exec kubeconfig"
"$DRIVER" basic "$WORK/exec/kubeconfig" exec exe || fail "basic scenario with the exec plugin"
# first run: a stale token, 401, the plugin runs again; then the credential is cached
runs=$(wc -l <"$WORK/exec/bin/runs" 2>/dev/null || echo 0)
[ "$runs" -eq 2 ] || fail "the exec plugin ran $runs time(s), want 2 (stale token, 401, re-run)"
echo "ok exec plugin ran twice (stale token -> 401 -> re-run), then its credential was cached"

echo "== TLS settings"
"$DRIVER" get "$WORK/exec/tsn-ok" 0 || fail "tls-server-name localhost"
"$DRIVER" get "$WORK/exec/tsn-bad" -1 || fail "tls-server-name wrong.example must fail verification"
"$DRIVER" get "$WORK/exec/insecure" 0 || fail "insecure-skip-tls-verify"
"$DRIVER" get "$WORK/exec/noca" -1 || fail "no CA must fail verification"

# the request log has the apply with plumb's field manager; the token appears nowhere in logs
grep -q '^PATCH /api/v1/namespaces/tok-ns/configmaps/cfg?fieldManager=plumb&force=false 20[01]' \
    "$WORK/main/requests.log" || fail "request log lacks the apply PATCH"
echo "ok request log shows PATCH ...?fieldManager=plumb&force=false"

echo "== faults"
start_sandbox faults --faults 500=0.1,503=0.1,429=0.1
"$DRIVER" faults "$WORK/faults/kubeconfig" plumb-sandbox 200 || fail "fault recovery"
n5=$(grep -c ' 50[03]\b' "$WORK/faults/requests.log" || true)
n4=$(grep -c ' 429\b' "$WORK/faults/requests.log" || true)
echo "ok sandbox answered $n5 5xx and $n4 429 responses during the run"

echo "== concurrency"
start_sandbox slow --faults latency=50ms
"$DRIVER" concurrent "$WORK/slow/kubeconfig" plumb-sandbox 100 2000 || fail "batch concurrency"
echo "PASS"
