#!/usr/bin/env bash
# bench_render.sh [PLUMB] - plumb render against kubectl kustomize on generated trees.
#
# Generates the benchmark tree with ../shared/bench/gen_bigtree.py into a temporary directory
# (20 bases x 50 objects, 4 overlays; clusters/big/all pulls all four overlays) and a second
# one with --objs 100, then for clusters/big/overlay-0 and clusters/big/all:
#   - checks plumb's output is byte-identical to kubectl kustomize's,
#   - measures wall time (plumb: hyperfine mean of PL_BENCH_RUNS runs when hyperfine is
#     installed; kubectl: one run) and peak RSS (/usr/bin/time),
#   - prints the speed-up and the memory ratio,
# and finally plumb's all/overlay-0 time ratio (4x the objects) and the objs-100/objs-50
# ratio on overlay-0 (2x the objects): both near their object ratio when rendering is linear.
# kubectl takes about a minute on clusters/big/all. Skips (exit 0) when ../shared is absent;
# without kubectl only plumb is measured. Not part of ctest: it prints, it never asserts.
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

# one run of "$@": stdout to $OUT, sets WALL (s) and RSS (MB, "?" without /usr/bin/time)
run_once() {
    if [ $have_time -eq 1 ]; then
        /usr/bin/time -f "%e %M" -o "$work/tm" "$@" >"$OUT" 2>/dev/null
        read -r WALL RSS <"$work/tm"
        RSS=$(python3 -c "print('%.1f' % ($RSS / 1024))")
    else
        local s e
        s=$(date +%s.%N)
        "$@" >"$OUT" 2>/dev/null
        e=$(date +%s.%N)
        WALL=$(python3 -c "print('%.3f' % ($e - $s))")
        RSS="?"
    fi
}

# mean wall seconds of "$@" over $runs runs (hyperfine), else of one run
mean_wall() {
    if [ $have_hyperfine -eq 1 ]; then
        hyperfine -N --warmup 1 --runs "$runs" --export-json "$work/h.json" \
            -- "$(printf '%q ' "$@")" >/dev/null 2>&1
        python3 -c 'import json,sys; print("%.4f" % json.load(open(sys.argv[1]))["results"][0]["mean"])' "$work/h.json"
    else
        OUT=/dev/null run_once "$@"
        echo "$WALL"
    fi
}

ratio() {
    python3 -c "import sys; a,b=sys.argv[1:3]; print('?' if '?' in (a,b) or float(b)==0 else '%.1f' % (float(a)/float(b)))" "$1" "$2"
}

declare -A T
echo "plumb: $plumb"
[ $have_kubectl -eq 1 ] && echo "kubectl: $(kubectl version --client 2>/dev/null | grep -i kustomize)"
for tree in clusters/big/overlay-0 clusters/big/all; do
    dir=$work/t50/$tree
    OUT=$work/plumb.yaml run_once "$plumb" render "$dir"
    pm=$RSS
    objs=$(grep -c '^kind:' "$work/plumb.yaml")
    pt=$(mean_wall "$plumb" render "$dir")
    T[$tree]=$pt
    echo
    echo "== $tree ($objs objects)"
    echo "plumb render:      ${pt} s, peak ${pm} MB"
    if [ $have_kubectl -eq 1 ]; then
        OUT=$work/kubectl.yaml run_once kubectl kustomize "$dir"
        if cmp -s "$work/plumb.yaml" "$work/kubectl.yaml"; then
            same="identical"
        else
            same="DIFFERENT ($(diff "$work/kubectl.yaml" "$work/plumb.yaml" | grep -c '^[<>]') lines differ)"
        fi
        echo "kubectl kustomize: ${WALL} s, peak ${RSS} MB"
        echo "outputs: $same"
        echo "speed-up: $(ratio "$WALL" "$pt")x; memory ratio (kubectl/plumb): $(ratio "$RSS" "$pm")x"
    fi
done
echo
echo "plumb all/overlay-0 time ratio: $(ratio "${T[clusters/big/all]}" "${T[clusters/big/overlay-0]}") (4x the objects)"
t100=$(mean_wall "$plumb" render "$work/t100/clusters/big/overlay-0")
echo "plumb overlay-0 objs-100/objs-50 time ratio: $(ratio "$t100" "${T[clusters/big/overlay-0]}") (2x the objects; ${t100} s)"
