#!/usr/bin/env bash
# sandbox_kubectl.sh PLUMB - the real kubectl against `plumb sandbox` (issue 3, "What it must
# show"). Every kubectl run gets a fresh --cache-dir (API-NOTES §1.3). Each check prints
# "ok" or "FAIL" with the command's output and, for failures, the same command again with
# -v=6 (requests and response codes); the script runs every check and exits 1 if any failed.
# Exit 77 when kubectl is absent.
set -uo pipefail

plumb=${1:?usage: sandbox_kubectl.sh PLUMB}
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v kubectl >/dev/null 2>&1; then
    echo "skipped: kubectl is not installed"
    exit 77
fi
# shellcheck source=sandbox_lib.sh
. "$here/sandbox_lib.sh"

work=$(mktemp -d)
trap 'sandbox_stop; rm -rf "$work"' EXIT
sandbox_start "$plumb" "$work" || exit 1
echo "sandbox at $SB_URL"

fails=0
K() { kubectl --kubeconfig "$SB_KUBECONFIG" --cache-dir "$(mktemp -d -p "$work")" "$@"; }
ok() { echo "ok   - $1"; }
fail() {
    echo "FAIL - $1"
    fails=$((fails + 1))
    if [ -n "${2:-}" ]; then
        printf '%s\n' "$2" | sed 's/^/    | /'
    fi
}
# run a kubectl command again with -v=6 to show what it sent and got
trace() {
    echo "    trace: kubectl $*"
    K -v=6 "$@" 2>&1 | grep -E 'round_trippers|Response|Error|error' | head -40 | sed 's/^/    | /'
}
# check NAME WANT_RC GREP_PATTERN kubectl-args... : exit code and an output pattern
check() {
    local name=$1 want=$2 pat=$3
    shift 3
    local out rc
    out=$(K "$@" 2>&1)
    rc=$?
    if [ "$rc" -eq "$want" ] && { [ -z "$pat" ] || grep -qE -- "$pat" <<<"$out"; }; then
        ok "$name"
    else
        fail "$name (exit $rc, want $want, pattern '$pat')" "$out"
        trace "$@"
    fi
}

cat >"$work/cm.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: default
data:
  a: "1"
  b: "2"
Y
cat >"$work/cm-other.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: default
data:
  a: "changed"
Y
cat >"$work/crd.yaml" <<'Y'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [wd]
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size:
                type: integer
Y
cat >"$work/cr.yaml" <<'Y'
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w1
  namespace: default
spec:
  size: 3
Y
cat >"$work/fin.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: fin
  namespace: default
  finalizers:
  - example.com/block
data:
  k: v
Y
cat >"$work/nons.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: lost
  namespace: x
data:
  k: v
Y

# 1. discovery
out=$(K api-resources 2>&1)
missing=""
for r in configmaps deployments statefulsets daemonsets jobs cronjobs customresourcedefinitions \
    horizontalpodautoscalers poddisruptionbudgets ingresses networkpolicies leases \
    validatingwebhookconfigurations mutatingwebhookconfigurations apiservices priorityclasses \
    storageclasses clusterroles rolebindings; do
    grep -qE "^$r " <<<"$out" || missing="$missing $r"
done
if [ -z "$missing" ]; then ok "api-resources lists the built-in types"; else
    fail "api-resources lacks:$missing" "$out"; fi

# 2. server-side apply creates, 3. re-apply keeps the resourceVersion
check "apply --server-side creates" 0 '^configmap/cfg serverside-applied' \
    apply --server-side -f "$work/cm.yaml"
rv1=$(K get cm cfg -o jsonpath='{.metadata.resourceVersion}' 2>&1)
check "re-apply" 0 '^configmap/cfg serverside-applied' apply --server-side -f "$work/cm.yaml"
rv2=$(K get cm cfg -o jsonpath='{.metadata.resourceVersion}' 2>&1)
if [ -n "$rv1" ] && [ "$rv1" = "$rv2" ]; then ok "re-apply keeps resourceVersion ($rv1)"; else
    fail "re-apply changed resourceVersion ($rv1 -> $rv2)"; fi

# 4. conflicts and --force-conflicts
check "another manager conflicts" 1 'conflict with "kubectl"' \
    apply --server-side --field-manager=other -f "$work/cm-other.yaml"
check "--force-conflicts takes the field" 0 '^configmap/cfg serverside-applied' \
    apply --server-side --field-manager=other --force-conflicts -f "$work/cm-other.yaml"
val=$(K get cm cfg -o jsonpath='{.data.a}' 2>&1)
[ "$val" = changed ] && ok "forced value stored" || fail "forced value not stored: $val"

# 5. managedFields with the right managers and operations
mf=$(K get cm cfg -o yaml --show-managed-fields 2>&1)
if python3 - "$mf" <<'PY'
import sys, re
text = sys.argv[1]
ents = re.findall(r"manager: (\S+)\n\s+operation: (\S+)", text)
want = {("kubectl", "Apply"), ("other", "Apply")}
if not want <= set(ents):
    sys.exit(1)
# data.a moved to "other": it must appear in other's fieldsV1, not in kubectl's
blocks = re.split(r"\n  - ", text.split("managedFields:", 1)[1].split("\n  name:", 1)[0])
own = {}
for b in blocks:
    m = re.search(r"manager: (\S+)", b)
    if m:
        own[m.group(1)] = b
if "f:a:" not in own.get("other", "") or "f:a:" in own.get("kubectl", ""):
    sys.exit(2)
PY
then ok "managedFields: kubectl and other Apply entries, data.a moved to other"; else
    fail "managedFields do not show the expected managers/ownership" "$mf"; fi

# 6. kubectl patch, then diff --server-side shows exactly that field
check "kubectl patch" 0 '^configmap/cfg patched' patch cm cfg --type merge -p '{"data":{"b":"3"}}'
out=$(K diff --server-side --force-conflicts -f "$work/cm.yaml" 2>&1)
rc=$?
changed=$(grep -E '^[-+] ' <<<"$out" | grep -vE '^(\+\+\+|---) ')
want=$'-  a: changed\n-  b: "3"\n+  a: "1"\n+  b: "2"'
if [ "$rc" -eq 1 ] && [ "$(sort <<<"$changed")" = "$(sort <<<"$want")" ]; then
    ok "diff --server-side shows exactly the patched fields"
else
    fail "diff --server-side (exit $rc)" "$out"
    trace diff --server-side --force-conflicts -f "$work/cm.yaml"
fi
mf=$(K get cm cfg -o yaml --show-managed-fields 2>&1)
grep -qE 'manager: kubectl-patch' <<<"$mf" && grep -qE 'operation: Update' <<<"$mf" &&
    ok "managedFields: kubectl-patch Update entry" ||
    fail "managedFields lack the kubectl-patch Update entry" "$mf"

# 7. a CR before its CRD, then after Established
check "CR before CRD fails" 1 'no matches for kind "Widget" in version "example.com/v1"' \
    apply --server-side -f "$work/cr.yaml"
check "CRD applies" 0 'customresourcedefinition.apiextensions.k8s.io/widgets.example.com serverside-applied' \
    apply --server-side -f "$work/crd.yaml"
check "wait for Established" 0 'condition met' \
    wait --for condition=established --timeout=20s crd/widgets.example.com
check "CR after CRD" 0 '^widget.example.com/w1 serverside-applied' apply --server-side -f "$work/cr.yaml"
check "api-resources lists the CRD kind" 0 '^widgets +wd +example.com/v1 +true +Widget' api-resources
check "get the CR by short name" 0 'w1' get wd w1

# 8. finalizers keep a deleted object Terminating until removed
check "apply object with finalizer" 0 'configmap/fin serverside-applied' apply --server-side -f "$work/fin.yaml"
check "delete with finalizer" 0 'configmap "fin" deleted' delete cm fin --wait=false
check "still there with deletionTimestamp" 0 '^20[0-9-]+T' get cm fin -o 'jsonpath={.metadata.deletionTimestamp}'
check "remove finalizer" 0 'configmap/fin patched' patch cm fin --type merge -p '{"metadata":{"finalizers":null}}'
check "gone after the finalizer" 1 'Error from server \(NotFound\): configmaps "fin" not found' get cm fin

# 9. a missing namespace
check "missing namespace refused" 1 '^Error from server \(NotFound\): namespaces "x" not found' \
    apply --server-side -f "$work/nons.yaml"

# 10. get -w streams events
K get cm -w --output-watch-events >"$work/watch.out" 2>&1 &
wpid=$!
sleep 2
cat >"$work/w.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: watched
  namespace: default
data:
  k: v1
Y
K apply --server-side -f "$work/w.yaml" >/dev/null 2>&1
K patch cm watched --type merge -p '{"data":{"k":"v2"}}' >/dev/null 2>&1
K delete cm watched >/dev/null 2>&1
sleep 2
kill "$wpid" 2>/dev/null
wait "$wpid" 2>/dev/null
if grep -qE '^ADDED +watched' "$work/watch.out" && grep -qE '^MODIFIED +watched' "$work/watch.out" &&
    grep -qE '^DELETED +watched' "$work/watch.out"; then
    ok "get -w streams ADDED/MODIFIED/DELETED"
else
    fail "get -w did not stream the events" "$(cat "$work/watch.out")"
fi

# 11. both credentials work; a wrong token is refused
check "token context" 0 '^cfg ' --context plumb-sandbox get cm cfg
check "client-certificate context" 0 '^cfg ' --context plumb-sandbox-cert get cm cfg
check "wrong token refused" 1 '^error: You must be logged in to the server' \
    --token=wrong --context plumb-sandbox get cm cfg

# 12. SIGTERM stops it cleanly (exit 0; under the sanitizers: no reports)
kill -TERM "$SB_PID"
wait "$SB_PID"
rc=$?
SB_PID=
if [ "$rc" -eq 0 ] && ! grep -qE 'Sanitizer|runtime error' "$work/sandbox.err"; then
    ok "SIGTERM: exit 0, no sanitizer reports"
else
    fail "sandbox exit $rc on SIGTERM" "$(head -60 "$work/sandbox.err")"
fi

if [ "$fails" -gt 0 ]; then
    echo "$fails check(s) failed; sandbox stderr:"
    tail -20 "$work/sandbox.err"
    exit 1
fi
echo "all checks passed"
