#!/usr/bin/env bash
# sync_multicluster.sh PLUMB - apps of one App-of-Apps tree on two clusters.
#
# Two `plumb sandbox` instances; one kubeconfig holding both (the second's names renamed, merged
# through KUBECONFIG as kubectl merges). The root has an app for the target cluster
# (https://kubernetes.default.svc) and one for https://other.example.com, mapped with
# `--cluster https://other.example.com=other`. Checked: each app's objects land on its own
# cluster and nowhere else; `plumb diff` sees both as in sync; a second sync writes nothing to
# either; an app whose destination has no mapping fails alone, naming the app and the server,
# and nothing of it is written anywhere.
set -uo pipefail
plumb=${1:?usage: sync_multicluster.sh PLUMB}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/sandbox_lib.sh"

work=$(mktemp -d)
A_PID=
trap 'sandbox_stop; [ -n "$A_PID" ] && kill "$A_PID" 2>/dev/null; rm -rf "$work"' EXIT
fail=0
check() {
    local what=$1
    shift
    if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fail=1; fi
}

mkdir -p "$work/a" "$work/b" "$work/repo/root" "$work/repo/here" "$work/repo/there"
sandbox_start "$plumb" "$work/a" || exit 1
A_PID=$SB_PID A_URL=$SB_URL A_CA=$SB_CA A_TOKEN=$SB_TOKEN A_LOG=$SB_LOG
sandbox_start "$plumb" "$work/b" || exit 1
B_URL=$SB_URL B_CA=$SB_CA B_TOKEN=$SB_TOKEN B_LOG=$SB_LOG
sed 's/plumb-sandbox/other/g' "$work/b/kubeconfig" >"$work/other.kubeconfig"
export KUBECONFIG="$work/a/kubeconfig:$work/other.kubeconfig"

app() { # app NAME SERVER NAMESPACE
    cat <<YAML
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: $1
spec:
  project: default
  source:
    repoURL: https://git.example.com/multi.git
    path: $1
  destination:
    server: $2
    namespace: $3
  syncPolicy:
    syncOptions:
    - CreateNamespace=true
YAML
}
cm() { printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  k: v\n' "$1"; }
app here https://kubernetes.default.svc ns-here >"$work/repo/root/here.yaml"
app there https://other.example.com ns-there >"$work/repo/root/there.yaml"
cm cm-here >"$work/repo/here/cm.yaml"
cm cm-there >"$work/repo/there/cm.yaml"
opts=(--repo-alias "https://git.example.com/multi.git=$work/repo" --cluster https://other.example.com=other)

get() { # get URL CA TOKEN PATH: HTTP status
    curl -s -o /dev/null -w '%{http_code}' --cacert "$2" -H "Authorization: Bearer $3" "$1$4"
}
writes() { awk '$1 ~ /^(POST|PUT|PATCH|DELETE)$/ && $2 !~ /dryRun=All/' "$1" | wc -l; }

"$plumb" sync "$work/repo/root" "${opts[@]}" --timeout 30s >"$work/s1.out" 2>&1
rc=$?
check "sync over two clusters exits 0 (got $rc)" test "$rc" -eq 0
check "cm-here on the target cluster" test "$(get "$A_URL" "$A_CA" "$A_TOKEN" /api/v1/namespaces/ns-here/configmaps/cm-here)" = 200
check "cm-there on the other cluster" test "$(get "$B_URL" "$B_CA" "$B_TOKEN" /api/v1/namespaces/ns-there/configmaps/cm-there)" = 200
check "cm-there not on the target cluster" test "$(get "$A_URL" "$A_CA" "$A_TOKEN" /api/v1/namespaces/ns-there/configmaps/cm-there)" = 404
check "cm-here not on the other cluster" test "$(get "$B_URL" "$B_CA" "$B_TOKEN" /api/v1/namespaces/ns-here/configmaps/cm-here)" = 404
"$plumb" diff "$work/repo/root" "${opts[@]}" >"$work/d1.out" 2>&1
rc=$?
check "diff over two clusters exits 0 (got $rc)" test "$rc" -eq 0
wa=$(writes "$A_LOG") wb=$(writes "$B_LOG")
"$plumb" sync "$work/repo/root" "${opts[@]}" --timeout 30s >"$work/s2.out" 2>&1
check "second sync exits 0" test $? -eq 0
check "second sync writes nothing to the target cluster" test "$(writes "$A_LOG")" -eq "$wa"
check "second sync writes nothing to the other cluster" test "$(writes "$B_LOG")" -eq "$wb"

# a destination without a mapping
app lost https://lost.example.com ns-lost >"$work/repo/root/lost.yaml"
mkdir -p "$work/repo/lost"
cm cm-lost >"$work/repo/lost/cm.yaml"
wa=$(writes "$A_LOG") wb=$(writes "$B_LOG")
"$plumb" sync "$work/repo/root" "${opts[@]}" --timeout 30s >"$work/s3.out" 2>&1
rc=$?
check "unmapped destination: exit 1 (got $rc)" test "$rc" -eq 1
check "unmapped destination: names the app and the server" \
    grep -q "lost.*https://lost.example.com" "$work/s3.out"
check "unmapped destination: nothing written anywhere" \
    test "$(writes "$A_LOG")" -eq "$wa" -a "$(writes "$B_LOG")" -eq "$wb"

[ "$fail" -eq 0 ] || cat "$work/s1.out" "$work/d1.out" "$work/s3.out"
exit "$fail"
