#!/bin/bash
# diff_offline.sh PLUMB - `plumb diff --from --to` and `plumb render --apps` on a real git repo.
#
# Builds an App-of-Apps in a temporary repository (root Application -> a kustomization of child
# Applications with waves: a kustomize app with source.kustomize options, a plain directory app
# and an app fetched from a second repository over file://), commits two revisions (a ConfigMap
# value changed, an object added, one removed, a Secret value changed) and checks the text,
# JSON and Markdown reports, the exit codes, that no Secret value appears anywhere, and the
# per-app files of render --apps. Then, when ../shared exists, the App-of-Apps builder over the
# maas-experiments tree: the root fails naming the missing file, the children render.
set -u
PLUMB=${1:?usage: diff_offline.sh PLUMB}
case $PLUMB in /*) ;; *) PLUMB=$(pwd)/$PLUMB ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=$HERE/../../../shared/realworld/maas-experiments
command -v git >/dev/null 2>&1 || { echo "skip: git is not installed"; exit 77; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 PLUMB_CACHE_DIR=$T/cache
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com
export GIT_AUTHOR_DATE=2024-01-01T00:00:00Z GIT_COMMITTER_DATE=2024-01-01T00:00:00Z
fail=0
check() { # check DESCRIPTION COMMAND...
    local what=$1; shift
    if "$@"; then :; else echo "FAIL: $what"; fail=1; fi
}
has() { grep -qF -- "$2" "$1" || { echo "  missing in $1: $2"; return 1; }; }
hasnt() { ! grep -qF -- "$2" "$1" || { echo "  unexpected in $1: $2"; return 1; }; }

# ---- a second repository, fetched by file:// URL -------------------------------------------
L=$T/lib
mkdir -p "$L/base"
cat >"$L/base/kustomization.yaml" <<'EOF'
resources:
- cm.yaml
EOF
cat >"$L/base/cm.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: lib-settings
data:
  from: lib
EOF
git -C "$L" init -q -b main && git -C "$L" add -A && git -C "$L" commit -q -m lib

# ---- the App-of-Apps repository ------------------------------------------------------------
R=$T/repo
mkdir -p "$R/clusters/demo/apps" "$R/components/config" "$R/components/web"
git -C "$R" init -q -b main
git -C "$R" remote add origin https://git.example.com/org/demo.git
cat >"$R/clusters/demo/root.yaml" <<'EOF'
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: root
  namespace: argocd
spec:
  project: default
  source:
    repoURL: git@git.example.com:org/demo.git
    targetRevision: main
    path: clusters/demo/apps
  destination:
    server: https://kubernetes.default.svc
    namespace: argocd
EOF
cat >"$R/clusters/demo/apps/kustomization.yaml" <<'EOF'
resources:
- config.yaml
- web.yaml
- lib.yaml
EOF
cat >"$R/clusters/demo/apps/config.yaml" <<'EOF'
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: config
  annotations:
    argocd.argoproj.io/sync-wave: "-1"
spec:
  source:
    repoURL: https://git.example.com/org/demo
    targetRevision: main
    path: components/config
    kustomize:
      namePrefix: demo-
      commonLabels:
        team: platform
  destination:
    server: https://kubernetes.default.svc
    namespace: demo
  syncPolicy:
    automated: {prune: true}
    syncOptions: [CreateNamespace=true]
EOF
cat >"$R/clusters/demo/apps/web.yaml" <<'EOF'
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
  annotations:
    argocd.argoproj.io/sync-wave: "1"
spec:
  source:
    repoURL: https://git.example.com/org/demo.git
    targetRevision: main
    path: components/web
    directory:
      recurse: false
  destination:
    server: https://kubernetes.default.svc
    namespace: demo
EOF
cat >"$R/clusters/demo/apps/lib.yaml" <<EOF
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: lib
spec:
  source:
    repoURL: file://$L
    targetRevision: main
    path: base
  destination:
    server: https://kubernetes.default.svc
    namespace: lib
EOF
cat >"$R/components/config/kustomization.yaml" <<'EOF'
resources:
- settings.yaml
- creds.yaml
- old.yaml
EOF
cat >"$R/components/config/settings.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  level: info
  region: eu
EOF
cat >"$R/components/config/creds.yaml" <<'EOF'
apiVersion: v1
kind: Secret
metadata:
  name: creds
stringData:
  password: hunter2-OLD
  user: admin-user
EOF
cat >"$R/components/config/old.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: old
data:
  x: "1"
EOF
cat >"$R/components/web/deploy.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
EOF
git -C "$R" add -A && git -C "$R" commit -q -m A
A=$(git -C "$R" rev-parse HEAD)

# revision B: a value changed, an object added, one removed, a Secret value changed
sed -i 's/level: info/level: debug/' "$R/components/config/settings.yaml"
sed -i 's/hunter2-OLD/hunter2-NEW/' "$R/components/config/creds.yaml"
git -C "$R" rm -q components/config/old.yaml
cat >"$R/components/config/new.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: new
data:
  y: "2"
EOF
printf 'resources:\n- settings.yaml\n- creds.yaml\n- new.yaml\n' >"$R/components/config/kustomization.yaml"
git -C "$R" add -A && git -C "$R" commit -q -m B
B=$(git -C "$R" rev-parse HEAD)

# revision C (not checked out): a kustomization naming a missing file
printf 'resources:\n- settings.yaml\n- missing.yaml\n' >"$R/components/config/kustomization.yaml"
git -C "$R" add -A && git -C "$R" commit -q -m C
C=$(git -C "$R" rev-parse HEAD)
git -C "$R" reset -q --hard "$B" # the working tree differs from every revision compared below
git -C "$R" branch -q broken "$C"

cd "$T"
ROOT=$R/clusters/demo/root.yaml
SECRETS='hunter2 aHVudGVyMi1PTEQ aHVudGVyMi1ORVc YWRtaW4tdXNlcg admin-user'
no_secrets() {
    for s in $SECRETS; do hasnt "$1" "$s" || return 1; done
}

# ---- text ---------------------------------------------------------------------------------
"$PLUMB" diff "$ROOT" --from "$A" --to "$B" >"$T/out.txt" 2>"$T/err.txt"
rc=$?
check "text: exit 1 on differences (got $rc)" test $rc -eq 1
check "text: nothing on stderr" test ! -s "$T/err.txt"
check "text: config summary" has "$T/out.txt" "app config: 1 added, 1 removed, 2 changed"
check "text: changed ConfigMap names the field" has "$T/out.txt" "  changed  ConfigMap/demo/demo-settings: data.level"
check "text: added" has "$T/out.txt" "  added    ConfigMap/demo/demo-new"
check "text: removed" has "$T/out.txt" "  removed  ConfigMap/demo/demo-old"
check "text: secret keys" has "$T/out.txt" "  changed  Secret/demo/demo-creds: data.password (secret keys: password changed, user unchanged)"
check "text: unified diff of the ConfigMap" has "$T/out.txt" "+  level: debug"
check "text: secret marker" has "$T/out.txt" "+  password: '*** (after)'"
check "text: unchanged apps" has "$T/out.txt" "app web: no changes"
check "text: remote app compared" has "$T/out.txt" "app lib: no changes"
check "text: root unchanged" has "$T/out.txt" "app root: no changes"
check "text: unchanged object not listed" hasnt "$T/out.txt" "Deployment"
check "text: no secret value" no_secrets "$T/out.txt"

# ---- json ---------------------------------------------------------------------------------
"$PLUMB" diff "$ROOT" --from "$A" --to "$B" -o json >"$T/out.json" 2>"$T/err.txt"
rc=$?
check "json: exit 1 (got $rc)" test $rc -eq 1
check "json: no secret value" no_secrets "$T/out.json"
if command -v python3 >/dev/null 2>&1; then
    check "json: content" python3 - "$T/out.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
assert (s["added"], s["removed"], s["changed"], s["errors"]) == (1, 1, 2, 0), s
apps = {a["name"]: a for a in d["apps"]}
assert set(apps) == {"root", "config", "web", "lib"}, apps.keys()
objs = {(o["kind"], o["name"]): o for o in apps["config"]["objects"]}
assert objs[("ConfigMap", "demo-settings")]["fields"] == ["data.level"]
assert objs[("ConfigMap", "demo-settings")]["namespace"] == "demo"
assert objs[("Secret", "demo-creds")]["secretKeys"] == {"password": "changed", "user": "unchanged"}
assert objs[("ConfigMap", "demo-new")]["action"] == "added"
assert objs[("ConfigMap", "demo-old")]["action"] == "removed"
assert apps["web"]["objects"] == []
EOF
fi

# ---- markdown -----------------------------------------------------------------------------
"$PLUMB" diff "$ROOT" --from "$A" --to "$B" -o markdown >"$T/out.md" 2>"$T/err.txt"
rc=$?
check "markdown: exit 1 (got $rc)" test $rc -eq 1
check "markdown: table" has "$T/out.md" "| App | Added | Removed | Changed |"
check "markdown: config row" has "$T/out.md" "| config | 1 | 1 | 2 |"
check "markdown: details" has "$T/out.md" "<details><summary><b>config</b>: 1 added, 1 removed, 2 changed</summary>"
check "markdown: diff block" has "$T/out.md" '```diff'
check "markdown: no secret value" no_secrets "$T/out.md"

# ---- --app: one app only -------------------------------------------------------------------------
"$PLUMB" diff "$ROOT" --from "$A" --to "$B" --app web >"$T/app.txt" 2>&1
rc=$?
check "--app web: exit 0, its objects did not change (got $rc)" test $rc -eq 0
check "--app web: other apps not listed" hasnt "$T/app.txt" "app config"
"$PLUMB" diff "$ROOT" --from "$A" --to "$B" --app config >"$T/app.txt" 2>&1
rc=$?
check "--app config: exit 1 (got $rc)" test $rc -eq 1

# ---- ci/drift-report.sh (the pipeline integration) ----------------------------------------------
REPORT=$HERE/../../ci/drift-report.sh
bash "$REPORT" --plumb "$PLUMB" --base "$A" --head "$B" -o "$T/report.md" "$ROOT" 2>"$T/err.txt"
rc=$?
check "drift-report: exit 1 on changes (got $rc)" test $rc -eq 1
check "drift-report: the table row" has "$T/report.md" "| config | 1 | 1 | 2 |"
check "drift-report: no secret value" no_secrets "$T/report.md"
bash "$REPORT" --plumb "$PLUMB" --base "$A" --head broken -o "$T/report2.md" "$ROOT" 2>"$T/err.txt"
rc=$?
check "drift-report: a broken head exits 2 (got $rc)" test $rc -eq 2
check "drift-report: the report names the missing file" has "$T/report2.md" "missing.yaml"
(cd "$R" && git checkout -q -b pr-branch && bash "$REPORT" --plumb "$PLUMB" --base "$A" -o "$T/report3.md" "$ROOT")
rc=$?
git -C "$R" checkout -q - 2>/dev/null
check "drift-report: HEAD by default (exit 1, got $rc)" test $rc -eq 1

# ---- exit codes -----------------------------------------------------------------------------
"$PLUMB" diff "$ROOT" --from "$A" --to "$A" >"$T/same.txt" 2>&1
rc=$?
check "same revision: exit 0 (got $rc)" test $rc -eq 0
check "same revision: says so" has "$T/same.txt" "no differences"

"$PLUMB" diff "$ROOT" --from "$A" --to no-such-rev >"$T/o" 2>"$T/e"
rc=$?
check "bad revision: exit 2 (got $rc)" test $rc -eq 2
check "bad revision: one error line" test "$(wc -l <"$T/e")" -eq 1
check "bad revision: named" has "$T/e" "no-such-rev"
check "bad revision: no stdout" test ! -s "$T/o"

"$PLUMB" diff "$ROOT" --from "$A" --to broken >"$T/o" 2>"$T/e"
rc=$?
check "render error: exit 2 (got $rc)" test $rc -eq 2
check "render error: one error line" test "$(wc -l <"$T/e")" -eq 1
check "render error: names the file" has "$T/e" "components/config/missing.yaml"
check "render error: no stdout" test ! -s "$T/o"

"$PLUMB" diff "$ROOT" --kubeconfig "$T/no-such-kubeconfig" >"$T/o" 2>"$T/e"
rc=$?
check "cluster diff without a usable kubeconfig: exit 2 (got $rc)" test $rc -eq 2
check "cluster diff without a usable kubeconfig: names the file" has "$T/e" "no-such-kubeconfig"
check "cluster diff without a usable kubeconfig: no stdout" test ! -s "$T/o"

"$PLUMB" diff "$ROOT" --from "$A" >"$T/o" 2>"$T/e"
check "usage: --from without --to exits 2" test $? -eq 2

# ---- render --apps --------------------------------------------------------------------------
"$PLUMB" render "$ROOT" --apps "$T/apps" >"$T/o" 2>"$T/e"
rc=$?
check "render --apps: exit 0 (got $rc)" test $rc -eq 0
check "render --apps: nothing on stdout" test ! -s "$T/o"
for app in root config web lib; do
    check "render --apps: $app.yaml" test -s "$T/apps/$app.yaml"
done
check "render --apps: kustomize options" has "$T/apps/config.yaml" "name: demo-settings"
check "render --apps: commonLabels" has "$T/apps/config.yaml" "team: platform"
check "render --apps: destination namespace" has "$T/apps/config.yaml" "namespace: demo"
check "render --apps: remote app" has "$T/apps/lib.yaml" "name: lib-settings"
check "render --apps: remote app namespace" has "$T/apps/lib.yaml" "namespace: lib"
check "render --apps: root holds the Applications" has "$T/apps/root.yaml" "kind: Application"
# the plain render is untouched by the option
"$PLUMB" render "$R/components/config" >"$T/plain.yaml" 2>"$T/e"
check "plain render: exit 0" test $? -eq 0
check "plain render: no app options" has "$T/plain.yaml" "name: settings"
check "plain render: no destination namespace" hasnt "$T/plain.yaml" "namespace:"

# ---- maas-experiments (../shared) ---------------------------------------------------------------
if [ -d "$SHARED/clusters" ]; then
    "$PLUMB" render "$SHARED/clusters" --apps "$T/maas" \
        --repo-alias "https://github.com/bryonbaker/maas-experiments=$SHARED" >"$T/o" 2>"$T/e"
    rc=$?
    check "maas root: exit 1 (got $rc)" test $rc -eq 1
    check "maas root: one error line" test "$(wc -l <"$T/e")" -eq 1
    check "maas root: names the missing file" has "$T/e" "acme-inc-models-app.yaml"
    check "maas root: names the app" has "$T/e" "app maas-experiments-root-application"
    check "maas: sibling app renders" test -s "$T/maas/4xlarge-machine-set-app.yaml"
    n=0
    for f in "$SHARED"/clusters/ocpai3-aws/*.yaml; do
        [ "$(basename "$f")" = kustomization.yaml ] && continue
        if "$PLUMB" render "$f" --apps "$T/maas-children" >/dev/null 2>"$T/e"; then
            n=$((n + 1))
        else
            echo "FAIL: maas child $f: $(cat "$T/e")"
            fail=1
        fi
    done
    check "maas: every child Application renders ($n)" test "$n" -ge 18
    check "maas: destination namespace" has "$T/maas-children/maas-tier-config.yaml" "namespace: maas-api"
else
    echo "note: $SHARED absent, maas-experiments part skipped"
fi

if [ $fail -ne 0 ]; then
    echo "diff_offline: FAILED"
    exit 1
fi
echo "diff_offline: ok"
