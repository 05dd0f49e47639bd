#!/usr/bin/env bash
# `plumb lint` (engine/cli/cmd_lint.c, rules renderers/maas/maas_lint.c, SPEC §5 and §7):
#  1. the real repository ../shared/realworld/maas-experiments reports exactly its real problems
#     (SPEC §7.10: the cluster kustomization listing missing application files, the tier group
#     red-hat-users that no Group object defines, ...) and nothing else, in well under a second;
#  2. the lint-commit fixture (baseRevision: ../base) gives exactly expected-diagnostics.yaml;
#  3. --since REV reads the parent revision from git (rename/deletion rules MAAS001-MAAS003);
#  4. -o json, exit codes (1 on errors, 0 otherwise, 2 on usage errors).
# Skips (exit 77) when ../shared is absent.
# usage: lint_maas.sh PATH/TO/plumb
set -u
PLUMB=${1:?usage: lint_maas.sh PLUMB}
PLUMB=$(cd "$(dirname "$PLUMB")" && pwd)/$(basename "$PLUMB")
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=$(cd "$HERE/../../.." && pwd)/shared
REAL=$SHARED/realworld/maas-experiments
EXAMPLES=$SHARED/maas/examples
[ -d "$REAL" ] && [ -d "$EXAMPLES" ] || { echo "skip: $SHARED absent"; exit 77; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

# "RULE SEVERITY OBJECT" per diagnostic line of text output (FILE:OBJECT: RULE: SEVERITY: ...)
triples() { sed -E 's/^[^:]*:([^:]*): ([A-Z0-9]+): (error|warning|info): .*/\2 \3 \1/' "$1" | sort -u; }

# ---- 1. the real repository ------------------------------------------------------------------
cd "$SHARED/realworld"
start=$(date +%s%N)
"$PLUMB" lint maas-experiments >"$WORK/real.out" 2>"$WORK/real.err"
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
cat >"$WORK/real.want" <<'WANT'
MAAS009 warning ConfigMap/maas-api/tier-to-group-mapping
MAAS035 warning RateLimitPolicy/openshift-ingress/gateway-rate-limits
MAAS045 warning ConfigMap/maas-api/tier-to-group-mapping
RENDER error clusters/ocpai3-aws
RENDER error components/apps/keycloak/overlays
WANT
triples "$WORK/real.out" | grep -v ' info ' >"$WORK/real.got"
if [ "$rc" -eq 1 ] && diff -u "$WORK/real.want" "$WORK/real.got"; then
    ok "maas-experiments: exit 1, exactly the real problems (${ms} ms)"
else
    bad "maas-experiments: exit $rc"; sed 's/^/    /' "$WORK/real.out" "$WORK/real.err"
fi
grep -q 'MAAS045: warning: .*red-hat-users' "$WORK/real.out" &&
    grep -q '^maas-experiments/components/platform/maas/base/tier-to-group-mapping.yaml:' "$WORK/real.out" &&
    grep -q 'RENDER: error: .*acme-inc-models-app.yaml' "$WORK/real.out" &&
    ok "maas-experiments: messages name the group, the file and the missing application" ||
    bad "maas-experiments: messages"
[ "$ms" -lt 1000 ] && ok "maas-experiments: ${ms} ms < 1 s" || bad "maas-experiments: ${ms} ms"

# App-of-Apps root: clusters/ holds the root Application (-> clusters/ocpai3-aws, which fails)
"$PLUMB" lint maas-experiments/clusters >"$WORK/aoa.out" 2>/dev/null
rc=$?
if [ "$rc" -eq 1 ] && [ "$(triples "$WORK/aoa.out")" = "RENDER error clusters/ocpai3-aws" ]; then
    ok "app-of-apps root: the failing application path is one RENDER diagnostic"
else
    bad "app-of-apps root: exit $rc"; sed 's/^/    /' "$WORK/aoa.out"
fi

# ---- 2. the lint-commit fixture --------------------------------------------------------------
"$PLUMB" lint "$EXAMPLES/lint-commit/input" >"$WORK/fix.out" 2>/dev/null
rc=$?
awk '/rule:/{r=$3} /severity:/{s=$2} /object:/{print r, s, $2}' \
    "$EXAMPLES/lint-commit/expected-diagnostics.yaml" | sort -u >"$WORK/fix.want"
triples "$WORK/fix.out" | grep -v ' info ' >"$WORK/fix.got"
if [ "$rc" -eq 1 ] && [ -s "$WORK/fix.want" ] && diff -u "$WORK/fix.want" "$WORK/fix.got"; then
    ok "lint-commit fixture: $(wc -l <"$WORK/fix.want") expected diagnostics, no others"
else
    bad "lint-commit fixture: exit $rc"
fi

# ---- 3. --since REV from git -----------------------------------------------------------------
if command -v git >/dev/null; then
    R=$WORK/repo
    mkdir -p "$R/maas"
    git -C "$R" init -q
    cp "$EXAMPLES/lint-commit/base/tier-to-group-mapping.yaml" "$R/maas/"
    printf 'resources:\n- tier-to-group-mapping.yaml\n' >"$R/maas/kustomization.yaml"
    git -C "$R" add -A
    git -C "$R" -c user.email=t@example.com -c user.name=t commit -qm base
    cp "$EXAMPLES/lint-commit/input/"{models,governance,gateway-tier-rate-limits,tier-to-group-mapping}.yaml "$R/maas/"
    printf 'resources:\n- tier-to-group-mapping.yaml\n- models.yaml\n- governance.yaml\n- gateway-tier-rate-limits.yaml\n' \
        >"$R/maas/kustomization.yaml"
    (cd "$R" && "$PLUMB" lint . --since HEAD) >"$WORK/since.out" 2>/dev/null
    rc=$?
    triples "$WORK/since.out" | grep -v ' info ' >"$WORK/since.got"
    if [ "$rc" -eq 1 ] && diff -u "$WORK/fix.want" "$WORK/since.got" &&
        grep -q '^maas/tier-to-group-mapping.yaml:ConfigMap/maas-api/tier-to-group-mapping: MAAS001: error: .*bronze -> copper' "$WORK/since.out"; then
        ok "--since HEAD: the parent revision read from git gives the fixture's diagnostics"
    else
        bad "--since HEAD: exit $rc"; sed 's/^/    /' "$WORK/since.out"
    fi
    (cd "$R" && "$PLUMB" lint .) >"$WORK/nosince.out" 2>/dev/null
    if grep -q 'MAAS006' "$WORK/nosince.out" && ! grep -qE 'MAAS00[123]' "$WORK/nosince.out"; then
        ok "without --since: no rename/deletion rules"
    else
        bad "without --since: rename/deletion rules raised"
    fi
    (cd "$R" && "$PLUMB" lint . --since no-such-rev) >/dev/null 2>"$WORK/rev.err"
    rc=$?
    [ "$rc" -eq 2 ] && grep -q 'unknown revision' "$WORK/rev.err" &&
        ok "--since no-such-rev: exit 2" || bad "--since no-such-rev: exit $rc"
else
    echo "skip --since: git not installed"
fi

# ---- 4. json, clean trees, usage ---------------------------------------------------------------
"$PLUMB" lint -o json "$REAL" >"$WORK/real.json" 2>/dev/null
rc=$?
if [ "$rc" -eq 1 ] && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["errors"] == 2 and d["warnings"] == 3, d
assert any(x["rule"] == "MAAS045" and "red-hat-users" in x["message"] and x["file"].endswith("tier-to-group-mapping.yaml") for x in d["diagnostics"])
' "$WORK/real.json"; then
    ok "-o json: parseable, counts and files"
else
    bad "-o json: exit $rc"
fi
"$PLUMB" lint "$EXAMPLES/preview-basic/input" >"$WORK/clean.out" 2>&1
rc=$?
[ "$rc" -eq 0 ] && [ ! -s "$WORK/clean.out" ] && ok "clean tree: exit 0, no output" ||
    bad "clean tree: exit $rc"
"$PLUMB" lint "$REAL" --bogus >/dev/null 2>&1; rc1=$?
"$PLUMB" lint "$REAL" -o yaml >/dev/null 2>&1; rc2=$?
"$PLUMB" lint "$WORK/does-not-exist" >/dev/null 2>&1; rc3=$?
[ "$rc1" -eq 2 ] && [ "$rc2" -eq 2 ] && [ "$rc3" -eq 2 ] && ok "usage errors: exit 2" ||
    bad "usage errors: exit $rc1 $rc2 $rc3"
exit $fail
