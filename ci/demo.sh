#!/usr/bin/env bash
# demo.sh - the README's main job: bootstrap the demo cluster (clusters/demo, an App-of-Apps
# over components/) into a local `plumb sandbox`, then show that a second sync changes nothing.
#
#   1. render the App-of-Apps root and each overlay its Applications point at (plumb render);
#   2. start `plumb sandbox --simulate-status` on a free loopback port (TLS, a kubeconfig in a
#      temporary directory) and load the CRDs the demo's operators would install
#      (clusters/demo/sandbox/crds.yaml: OLM, NFD, NVIDIA, KServe types);
#   3. `plumb sync clusters/demo`: operators (wave 0), instances (wave 1), MaaS (wave 2), each
#      wave healthy before the next; the Applications' repoURL is this checkout (--repo-alias);
#   4. sync again: zero write requests (the sandbox's request log proves it);
#   5. `plumb diff clusters/demo`: the cluster matches Git (exit 0, "no differences");
#   6. `kubectl get` through the sandbox's kubeconfig when kubectl is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
PLUMB=${PLUMB:-$root/build/plumb}

echo "## 1. render"
for dir in clusters/demo clusters/demo/overlays/*/; do
    dir=${dir%/}
    echo "# ---- plumb render $dir ($("$PLUMB" render "$dir" | grep -c '^kind:') objects)"
done

work=$(mktemp -d)
. tests/integration/sandbox_lib.sh
trap 'sandbox_stop; rm -rf "$work"' EXIT

echo "## 2. plumb sandbox"
sandbox_start "$PLUMB" "$work" --simulate-status=300ms
echo "listening on $SB_URL (kubeconfig $SB_KUBECONFIG)"
sandbox_load clusters/demo/sandbox/crds.yaml
echo "loaded the operators' CRDs from clusters/demo/sandbox/crds.yaml"

echo "## 3. plumb sync clusters/demo"
"$PLUMB" sync clusters/demo --kubeconfig "$SB_KUBECONFIG" \
    --repo-alias "https://example.com/plumb/demo.git=$root" --timeout 60s

echo "## 4. plumb sync again (nothing to do)"
mark=$(wc -l <"$SB_LOG")
"$PLUMB" sync clusters/demo --kubeconfig "$SB_KUBECONFIG" \
    --repo-alias "https://example.com/plumb/demo.git=$root" --timeout 60s | tail -1
echo "write requests seen by the sandbox during the second sync: $(sandbox_writes "$mark" | wc -l)"

echo "## 5. plumb diff clusters/demo (the cluster against Git: no drift)"
"$PLUMB" diff clusters/demo --kubeconfig "$SB_KUBECONFIG" \
    --repo-alias "https://example.com/plumb/demo.git=$root" | tail -1

if command -v kubectl >/dev/null 2>&1; then
    echo "## 6. kubectl get (through the sandbox)"
    kubectl --kubeconfig "$SB_KUBECONFIG" --cache-dir "$work/kcache" get namespaces,subscriptions.operators.coreos.com,llminferenceservices.serving.kserve.io -A || true
fi
