#!/usr/bin/env bash
# drift_live.sh PLUMB - `plumb diff PATH` against a cluster (a `plumb sandbox`), with the real
# kubectl as the independent client that makes the cluster drift.
#
# On the sync fixture (tests/integration/sync_fixture), checked:
#   1. before any sync every object is reported added (exit 1); a kind whose CRD another app
#      brings is "added", not an error (and `sync --dry-run` would create it, writing nothing);
#      after the bootstrap sync: exit 0, "no differences";
#   2. `kubectl patch` of fields plumb owns (a ConfigMap value, a Deployment's replicas):
#      exit 1, the objects and the fields are named, in text, json and markdown; a field plumb
#      does not own (a label kubectl adds) is no drift;
#   3. a Secret changed in the cluster: its key is listed as changed, neither value appears
#      anywhere (stdout or stderr, any format, plain or base64);
#   4. `plumb sync` repairs the drift: diff exits 0 again;
#   5. an object removed from Git but still in the inventory is reported removed;
#   6. ignoreDifferences: a scaled Deployment with /spec/replicas ignored is no drift and no
#      write; RespectIgnoreDifferences=true keeps the live replicas when the Deployment is
#      applied for another change, without it Git's value comes back;
#   7. errors exit 2 with one line: an unreachable cluster, a PATH that does not exist.
set -uo pipefail
plumb=${1:?usage: drift_live.sh PLUMB}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/sandbox_lib.sh"
if ! command -v kubectl >/dev/null 2>&1; then
    echo "skipped: kubectl is not installed (it makes the cluster drift in this test)"
    exit 77
fi

work=$(mktemp -d)
trap 'sandbox_stop; rm -rf "$work"' EXIT
cp -r "$here/sync_fixture" "$work/repo"
repo=$work/repo
alias_opt=(--repo-alias "https://git.example.com/plumb/sync-fixture.git=$repo")
fail=0
check() { # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then
        echo "ok: $what"
    else
        echo "FAIL: $what"
        fail=1
    fi
}
has() { grep -qF -- "$2" "$1"; }
hasnt() { ! grep -qF -- "$2" "$1"; }

sandbox_start "$plumb" "$work" --simulate-status=100ms || exit 1
kc() { kubectl --kubeconfig "$SB_KUBECONFIG" --cache-dir "$work/kcache.$RANDOM" "$@"; }
diff_() { # diff_ NAME [args...]: stdout to $work/NAME.out, stderr to $work/NAME.err, rc in $rc
    local name=$1
    shift
    "$plumb" diff "$repo/root" --kubeconfig "$SB_KUBECONFIG" "${alias_opt[@]}" "$@" \
        >"$work/$name.out" 2>"$work/$name.err"
    rc=$?
}
sync_() { "$plumb" sync "$repo/root" --kubeconfig "$SB_KUBECONFIG" "${alias_opt[@]}" --timeout 60s "$@"; }

# ---- 1. before and after the bootstrap ----------------------------------------------------
diff_ d0
check "diff of a fresh cluster exits 1 (got $rc)" test "$rc" -eq 1
check "fresh: the Deployment is added" has "$work/d0.out" "added    Deployment.apps/team-a/web"
check "fresh: a custom resource whose CRD is in another app is added" \
    has "$work/d0.out" "added    Widget.example.com/team-b/side"
check "fresh: the Secret's value is not shown" hasnt "$work/d0.out" "s3cr3t-value"
check "fresh: the Secret's base64 value is not shown" hasnt "$work/d0.out" "czNjcjN0LXZhbHVl"
mark=$(wc -l <"$SB_LOG")
sync_ --dry-run >"$work/dry.out" 2>&1
rc=$?
check "dry run of a fresh cluster exits 0 (got $rc)" test "$rc" -eq 0
check "dry run: a kind whose CRD an earlier app brings would be created" \
    grep -q "created *Widget.example.com/team-b/side: dry run: would be created" "$work/dry.out"
check "dry run: no write request" test "$(sandbox_writes "$mark" | wc -l)" -eq 0
sync_ >"$work/sync1.out" 2>&1
check "bootstrap sync exits 0" test $? -eq 0
diff_ d1
check "after sync: exit 0 (got $rc)" test "$rc" -eq 0
check "after sync: no differences" has "$work/d1.out" "no differences"
check "after sync: no stderr" test ! -s "$work/d1.err"

# ---- 2. drift in owned fields ----------------------------------------------------------------
kc -n team-a patch configmap web-settings --type merge -p '{"data":{"greeting":"patched"}}' >/dev/null
kc -n team-a patch deployment web --type merge -p '{"spec":{"replicas":5}}' >/dev/null
kc -n team-a label configmap web-settings added-by=kubectl >/dev/null
diff_ d2
check "patched: exit 1 (got $rc)" test "$rc" -eq 1
check "patched: names the ConfigMap and its field" \
    has "$work/d2.out" "changed  ConfigMap/team-a/web-settings: data.greeting"
check "patched: names the Deployment and its field" \
    has "$work/d2.out" "changed  Deployment.apps/team-a/web: spec.replicas"
check "patched: a unified diff of the value" has "$work/d2.out" "+  greeting: hello"
check "patched: a label plumb does not own is no drift" hasnt "$work/d2.out" "added-by"
diff_ d2j -o json
check "json: exit 1" test "$rc" -eq 1
check "json: the ConfigMap's changed field" python3 - "$work/d2j.out" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
objs = [o for a in rep["apps"] for o in a["objects"]]
cm = [o for o in objs if o["kind"] == "ConfigMap" and o["name"] == "web-settings"]
assert len(cm) == 1 and cm[0]["action"] == "changed" and cm[0]["fields"] == ["data.greeting"], cm
assert rep["summary"]["changed"] == 2, rep["summary"]
PY
diff_ d2m -o markdown
check "markdown: exit 1 and a table row for the app" has "$work/d2m.out" "| workloads | 0 | 0 | 2 |"

# ---- 3. a Secret -------------------------------------------------------------------------------
kc -n team-a patch secret web-credentials --type merge -p '{"stringData":{"password":"other-secret-9"}}' >/dev/null
for fmt in text json markdown; do
    diff_ "s-$fmt" -o "$fmt"
    check "secret ($fmt): exit 1" test "$rc" -eq 1
    for v in s3cr3t-value czNjcjN0LXZhbHVl other-secret-9 b3RoZXItc2VjcmV0LTk; do
        check "secret ($fmt): $v appears nowhere" \
            bash -c "! grep -qF -- '$v' '$work/s-$fmt.out' '$work/s-$fmt.err'"
    done
done
check "secret: the key is listed as changed" has "$work/s-text.out" "secret keys: password changed"

# ---- 4. sync repairs ----------------------------------------------------------------------------
sync_ >"$work/sync2.out" 2>&1
check "repair sync exits 0" test $? -eq 0
diff_ d4
check "after repair: exit 0 (got $rc)" test "$rc" -eq 0
check "after repair: the kubectl label survived (not plumb's)" \
    test "$(kc -n team-a get configmap web-settings -o jsonpath='{.metadata.labels.added-by}')" = kubectl

# ---- 5. removed from Git -------------------------------------------------------------------------
python3 - "$repo/extras/extras.yaml" <<'PY'
import sys
p = sys.argv[1]
docs = open(p).read().split("---\n")
open(p, "w").write("---\n".join(d for d in docs if "name: extra-two" not in d))
PY
diff_ d5
check "removed: exit 1 (got $rc)" test "$rc" -eq 1
check "removed: names the object" has "$work/d5.out" "removed  ConfigMap/team-b/extra-two"
sync_ --prune >/dev/null 2>&1
diff_ d5b
check "after prune: exit 0 (got $rc)" test "$rc" -eq 0

# ---- 6. ignoreDifferences ----------------------------------------------------------------------
cat >>"$repo/root/apps/workloads.yaml" <<'YAML'
  ignoreDifferences:
  - group: apps
    kind: Deployment
    jsonPointers:
    - /spec/replicas
YAML
kc -n team-a scale deployment web --replicas=4 >/dev/null
diff_ d6
check "ignored replicas: exit 0 (got $rc)" test "$rc" -eq 0
mark=$(wc -l <"$SB_LOG")
sync_ >"$work/sync6.out" 2>&1
check "ignored replicas: sync exits 0" test $? -eq 0
sandbox_writes "$mark" >"$work/w6"; check "ignored replicas: sync writes nothing" test ! -s "$work/w6"
# another change to the Deployment: without RespectIgnoreDifferences Git's replicas come back
sed -i 's/image: nginx:1.27/image: nginx:1.27.1/' "$repo/workloads/web.yaml"
sync_ >"$work/sync6b.out" 2>&1
check "image change: sync exits 0" test $? -eq 0
check "without RespectIgnoreDifferences: replicas back to Git's 2" \
    test "$(kc -n team-a get deployment web -o jsonpath='{.spec.replicas}')" = 2
kc -n team-a scale deployment web --replicas=4 >/dev/null
sed -i 's/    - CreateNamespace=true/    - CreateNamespace=true\n    - RespectIgnoreDifferences=true/' "$repo/root/apps/workloads.yaml"
sed -i 's/image: nginx:1.27.1/image: nginx:1.27.2/' "$repo/workloads/web.yaml"
sync_ >"$work/sync6c.out" 2>&1
check "RespectIgnoreDifferences: sync exits 0" test $? -eq 0
check "RespectIgnoreDifferences: the new image is applied" \
    test "$(kc -n team-a get deployment web -o jsonpath='{.spec.template.spec.containers[0].image}')" = nginx:1.27.2
check "RespectIgnoreDifferences: live replicas kept (4)" \
    test "$(kc -n team-a get deployment web -o jsonpath='{.spec.replicas}')" = 4
diff_ d6c
check "RespectIgnoreDifferences: diff exits 0 (got $rc)" test "$rc" -eq 0

# ---- 7. errors -----------------------------------------------------------------------------------
sed 's#server: https://127.0.0.1:[0-9]*#server: https://127.0.0.1:1#' "$SB_KUBECONFIG" >"$work/down.kubeconfig"
"$plumb" diff "$repo/root" --kubeconfig "$work/down.kubeconfig" "${alias_opt[@]}" \
    >"$work/e1.out" 2>"$work/e1.err"
rc=$?
check "unreachable cluster: exit 2 (got $rc)" test "$rc" -eq 2
check "unreachable cluster: an error line" grep -q "^plumb: error: " "$work/e1.err"
"$plumb" diff "$work/nope" --kubeconfig "$SB_KUBECONFIG" >"$work/e2.out" 2>"$work/e2.err"
rc=$?
check "missing PATH: exit 2 (got $rc)" test "$rc" -eq 2
check "missing PATH: one line naming it" \
    test "$(wc -l <"$work/e2.err")" -eq 1 -a "$(grep -c nope "$work/e2.err")" -eq 1

if [ "$fail" -ne 0 ]; then
    for f in w6 sync6.out d2.out s-text.out d5.out d6.out sync6c.out e1.err e1.out; do
        echo "== $f"
        head -40 "$work/$f" 2>/dev/null
    done
fi
exit "$fail"
