#!/usr/bin/env bash
# sync_bootstrap.sh PLUMB - `plumb sync` of an App-of-Apps into a fresh `plumb sandbox`.
#
# The fixture (tests/integration/sync_fixture) is a root with three child apps: platform
# (wave 0: a CRD and a custom resource, a ConfigMap, a ServiceAccount, a PreSync hook Job,
# CreateNamespace), workloads and extras (wave 1: a Deployment, a Service, a ConfigMap that
# restarts the Deployment when it changes, a Secret, a PostSync hook Job; ConfigMaps and a
# custom resource in a second namespace). Checked, from the sandbox's request log:
#   1. the bootstrap exits 0; namespaces and the CRD are written before what uses them, the
#      PreSync hook before the app's own objects, wave 0 before wave 1, the PostSync hook after
#      the Deployment;
#   2. a second sync sends zero write requests;
#   3. a changed ConfigMap is applied alone and restarts the Deployment named by its annotation;
#   4. prune: a removed file is pruned with --prune, and only that object; without --prune it
#      stays and is reported;
#   5. a broken kustomization fails the sync with zero writes and zero deletions;
#   6. an empty render prunes nothing.
set -uo pipefail
plumb=${1:?usage: sync_bootstrap.sh PLUMB}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/sandbox_lib.sh"

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

sandbox_start "$plumb" "$work" --simulate-status=200ms || exit 1
sync() { "$plumb" sync "$@" --kubeconfig "$SB_KUBECONFIG" "${alias_opt[@]}" --timeout 60s; }

# ---- 1. bootstrap -------------------------------------------------------------------------
sync "$repo/root" >"$work/sync1.out" 2>"$work/sync1.err"
rc=$?
check "bootstrap exits 0 (got $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || { cat "$work/sync1.out" "$work/sync1.err"; }

# line number of the first write matching a path pattern (0 when none)
first_write() {
    awk -v pat="$1" '$1 ~ /^(POST|PUT|PATCH|DELETE)$/ && $2 !~ /dryRun=All/ && $2 ~ pat {print NR; exit}' "$SB_LOG"
}
before() { # before PAT_A PAT_B: the first write of A precedes the first write of B
    local a b
    a=$(first_write "$1")
    b=$(first_write "$2")
    [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]
}
check "namespace team-a before its objects" before '/api/v1/namespaces/team-a[?]' '/namespaces/team-a/configmaps/'
check "CRD before its custom resources" before 'customresourcedefinitions/widgets.example.com' '/widgets/main'
check "PreSync hook before the app's objects" before '/jobs/db-migrate' '/configmaps/platform-settings'
check "wave 0 (platform) before wave 1 (workloads)" before '/widgets/main' '/deployments/web'
check "PostSync hook after the Deployment" before '/deployments/web' '/jobs/smoke-test'
check "extras' second namespace created" test -n "$(first_write '/api/v1/namespaces/team-b[?]')"
check "the Secret value never appears in plumb's output" \
    bash -c "! grep -q 's3cr3t-value' '$work/sync1.out' '$work/sync1.err'"

# ---- 2. no-op resync ------------------------------------------------------------------------
mark=$(wc -l <"$SB_LOG")
sync "$repo/root" >"$work/sync2.out" 2>&1
rc=$?
writes=$(sandbox_writes "$mark" | wc -l)
check "second sync exits 0 (got $rc)" test "$rc" -eq 0
check "second sync sends zero write requests (got $writes)" test "$writes" -eq 0
[ "$writes" -eq 0 ] || sandbox_writes "$mark" | head -5

# ---- 3. a changed ConfigMap restarts its Deployment ------------------------------------------
sed -i 's/greeting: hello/greeting: bonjour/' "$repo/workloads/settings.yaml"
mark=$(wc -l <"$SB_LOG")
sync "$repo/root" >"$work/sync3.out" 2>&1
rc=$?
w=$(sandbox_writes "$mark")
check "changed ConfigMap sync exits 0 (got $rc)" test "$rc" -eq 0
check "only the ConfigMap is applied" test "$(echo "$w" | grep -c 'PATCH .*/configmaps/web-settings')" -eq 1
check "the Deployment is restarted (pod template annotation)" \
    bash -c "echo '$w' | grep -q 'PATCH .*/deployments/web'"

# ---- 4. prune ---------------------------------------------------------------------------------
python3 - "$repo/extras/extras.yaml" <<'EOF'
import sys
p = sys.argv[1]
docs = open(p).read().split("---\n")
open(p, "w").write("---\n".join(d for d in docs if "extra-two" not in d))
EOF
mark=$(wc -l <"$SB_LOG")
sync "$repo/root" >"$work/sync4.out" 2>&1
check "without --prune the removed object stays (no DELETE)" \
    test "$(sandbox_writes "$mark" | grep -c '^DELETE')" -eq 0
check "and the report says it was not pruned" grep -q 'skipped.*extra-two' "$work/sync4.out"
mark=$(wc -l <"$SB_LOG")
sync "$repo/root" --prune >"$work/sync5.out" 2>&1
rc=$?
dels=$(sandbox_writes "$mark" | grep '^DELETE')
check "--prune exits 0 (got $rc)" test "$rc" -eq 0
check "--prune deletes exactly the removed object" \
    bash -c "[ \"\$(echo '$dels' | grep -c .)\" -eq 1 ] && echo '$dels' | grep -q '/configmaps/extra-two'"

# ---- 5. a broken kustomization: nothing written, nothing deleted -----------------------------
cp -r "$repo" "$work/broken"
echo "- missing-file.yaml" >>"$work/broken/workloads/kustomization.yaml"
mark=$(wc -l <"$SB_LOG")
"$plumb" sync "$work/broken/root" --kubeconfig "$SB_KUBECONFIG" --prune \
    --repo-alias "https://git.example.com/plumb/sync-fixture.git=$work/broken" >"$work/sync6.out" 2>&1
rc=$?
check "broken kustomization fails the sync (exit 1, got $rc)" test "$rc" -eq 1
check "the failure names the missing file" grep -q 'missing-file.yaml' "$work/sync6.out"
check "zero deletions after a broken render" test "$(sandbox_writes "$mark" | grep -c '^DELETE')" -eq 0

# ---- 6. an empty render prunes nothing ---------------------------------------------------------
cp -r "$repo" "$work/empty"
printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n' \
    >"$work/empty/extras/kustomization.yaml"
mark=$(wc -l <"$SB_LOG")
"$plumb" sync "$work/empty/root" --kubeconfig "$SB_KUBECONFIG" --prune \
    --repo-alias "https://git.example.com/plumb/sync-fixture.git=$work/empty" >"$work/sync7.out" 2>&1
rc=$?
check "empty render fails the app (exit 1, got $rc)" test "$rc" -eq 1
check "empty render prunes nothing" test "$(sandbox_writes "$mark" | grep -c '^DELETE')" -eq 0
check "the report says why" grep -q 'render is empty' "$work/sync7.out"

# ---- 7. SkipDryRunOnMissingResource: the kind is looked up when its wave comes ---------------
# An operator of wave 0 would install the CRD; here the test loads it while wave 0 (a
# Deployment the sandbox makes healthy after 2 s) is still progressing.
sandbox_stop
mkdir -p "$work/skip" "$work/sb2"
cat >"$work/skip/objects.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: gate
  namespace: default
spec:
  selector: {matchLabels: {app: gate}}
  template:
    metadata: {labels: {app: gate}}
    spec: {containers: [{name: c, image: busybox:1.36}]}
---
apiVersion: example.org/v1
kind: Gizmo
metadata:
  name: g1
  namespace: default
  annotations:
    argocd.argoproj.io/sync-wave: "1"
    argocd.argoproj.io/sync-options: SkipDryRunOnMissingResource=true
spec: {}
YAML
sed 's/widgets.example.com/gizmos.example.org/; s/group: example.com/group: example.org/;
     s/kind: Widget, listKind: WidgetList, plural: widgets, singular: widget/kind: Gizmo, listKind: GizmoList, plural: gizmos, singular: gizmo/' \
    "$repo/platform/crd.yaml" >"$work/gizmo-crd.yaml"
sandbox_start "$plumb" "$work/sb2" --simulate-status=2s || exit 1
(sleep 0.7 && sandbox_load "$work/gizmo-crd.yaml") &
loader=$!
"$plumb" sync "$work/skip" --kubeconfig "$SB_KUBECONFIG" --timeout 30s >"$work/sync8.out" 2>&1
rc=$?
wait "$loader"
check "SkipDryRunOnMissingResource: a CRD that appears before the wave (exit 0, got $rc)" \
    test "$rc" -eq 0
check "SkipDryRunOnMissingResource: the custom resource was created" \
    grep -q "created *Gizmo.example.org/default/g1" "$work/sync8.out"
sed -i 's/Gizmo/Sprocket/; s/name: g1/name: s1/' "$work/skip/objects.yaml"
"$plumb" sync "$work/skip" --kubeconfig "$SB_KUBECONFIG" --timeout 30s >"$work/sync9.out" 2>&1
rc=$?
check "SkipDryRunOnMissingResource: a kind that never appears fails (exit 1, got $rc)" \
    test "$rc" -eq 1
check "SkipDryRunOnMissingResource: the failure says so" \
    grep -q "Sprocket.*when its wave came" "$work/sync9.out"

if [ "$fail" -ne 0 ]; then
    echo "--- first sync output"; cat "$work/sync1.out" "$work/sync1.err"
    cat "$work/sync8.out" "$work/sync9.out" 2>/dev/null
    exit 1
fi
exit 0
