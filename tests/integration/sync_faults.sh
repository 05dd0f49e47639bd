#!/usr/bin/env bash
# sync_faults.sh PLUMB - `plumb sync` of 500 objects while the sandbox fails 20% of requests
# (500, 503 and 429 with Retry-After). Checks that the sync converges (exit 0), that every
# object exists exactly once afterwards (read back through the control endpoint, which is
# never faulted), that the report counts 500 created objects, and that the faults really
# happened (the request log shows them).
set -uo pipefail
plumb=${1:?usage: sync_faults.sh PLUMB}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/sandbox_lib.sh"
work=$(mktemp -d)
trap 'sandbox_stop; rm -rf "$work"' EXIT
mkdir -p "$work/objs"
python3 - "$work/objs/all.yaml" <<'EOF'
import sys
docs = ["apiVersion: v1\nkind: Namespace\nmetadata:\n  name: faults\n"]
for i in range(499):
    docs.append(f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  namespace: faults\n"
                f"data:\n  n: \"{i}\"\n")
open(sys.argv[1], "w").write("---\n".join(docs))
EOF
sandbox_start "$plumb" "$work" --faults 500=0.07,503=0.07,429=0.06 || exit 1
"$plumb" sync "$work/objs" --kubeconfig "$SB_KUBECONFIG" --timeout 120s -o json >"$work/out.json" 2>"$work/err"
rc=$?
fail=0
[ "$rc" -eq 0 ] || { echo "FAIL: sync exit $rc"; head -c 2000 "$work/err"; fail=1; }
python3 - "$work/out.json" <<'EOF' || fail=1
import json, sys
rep = json.load(open(sys.argv[1]))
s = rep["summary"]
if s.get("created") != 500 or s.get("failed"):
    print("FAIL: report summary", s); sys.exit(1)
print("ok: report says 500 created, 0 failed")
EOF
curl -fsS --cacert "$SB_CA" -H "Authorization: Bearer $SB_TOKEN" "$SB_URL/_plumb/objects" >"$work/all.json"
python3 - "$work/all.json" <<'EOF' || fail=1
import json, sys, collections
doc = json.load(open(sys.argv[1]))
items = doc["items"] if isinstance(doc, dict) else doc
c = collections.Counter((o.get("kind"), o["metadata"].get("namespace", ""), o["metadata"]["name"])
                        for o in items)
cms = [k for k in c if k[0] == "ConfigMap" and k[1] == "faults"]
dups = [k for k, n in c.items() if n > 1]
if len(cms) != 499 or dups or c[("Namespace", "", "faults")] != 1:
    print("FAIL: objects", len(cms), "configmaps, duplicates:", dups[:5]); sys.exit(1)
print("ok: 499 ConfigMaps and the Namespace exist exactly once")
EOF
faults=$(awk '$3 == 500 || $3 == 503 || $3 == 429' "$SB_LOG" | wc -l)
total=$(wc -l <"$SB_LOG")
echo "faults injected: $faults of $total requests"
[ "$faults" -gt 0 ] || { echo "FAIL: no fault was injected"; fail=1; }
exit $fail
