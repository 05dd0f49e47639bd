#!/usr/bin/env bash
# bench_render.sh [PLUMB] - plumb render against kubectl kustomize on generated trees.
#
# Generates the benchmark tree with ../shared/bench/gen_bigtree.py into a temporary directory
# (default size: 20 bases x 50 objects, 4 overlays; clusters/big/all holds all four overlays)
# and a second one with --objs 100, then for clusters/big/overlay-0 and clusters/big/all:
#   - checks plumb's output is byte-identical to kubectl kustomize's,
#   - measures wall time (hyperfine when installed, else /usr/bin/time) and peak RSS
#     (/usr/bin/time), and prints the speed ratio, the memory ratio, and plumb's
#     all/overlay-0 and objs-100/objs-50 time ratios (linearity: ~4x and ~2x expected).
# kubectl is slow here (about a minute for clusters/big/all), so it runs once per tree.
# Not part of ctest: benchmarks print ratios, they never assert timings.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
plumb=${1:-$root/build/plumb}
case $plumb in
*/*) plumb=$(cd "$(dirname "$plumb")" && pwd)/$(basename "$plumb") ;;
esac
shared=${PL_SHARED_DIR:-$root/../shared}
runs=${PL_BENCH_RUNS:-10}

if [ ! -f "$shared/bench/gen_bigtree.py" ]; then
    echo "skipped: $shared/bench/gen_bigtree.py is absent"
    exit 0
fi
if [ ! -x "$plumb" ]; then
    echo "no plumb binary at $plumb (build first, or pass its path)"
    exit 1
fi
have_kubectl=0
command -v kubectl >/dev/null 2>&1 && have_kubectl=1
have_hyperfine=0
command -v hyperfine >/dev/null 2>&1 && have_hyperfine=1
have_time=0
[ -x /usr/bin/time ] && have_time=1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$shared/bench/gen_bigtree.py" "$work/t50" >/dev/null || exit 1
python3 "$shared/bench/gen_bigtree.py" "$work/t100" --objs 100 >/dev/null || exit 1

# wall seconds of "$@" (mean over N runs with hyperfine, else one run)
wall() {
    local n=$1
    shift
    if [ $have_hyperfine -eq 1 ]; then
        local json=$work/h.json
        if [ "$n" -gt 1 ]; then
            hyperfine -N --warmup 1 --runs "$n" --export-json "$json" -- "$(printf '%q ' "$@")" >/dev/null 2>&1
        else
            hyperfine -N --runs 1 --export-json "$json" -- "$(printf '%q ' "$@")" >/dev/null 2>&1
        fi
        python3 -c 'import json,sys; print("%.4f" % json.load(open(sys.argv[1]))["results"][0]["mean"])' "$json"
    elif [ $have_time -eq 1 ]; then
        /usr/bin/time -f "%e" -o "$work/t" "$@" >/dev/null 2>&1
        cat "$work/t"
    else
        local s e
        s=$(date +%s.%N)
        "$@" >/dev/null 2>&1
        e=$(date +%s.%N)
        python3 -c "print('%.4f' % ($e - $s))"
    fi
}

# peak RSS in MB of one run of "$@" ("?" without /usr/bin/time)
peak_mb() {
    if [ $have_time -eq 1 ]; then
        /usr/bin/time -f "%M" -o "$work/m" "$@" >/dev/null 2>&1
        python3 -c "print('%.1f' % ($(cat "$work/m") / 1024))"
    else
        echo "?"
    fi
}

ratio() { python3 -c "import sys; a,b=sys.argv[1:3]; print('?' if '?' in (a,b) or float(b)==0 else '%.1f' % (float(a)/float(b)))" "$1" "$2"; }

declare -A T
echo "plumb: $plumb"
[ $have_kubectl -eq 1 ] && echo "kubectl: $(kubectl version --client 2>/dev/null | grep -i kustomize)"
for tree in clusters/big/overlay-0 clusters/big/all; do
    dir=$work/t50/$tree
    objs=$("$plumb" render "$dir" 2>/dev/null | grep -c '^kind:')
    pt=$(wall "$runs" "$plumb" render "$dir")
    pm=$(peak_mb "$plumb" render "$dir")
    T[$tree]=$pt
    echo
    echo "== $tree ($objs objects)"
    echo "plumb render:      ${pt} s, peak ${pm} MB"
    if [ $have_kubectl -eq 1 ]; then
        "$plumb" render "$dir" >"$work/plumb.yaml" 2>/dev/null
        kt=$(wall 1 kubectl kustomize "$dir")
        km=$(peak_mb kubectl kustomize "$dir")
        kubectl kustomize "$dir" >"$work/kubectl.yaml" 2>/dev/null
        if cmp -s "$work/plumb.yaml" "$work/kubectl.yaml"; then
            same="identical"
        else
            same="DIFFERENT ($(diff "$work/kubectl.yaml" "$work/plumb.yaml" | grep -c '^[<>]') lines differ)"
        fi
        echo "kubectl kustomize: ${kt} s, peak ${km} MB"
        echo "outputs: $same"
        echo "speed-up: $(ratio "$kt" "$pt")x, memory ratio (kubectl/plumb): $(ratio "$km" "$pm")x"
    fi
done
echo
echo "plumb all/overlay-0 time ratio: $(ratio "${T[clusters/big/all]}" "${T[clusters/big/overlay-0]}") (4x the objects)"
t100=$(wall "$runs" "$plumb" render "$work/t100/clusters/big/overlay-0")
echo "plumb overlay-0 --objs 100 / --objs 50 time ratio: $(ratio "$t100" "${T[clusters/big/overlay-0]}") (2x the objects; ${t100} s)"
