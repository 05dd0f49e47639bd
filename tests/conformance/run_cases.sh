#!/usr/bin/env bash
# run_cases.sh PLUMB [NAME...] - the project's own golden cases.
#
# Each tests/conformance/cases/<name>/ holds input/ (a tree), expected.yaml (what
# `kubectl kustomize` printed, generated once and reviewed) and optionally args (extra render
# flags, one line; the first word may be a run directory inside input/, default ".").
# A case passes when `PLUMB render <dir> <flags>` run inside input/ prints expected.yaml byte
# for byte and exits 0. To add a case: write input/, then from input/ run
#   kubectl kustomize <dir> <flags> > ../expected.yaml
# and read the result before committing.
set -uo pipefail

plumb=${1:?usage: run_cases.sh PLUMB [NAME...]}
# the scripts change directory: make a relative binary path absolute
case $plumb in
*/*) plumb=$(cd "$(dirname "$plumb")" && pwd)/$(basename "$plumb") ;;
esac
shift
cases=$(cd "$(dirname "$0")/cases" && pwd)
pass=0
fail=0
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    mapfile -t names < <(ls "$cases")
fi
for name in "${names[@]}"; do
    c=$cases/$name
    [ -d "$c/input" ] || continue
    args=()
    if [ -f "$c/args" ]; then
        read -r -a args <"$c/args" || true
    fi
    dir=.
    if [ ${#args[@]} -gt 0 ] && [ "${args[0]#-}" = "${args[0]}" ]; then
        dir=${args[0]}
        args=("${args[@]:1}")
    fi
    (cd "$c/input" && "$plumb" render "$dir" "${args[@]}") >"$out" 2>"$err"
    code=$?
    if [ $code -eq 0 ] && cmp -s "$out" "$c/expected.yaml"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $name (exit $code)"
        head -c 600 "$err"
        diff "$c/expected.yaml" "$out" | head -30
    fi
done
echo "cases: $pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
