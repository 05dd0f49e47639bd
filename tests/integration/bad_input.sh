#!/usr/bin/env bash
# Bad input never crashes, never prints a partial stream, and is reported on one line that
# names the file or object. Each case builds a small tree in a temp dir and checks:
#   exit status 1, empty stdout, exactly one stderr line starting "plumb: error:",
#   containing the expected text.
# usage: bad_input.sh PATH/TO/plumb
set -u
PLUMB=${1:?usage: bad_input.sh PLUMB}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
pass=0
fail=0

check() { # name dir expected-substring [extra args...]
    local name=$1 dir=$2 want=$3
    shift 3
    local out="$WORK/$name.out" err="$WORK/$name.err" rc
    # bounded memory and time: an alias bomb must stop on its own (sanitizer builds reserve
    # terabytes of shadow address space, so they run without the address-space cap)
    (if [ -z "${ASAN_OPTIONS:-}${TSAN_OPTIONS:-}" ]; then ulimit -v 2000000; fi
     timeout 20 "$PLUMB" render "$dir" "$@" >"$out" 2>"$err")
    rc=$?
    local lines
    lines=$(wc -l <"$err")
    if [ "$rc" -eq 1 ] && [ ! -s "$out" ] && [ "$lines" -eq 1 ] &&
        grep -q '^plumb: error: ' "$err" && grep -qF -- "$want" "$err"; then
        pass=$((pass + 1))
        echo "ok   $name: $(cat "$err")"
    else
        fail=$((fail + 1))
        echo "FAIL $name: exit $rc, stdout $(wc -c <"$out") bytes, stderr:"
        sed 's/^/    /' "$err"
        echo "    (wanted exit 1, no stdout, one line containing: $want)"
    fi
}

kust() { mkdir -p "$1"; cat >"$1/kustomization.yaml"; }
cm() { # file name
    cat >"$1" <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: $2
data:
  k: v
YAML
}

# malformed YAML: file:line:column
d=$WORK/malformed
kust "$d" <<'YAML'
resources:
- cm.yaml
YAML
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n   bad: indent\n' >"$d/cm.yaml"
check malformed-yaml "$d" "cm.yaml:5:"

# a resource that is not there
d=$WORK/missing
kust "$d" <<'YAML'
resources:
- gone.yaml
YAML
check missing-resource "$d" "gone.yaml"

# kustomizations that include each other
kust "$WORK/cycle/a" <<'YAML'
resources:
- ../b
YAML
kust "$WORK/cycle/b" <<'YAML'
resources:
- ../a
YAML
check cycle "$WORK/cycle/a" "cycle detected"

# a file outside the kustomization root (LoadRestrictionsRootOnly)
d=$WORK/escape/app
kust "$d" <<'YAML'
resources:
- ../outside.yaml
YAML
cm "$WORK/escape/outside.yaml" outside
check path-escape "$d" "is not in or below"

# ...and the same through a symlink
d=$WORK/symlink/app
kust "$d" <<'YAML'
resources:
- link.yaml
YAML
cm "$WORK/symlink/secret.yaml" outside
ln -s ../secret.yaml "$d/link.yaml"
check symlink-escape "$d" "is not in or below"

# YAML alias bomb (billion laughs): bounded memory and time
d=$WORK/bomb
kust "$d" <<'YAML'
resources:
- bomb.yaml
YAML
{
    echo 'apiVersion: v1'
    echo 'kind: ConfigMap'
    echo 'metadata:'
    echo '  name: bomb'
    echo 'data:'
    echo '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
    prev=a
    for n in b c d e f g h i; do
        echo "  $n: &$n [*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev]"
        prev=$n
    done
} >"$d/bomb.yaml"
check alias-bomb "$d" "bomb.yaml"

# two resources with the same id
d=$WORK/dup
kust "$d" <<'YAML'
resources:
- one.yaml
- two.yaml
YAML
cm "$d/one.yaml" same
cm "$d/two.yaml" same
check duplicate-id "$d" "already registered id"

# a JSON patch on a path that does not exist
d=$WORK/jsonpatch
kust "$d" <<'YAML'
resources:
- cm.yaml
patches:
- target:
    kind: ConfigMap
  patch: |-
    - op: replace
      path: /spec/missing/field
      value: 1
YAML
cm "$d/cm.yaml" x
check json-patch-missing-path "$d" "/spec/missing/field"

# an unknown kustomization field
d=$WORK/unknown
kust "$d" <<'YAML'
resources:
- cm.yaml
namePrefixx: oops-
YAML
cm "$d/cm.yaml" x
check unknown-field "$d" "namePrefixx"

# a directory without a kustomization, built with kustomize flags
mkdir -p "$WORK/nokust"
check no-kustomization "$WORK/nokust" "kustomization" --reorder none

# Helm and exec functions are out of scope: named in the message
d=$WORK/helm
kust "$d" <<'YAML'
helmCharts:
- name: minecraft
  repo: https://example.invalid/charts
YAML
check helm-unsupported "$d" "helm"

echo "bad_input: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
