#!/usr/bin/env bash
# bench_sync.sh [PLUMB] [N] [ROUNDS] - plumb sync against kubectl apply --server-side, same
# objects.
#
# Generates N (default 1000) objects: 10 Namespaces, then ConfigMaps, Services and Deployments
# spread over them, as one plain manifest file (namespaces first, so kubectl can apply it in
# one pass). Each tool gets a fresh `plumb sandbox` (same build, same flags) and applies all
# objects once; then plumb's no-op resync is timed. The sandboxes run with
# --simulate-status=0s: plumb sync waits for every wave to be healthy, kubectl does not wait.
# ROUNDS (default 5) rounds alternate the two tools, so both see the same machine; wall times
# on small shared machines swing by a third between identical runs, so the figures compared
# are the medians. Prints every round, the medians and the ratio kubectl / plumb. Not part of
# ctest: it prints, it never asserts. Needs kubectl for the ratio.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
plumb=${1:-$root/build/plumb}
n=${2:-1000}
rounds=${3:-5}
. "$root/tests/integration/sandbox_lib.sh"

work=$(mktemp -d)
trap 'sandbox_stop; rm -rf "$work"' EXIT
mkdir -p "$work/objs"
python3 - "$n" "$work/objs/all.yaml" <<'EOF'
import sys
n, out = int(sys.argv[1]), sys.argv[2]
docs = []
nss = [f"bench-{i}" for i in range(10)]
for ns in nss:
    docs.append(f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n")
i = 0
while len(docs) < n:
    ns = nss[i % len(nss)]
    k = i % 3
    name = f"obj-{i}"
    if k == 0:
        docs.append(f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\n"
                    f"  labels:\n    app: {name}\ndata:\n  key: value-{i}\n  other: \"{i}\"\n")
    elif k == 1:
        docs.append(f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: {ns}\n"
                    f"spec:\n  selector:\n    app: {name}\n  ports:\n  - port: 80\n    targetPort: 8080\n")
    else:
        docs.append(f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {ns}\n"
                    f"spec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: {name}\n"
                    f"  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n"
                    f"      containers:\n      - name: main\n        image: nginx:1.27\n"
                    f"        ports:\n        - containerPort: 8080\n")
    i += 1
open(out, "w").write("---\n".join(docs))
EOF
echo "objects: $n (plain manifests in one file)"

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }

have_kubectl=1
command -v kubectl >/dev/null 2>&1 || have_kubectl=0
: >"$work/plumb.t"
: >"$work/noop.t"
: >"$work/kubectl.t"
for r in $(seq 1 "$rounds"); do
    # ---- plumb: first sync into a fresh sandbox, then the no-op resync ----------------------
    rm -rf "$work/p"
    mkdir -p "$work/p"
    sandbox_start "$plumb" "$work/p" --simulate-status=0s || exit 1
    t0=$(now)
    "$plumb" sync "$work/objs" --kubeconfig "$SB_KUBECONFIG" --timeout 300s >"$work/p/out" 2>&1
    rc=$?
    t1=$(now)
    mark=$(wc -l <"$SB_LOG")
    "$plumb" sync "$work/objs" --kubeconfig "$SB_KUBECONFIG" --timeout 300s >"$work/p/out2" 2>&1
    rc2=$?
    t2=$(now)
    writes2=$(sandbox_writes "$mark" | wc -l)
    requests2=$(($(wc -l <"$SB_LOG") - mark))
    sandbox_stop
    plumb_s=$(echo "$t1 - $t0" | bc -l)
    noop_s=$(echo "$t2 - $t1" | bc -l)
    echo "$plumb_s" >>"$work/plumb.t"
    echo "$noop_s" >>"$work/noop.t"
    printf 'round %d: plumb sync %6.3f s (exit %d, %s); no-op resync %6.3f s (exit %d, %d requests, %d writes)' \
        "$r" "$plumb_s" "$rc" "$(tail -1 "$work/p/out")" "$noop_s" "$rc2" "$requests2" "$writes2"
    if [ "$rc" -ne 0 ] || [ "$rc2" -ne 0 ]; then
        echo
        echo "plumb sync failed:" >&2
        tail -5 "$work/p/out" "$work/p/out2" >&2
        exit 1
    fi
    # ---- kubectl: the same objects into another fresh sandbox ------------------------------
    if [ "$have_kubectl" = 1 ]; then
        rm -rf "$work/k"
        mkdir -p "$work/k"
        sandbox_start "$plumb" "$work/k" --simulate-status=0s || exit 1
        t0=$(now)
        kubectl --kubeconfig "$SB_KUBECONFIG" --cache-dir "$work/k/cache" apply --server-side \
            -f "$work/objs/all.yaml" >"$work/k/out" 2>&1
        krc=$?
        t1=$(now)
        sandbox_stop
        kubectl_s=$(echo "$t1 - $t0" | bc -l)
        echo "$kubectl_s" >>"$work/kubectl.t"
        printf '; kubectl apply --server-side %6.3f s (exit %d, %d lines)' "$kubectl_s" "$krc" \
            "$(wc -l <"$work/k/out")"
    fi
    echo
done

plumb_m=$(median <"$work/plumb.t")
noop_m=$(median <"$work/noop.t")
printf 'plumb sync:            %6.3f s (median of %d)\n' "$plumb_m" "$rounds"
printf 'plumb sync (no-op):    %6.3f s (median of %d)\n' "$noop_m" "$rounds"
if [ "$have_kubectl" = 0 ]; then
    echo "kubectl not installed: no ratio"
    exit 0
fi
kubectl_m=$(median <"$work/kubectl.t")
printf 'kubectl apply --server-side: %6.3f s (median of %d)\n' "$kubectl_m" "$rounds"
printf 'ratio kubectl/plumb:   %6.1fx (medians; target >= 5x)\n' "$(echo "$kubectl_m / $plumb_m" | bc -l)"
