#!/usr/bin/env bash
# sandbox_transport.sh PLUMB - `plumb sandbox`'s transport with curl: authentication (token,
# client certificate, 401 body), response headers, the 3 MiB body limit (413), faults from
# --faults and from the control endpoint (429 text + Retry-After, 503, 500, drop, latency),
# the request log file and /_plumb/requests, --state credential reuse, SIGTERM exit 0.
set -uo pipefail

plumb=${1:?usage: sandbox_transport.sh PLUMB}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=sandbox_lib.sh
. "$here/sandbox_lib.sh"
work=$(mktemp -d)
trap 'sandbox_stop; rm -rf "$work"' EXIT

fails=0
ok() { echo "ok   - $1"; }
fail() {
    echo "FAIL - $1"
    fails=$((fails + 1))
    [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/    | /'
}
expect() { # NAME ACTUAL WANT
    if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "got:  $2"$'\n'"want: $3"; fi
}
C() { curl -sS --cacert "$SB_CA" -H "Authorization: Bearer $SB_TOKEN" "$@"; }

sandbox_start "$plumb" "$work" --state "$work/state" || exit 1

# authentication
expect "no credentials: 401 Status" \
    "$(curl -sS --cacert "$SB_CA" -w ' %{http_code}' "$SB_URL/api")" \
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}
 401'
expect "wrong token: 401" \
    "$(curl -sS -o /dev/null --cacert "$SB_CA" -H 'Authorization: Bearer nope' -w '%{http_code}' "$SB_URL/version")" 401
expect "anonymous /version" \
    "$(curl -sS -o /dev/null --cacert "$SB_CA" -w '%{http_code}' "$SB_URL/version")" 200
expect "token" "$(C -o /dev/null -w '%{http_code}' "$SB_URL/api/v1")" 200
expect "client certificate" \
    "$(curl -sS -o /dev/null --cacert "$SB_CA" --cert "$work/state/pki/client.crt" \
        --key "$work/state/pki/client.key" -w '%{http_code}' "$SB_URL/api/v1")" 200
hdrs=$(C -D - -o /dev/null "$SB_URL/api/v1")
if grep -qi '^audit-id: [0-9a-f-]\{36\}' <<<"$hdrs" && grep -qi '^cache-control: no-cache, private' <<<"$hdrs" &&
    grep -qi '^content-type: application/json' <<<"$hdrs"; then ok "response headers"; else
    fail "response headers" "$hdrs"; fi

# body limit
head -c 3145729 /dev/zero | tr '\0' 'a' >"$work/big"
expect "413 over 3 MiB" \
    "$(C -H 'Content-Type: application/json' --data-binary @"$work/big" -w ' %{http_code}' \
        "$SB_URL/api/v1/namespaces/default/configmaps")" \
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Request entity too large: limit is 3145728","reason":"RequestEntityTooLarge","code":413}
 413'

# faults via the control endpoint
expect "faults default" "$(C "$SB_URL/_plumb/faults")" \
    '{"500":0.0,"503":0.0,"429":0.0,"latency_ms":0,"drop":0.0}'
C -X PUT -d '{"429":1}' "$SB_URL/_plumb/faults" >/dev/null
out=$(C -D - "$SB_URL/api/v1")
if grep -q '^HTTP/1.1 429' <<<"$out" && grep -qi '^retry-after: 1' <<<"$out" &&
    grep -qi '^content-type: text/plain; charset=utf-8' <<<"$out" &&
    grep -q '^Too many requests, please try again later.' <<<"$out"; then ok "429 fault"; else
    fail "429 fault" "$out"; fi
expect "control paths are never faulted" "$(C -o /dev/null -w '%{http_code}' "$SB_URL/_plumb/faults")" 200
C -X PUT -d '{"503":1}' "$SB_URL/_plumb/faults" >/dev/null
out=$(C -D - "$SB_URL/api/v1")
grep -q '"reason":"ServiceUnavailable","code":503' <<<"$out" && grep -qi '^retry-after: 1' <<<"$out" &&
    ok "503 fault" || fail "503 fault" "$out"
C -X PUT -d '{"500":1}' "$SB_URL/_plumb/faults" >/dev/null
expect "500 fault" "$(C "$SB_URL/api/v1")" \
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Internal error occurred: injected fault","reason":"InternalError","details":{"causes":[{"message":"injected fault"}]},"code":500}'
C -X PUT -d '{"drop":1}' "$SB_URL/_plumb/faults" >/dev/null
C -o /dev/null "$SB_URL/api/v1" 2>/dev/null
rc=$?
[ "$rc" -eq 52 ] || [ "$rc" -eq 56 ] && ok "drop closes the connection (curl exit $rc)" ||
    fail "drop: curl exit $rc"
C -X PUT -d '{"latency_ms":300}' "$SB_URL/_plumb/faults" >/dev/null
t=$(C -o /dev/null -w '%{time_total}' "$SB_URL/version")
awk -v t="$t" 'BEGIN{exit !(t >= 0.3)}' && ok "latency ($t s)" || fail "latency: $t s"
expect "bad faults body" "$(C -o /dev/null -w '%{http_code}' -X PUT -d '{"500":7}' "$SB_URL/_plumb/faults")" 400
C -X PUT -d '{}' "$SB_URL/_plumb/faults" >/dev/null

# request log
C -o /dev/null "$SB_URL/api/v1/namespaces/default/configmaps?labelSelector=a+in+%28x%29&limit=5"
line=$(grep -F 'GET /api/v1/namespaces/default/configmaps?labelSelector=a+in+%28x%29&limit=5 ' "$SB_LOG" | tail -1)
[ "$(cut -d' ' -f3 <<<"$line")" = 200 ] && ok "request log line" || fail "request log line" "$(tail -5 "$SB_LOG")"
grep -q '/_plumb/' "$SB_LOG" && fail "control paths logged" || ok "control paths not logged"
reqs=$(C "$SB_URL/_plumb/requests")
python3 - "$reqs" <<'PY' && ok "/_plumb/requests" || fail "/_plumb/requests" "$reqs"
import json, sys
l = json.loads(sys.argv[1])
e = [x for x in l if x["path"] == "/api/v1/namespaces/default/configmaps"][-1]
assert e["method"] == "GET" and e["status"] == 200
assert e["query"] == "labelSelector=a+in+%28x%29&limit=5"
assert set(e) == {"method", "path", "query", "status", "time", "duration_ms"}
assert any(x["status"] == 0 for x in l)  # the dropped request
PY
C -X DELETE "$SB_URL/_plumb/requests" >/dev/null
expect "request log cleared" "$(C "$SB_URL/_plumb/requests")" "[]"

# restart with the same --state: the old credentials still work
old_token=$SB_TOKEN
port=${SB_URL##*:}
kill -TERM "$SB_PID"
wait "$SB_PID"
rc=$?
SB_PID=
expect "SIGTERM exit code" "$rc" 0
sandbox_start "$plumb" "$work" --state "$work/state" --listen "127.0.0.1:$port" || exit 1
expect "token survives a restart" "$old_token" "$SB_TOKEN"
expect "old CA and token accepted" "$(C -o /dev/null -w '%{http_code}' "$SB_URL/api/v1")" 200

if [ "$fails" -gt 0 ]; then
    echo "$fails check(s) failed"
    exit 1
fi
echo "all checks passed"
