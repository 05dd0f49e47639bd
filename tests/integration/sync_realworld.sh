#!/usr/bin/env bash
# sync_realworld.sh PLUMB - `plumb sync` over ../shared/realworld/maas-experiments.
#
# 1. The App-of-Apps root (clusters/ocpai3-aws) cannot be rendered (a listed file is missing):
#    the sync exits 1 naming the file and sends no request at all to the sandbox.
# 2. Every child Application of that root is synced on its own, in the order of the
#    Applications' sync waves, into one `plumb sandbox --simulate-status` that first gets a
#    CustomResourceDefinition for every custom kind the children render (open schemas, with
#    status conditions and the MaaS phases, so the simulated controllers can report health).
#    Children whose render fails are expected to fail; every other child must sync (exit 0).
# Exits 77 when ../shared is absent.
set -uo pipefail
plumb=${1:?usage: sync_realworld.sh PLUMB}
case $plumb in
*/*) plumb=$(cd "$(dirname "$plumb")" && pwd)/$(basename "$plumb") ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
shared=${PL_SHARED_DIR:-$root/../shared}
tree=$shared/realworld/maas-experiments
if [ ! -d "$tree/clusters/ocpai3-aws" ]; then
    echo "skipped: $tree is absent"
    exit 77
fi
. "$here/sandbox_lib.sh"
work=$(mktemp -d)
trap 'sandbox_stop; rm -rf "$work"' EXIT

# the repository URL the Applications name, resolved to the local tree
url=$(sed -n 's/^ *repoURL: *//p' "$tree"/clusters/ocpai3-aws/*.yaml | sort | uniq -c | sort -rn | awk 'NR==1{print $2}')
alias_opt=(--repo-alias "$url=$tree")

sandbox_start "$plumb" "$work" --simulate-status=100ms || exit 1
fail=0

# ---- 1. the root fails before any request -------------------------------------------------
mark=$(wc -l <"$SB_LOG")
"$plumb" sync "$tree/clusters/ocpai3-aws" --kubeconfig "$SB_KUBECONFIG" "${alias_opt[@]}" >"$work/root.out" 2>&1
rc=$?
reqs=$(($(wc -l <"$SB_LOG") - mark))
if [ "$rc" -eq 1 ] && grep -q 'acme-inc-models-app.yaml' "$work/root.out" && [ "$reqs" -eq 0 ]; then
    echo "ok: root fails naming the missing file, $reqs requests sent"
else
    echo "FAIL: root sync exit $rc, $reqs requests:"; cat "$work/root.out"; fail=1
fi

# ---- 2. the children ------------------------------------------------------------------------
# child Application files in sync-wave order
python3 - "$tree/clusters/ocpai3-aws" >"$work/children" <<'EOF'
import os, re, sys
d = sys.argv[1]
rows = []
for f in sorted(os.listdir(d)):
    if not f.endswith(".yaml") or f == "kustomization.yaml":
        continue
    text = open(os.path.join(d, f)).read()
    if "kind: Application" not in text:
        continue
    m = re.search(r"sync-wave:\s*[\"']?(-?\d+)", text)
    rows.append((int(m.group(1)) if m else 0, f))
for w, f in sorted(rows):
    print(os.path.join(d, f))
EOF
# CRDs for every custom kind the children render
: >"$work/rendered.yaml"
while read -r app; do
    "$plumb" render --apps "$work/apps-$(basename "$app" .yaml)" "$app" "${alias_opt[@]}" >/dev/null 2>&1
    cat "$work/apps-$(basename "$app" .yaml)"/*.yaml >>"$work/rendered.yaml" 2>/dev/null
    echo "---" >>"$work/rendered.yaml"
done <"$work/children"
python3 - "$work/rendered.yaml" "$work/crds.yaml" <<'EOF'
import re, sys
builtin = {"", "apps", "batch", "rbac.authorization.k8s.io", "networking.k8s.io", "policy",
           "autoscaling", "storage.k8s.io", "scheduling.k8s.io", "coordination.k8s.io",
           "apiextensions.k8s.io", "admissionregistration.k8s.io", "apiregistration.k8s.io",
           "discovery.k8s.io"}
cluster_kinds = {"ClusterPolicy", "MachineSet", "ClusterIssuer", "Kueue", "LeaderWorkerSetOperator",
                 "DataScienceCluster", "DSCInitialization", "NodeFeatureDiscovery-never",
                 "ClusterQueue", "ResourceFlavor", "OAuth", "Group", "ClusterRoleBinding-x",
                 "CertManager", "ConsoleLink", "Tenant-never"}
phases = {"MaaSModelRef": ["Pending", "Ready", "Unhealthy", "Failed", "Invalid"],
          "ExternalModel": ["Pending", "Ready", "Failed"],
          "MaaSAuthPolicy": ["Pending", "Active", "Degraded", "Failed", "Invalid"],
          "MaaSSubscription": ["Pending", "Active", "Degraded", "Failed", "Invalid"]}
kinds = {}
for doc in open(sys.argv[1]).read().split("\n---"):
    av = re.search(r"^apiVersion:\s*(\S+)", doc, re.M)
    k = re.search(r"^kind:\s*(\S+)", doc, re.M)
    if not av or not k:
        continue
    g, _, v = av.group(1).rpartition("/")
    if g in builtin or not v or k.group(1) in ("CustomResourceDefinition", "Application"):
        continue
    ns = re.search(r"^  namespace:", doc, re.M)
    kinds.setdefault((g, k.group(1)), {"versions": set(), "ns": False})
    kinds[(g, k.group(1))]["versions"].add(v)
    if ns:
        kinds[(g, k.group(1))]["ns"] = True
if ("operators.coreos.com", "Subscription") in kinds:
    # OLM installs ClusterServiceVersions for Subscriptions: the sandbox simulates that
    kinds[("operators.coreos.com", "ClusterServiceVersion")] = {"versions": {"v1alpha1"}, "ns": True}
out = []
# namespaces the platform provides (OpenShift and its operators create them): referenced by
# the children's objects but declared by none of them
declared = set(re.findall(r"^kind: Namespace\nmetadata:\n(?:  .*\n)*?  name: (\S+)", open(sys.argv[1]).read(), re.M))
used = set(re.findall(r"^  namespace: (\S+)", open(sys.argv[1]).read(), re.M))
for ns in sorted(used - declared):
    out.append(f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n")
for (g, kind), info in sorted(kinds.items()):
    plural = kind.lower() + ("es" if kind.lower().endswith(("s", "x", "ch")) else "s")
    if kind.lower().endswith("y") and not kind.lower().endswith("ey"):
        plural = kind.lower()[:-1] + "ies"
    scope = "Namespaced" if info["ns"] and kind not in cluster_kinds else "Cluster"
    vs = sorted(info["versions"])
    status_props = "                conditions:\n                  type: array\n                  items: {type: object, x-kubernetes-preserve-unknown-fields: true}\n"
    if kind in phases:
        status_props += "                phase:\n                  type: string\n                  enum: [" + ", ".join(phases[kind]) + "]\n"
    vers = ""
    for i, v in enumerate(vs):
        vers += (f"  - name: {v}\n    served: true\n    storage: {'true' if i == len(vs) - 1 else 'false'}\n"
                 "    subresources: {status: {}}\n    schema:\n      openAPIV3Schema:\n        type: object\n"
                 "        x-kubernetes-preserve-unknown-fields: true\n        properties:\n"
                 "          status:\n            type: object\n            x-kubernetes-preserve-unknown-fields: true\n"
                 "            properties:\n" + status_props.replace("                ", "              ", 1).replace("\n                ", "\n              "))
    out.append(f"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: {plural}.{g}\n"
               f"spec:\n  group: {g}\n  names: {{kind: {kind}, plural: {plural}, singular: {kind.lower()}, listKind: {kind}List}}\n"
               f"  scope: {scope}\n  versions:\n{vers}")
open(sys.argv[2], "w").write("---\n".join(out))
print(f"{len(out)} CRDs and platform namespaces for the children", file=sys.stderr)
EOF
sandbox_load "$work/crds.yaml" || { echo "FAIL: loading CRDs"; fail=1; }

synced=0 failed_ok=0
while read -r app; do
    name=$(basename "$app" .yaml)
    if ! "$plumb" render --apps "$work/check-$name" "$app" "${alias_opt[@]}" >/dev/null 2>"$work/$name.render"; then
        echo "ok: $name does not render, as expected of a broken child ($(head -1 "$work/$name.render"))"
        failed_ok=$((failed_ok + 1))
        continue
    fi
    "$plumb" sync "$app" --kubeconfig "$SB_KUBECONFIG" "${alias_opt[@]}" --timeout 60s >"$work/$name.out" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ]; then
        synced=$((synced + 1))
        echo "ok: $name synced ($(grep -c '^  created' "$work/$name.out") created)"
    else
        echo "FAIL: $name: exit $rc"; sed 's/^/    /' "$work/$name.out" | head -20
        fail=1
    fi
done <"$work/children"
echo "children synced: $synced; children that do not render: $failed_ok"
exit $fail
