#!/usr/bin/env bash
# run_realworld.sh PLUMB - render every kustomization of ../shared/realworld/maas-experiments
# and compare with what kubectl kustomize printed (expected/maas-experiments/<dir, / as _>.yaml).
#
# A ".error" expectation means kustomize failed there (a listed resource file is missing):
# plumb must exit 1 with nothing on stdout and name the missing file on stderr.
# Exits 77 (ctest SKIP_RETURN_CODE) when ../shared is absent.
set -uo pipefail

plumb=${1:?usage: run_realworld.sh PLUMB}
# the scripts change directory: make a relative binary path absolute
case $plumb in
*/*) plumb=$(cd "$(dirname "$plumb")" && pwd)/$(basename "$plumb") ;;
esac
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=${PL_SHARED_DIR:-$root/../shared}
tree=$shared/realworld/maas-experiments
expected=$shared/realworld/expected/maas-experiments

if [ ! -d "$tree" ] || [ ! -d "$expected" ]; then
    echo "skipped: $tree is absent"
    exit 77
fi

# first resource listed in a kustomization that does not exist (kustomize stops there)
first_missing() {
    local dir=$1
    awk '
        /^resources:/ { inres = 1; next }
        /^[^ \t#-]/ { inres = 0 }
        inres && /^[ \t]*-[ \t]+[^ \t#]/ { sub(/^[ \t]*-[ \t]+/, ""); sub(/[ \t]+#.*$/, ""); print }
    ' "$dir/kustomization.yaml" | while read -r res; do
        if [ ! -e "$dir/$res" ]; then
            echo "$res"
            break
        fi
    done
}

pass=0
fail=0
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
cd "$tree" || exit 1
while IFS= read -r kfile; do
    dir=${kfile%/*}
    dir=${dir#./}
    name=${dir//\//_}
    "$plumb" render "$dir" >"$out" 2>"$err"
    code=$?
    if [ -f "$expected/$name.yaml" ]; then
        if [ $code -eq 0 ] && cmp -s "$out" "$expected/$name.yaml"; then
            pass=$((pass + 1))
        else
            fail=$((fail + 1))
            echo "FAIL $dir (exit $code)"
            head -c 600 "$err"
            diff "$expected/$name.yaml" "$out" | head -20
        fi
    elif [ -f "$expected/$name.error" ]; then
        missing=$(first_missing "$dir")
        if [ $code -eq 1 ] && [ ! -s "$out" ] && { [ -z "$missing" ] || grep -qF "$missing" "$err"; }; then
            pass=$((pass + 1))
        else
            fail=$((fail + 1))
            echo "FAIL $dir: want exit 1, empty stdout and '$missing' on stderr; got exit $code, $(wc -c <"$out") bytes"
            head -c 600 "$err"
        fi
    else
        echo "note: no expectation for $dir"
    fi
done < <(find . \( -name kustomization.yaml -o -name kustomization.yml -o -name Kustomization \) | sort)
echo "realworld: $pass passed, $fail failed"
[ $fail -eq 0 ]
