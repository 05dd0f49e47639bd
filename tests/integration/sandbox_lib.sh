# sandbox_lib.sh - start and stop `plumb sandbox` for integration tests (sourced).
#
#   sandbox_start PLUMB DIR [sandbox flags...]
#       starts the sandbox on a free loopback port with DIR/kubeconfig and DIR/requests.log,
#       waits for its "listening on" line, sets SB_URL, SB_KUBECONFIG, SB_LOG, SB_PID and
#       SB_CA/SB_TOKEN (for curl). Returns 1 when it does not come up in 10 s.
#   sandbox_stop                    stops it (also installed as an EXIT trap by the caller)
#   sandbox_load FILE               POST a YAML stream to the control endpoint /_plumb/objects
#   sandbox_writes FROM_LINE        write requests in the log after FROM_LINE (no dry runs)

sandbox_start() {
    local plumb=$1 dir=$2
    shift 2
    SB_KUBECONFIG=$dir/kubeconfig
    SB_LOG=$dir/requests.log
    : >"$SB_LOG"
    "$plumb" sandbox --listen 127.0.0.1:0 --kubeconfig-out "$SB_KUBECONFIG" \
        --request-log "$SB_LOG" "$@" >"$dir/sandbox.out" 2>"$dir/sandbox.err" &
    SB_PID=$!
    local i
    for i in $(seq 1 100); do
        SB_URL=$(sed -n 's/.*listening on \(https:\/\/[^ ]*\).*/\1/p' "$dir/sandbox.out" | head -1)
        if [ -n "$SB_URL" ] && [ -s "$SB_KUBECONFIG" ]; then
            SB_CA=$dir/ca.crt
            python3 - "$SB_KUBECONFIG" "$SB_CA" "$dir/token" <<'EOF'
import base64, re, sys
text = open(sys.argv[1]).read()
ca = re.search(r"certificate-authority-data:\s*(\S+)", text).group(1)
open(sys.argv[2], "wb").write(base64.b64decode(ca))
tok = re.search(r"token:\s*(\S+)", text)
open(sys.argv[3], "w").write(tok.group(1) if tok else "")
EOF
            SB_TOKEN=$(cat "$dir/token")
            return 0
        fi
        if ! kill -0 "$SB_PID" 2>/dev/null; then
            echo "sandbox exited early:" >&2
            cat "$dir/sandbox.err" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "sandbox did not come up in 10 s" >&2
    return 1
}

sandbox_stop() {
    if [ -n "${SB_PID:-}" ]; then
        kill "$SB_PID" 2>/dev/null
        wait "$SB_PID" 2>/dev/null
        SB_PID=
    fi
}

sandbox_load() {
    curl -fsS --cacert "$SB_CA" -H "Authorization: Bearer $SB_TOKEN" \
        -H 'Content-Type: application/yaml' --data-binary @"$1" "$SB_URL/_plumb/objects" >/dev/null
}

# writes (POST/PUT/PATCH/DELETE that are not dry runs) logged after line $1
sandbox_writes() {
    tail -n +"$(($1 + 1))" "$SB_LOG" | awk '$1 ~ /^(POST|PUT|PATCH|DELETE)$/ && $2 !~ /dryRun=All/'
}
