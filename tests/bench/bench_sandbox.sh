#!/usr/bin/env bash
# bench_sandbox.sh [PLUMB [SB_LOAD]] - request rate of `plumb sandbox` on loopback.
#
# Starts a sandbox on a free port, creates one ConfigMap, then fires N small GETs of it
# (default 50000) over C concurrent kept-alive TLS connections (default 8; also 1 and 32),
# with tests/bench/sb_load.c (built by CMake as build/sb_load). Prints requests per second per
# concurrency. Target (issue 3): >= 5000/s on a 2-core machine. Not part of ctest: it prints,
# it never asserts. Env: PL_BENCH_N, PL_BENCH_C (space-separated list).
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
plumb=${1:-$root/build/plumb}
load=${2:-$(dirname "$plumb")/sb_load}
n=${PL_BENCH_N:-50000}
concs=${PL_BENCH_C:-"1 8 32"}
for b in "$plumb" "$load"; do
    if [ ! -x "$b" ]; then
        echo "no binary at $b (build first, or pass PLUMB and SB_LOAD)"
        exit 1
    fi
done
# shellcheck source=../integration/sandbox_lib.sh
. "$root/tests/integration/sandbox_lib.sh"
work=$(mktemp -d)
trap 'sandbox_stop; rm -rf "$work"' EXIT
sandbox_start "$plumb" "$work" || exit 1
# no request log for the measurement: start again without it would change nothing measurable;
# the log is line-buffered and cheap, keep the default setup of the tests.
curl -fsS --cacert "$SB_CA" -H "Authorization: Bearer $SB_TOKEN" -H 'Content-Type: application/json' \
    --data-binary '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"bench","namespace":"default"},"data":{"k":"v"}}' \
    "$SB_URL/api/v1/namespaces/default/configmaps" >/dev/null || {
    echo "could not create the benchmark ConfigMap"
    exit 1
}
url="$SB_URL/api/v1/namespaces/default/configmaps/bench"
echo "GET $url, $n requests, $(nproc) cores"
"$load" "$url" -n 2000 -c 8 --cacert "$SB_CA" --token-file "$work/token" >/dev/null # warm-up
for c in $concs; do
    printf 'concurrency %-3s ' "$c"
    "$load" "$url" -n "$n" -c "$c" --cacert "$SB_CA" --token-file "$work/token"
done
