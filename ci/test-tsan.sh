#!/usr/bin/env bash
# test-tsan.sh - ThreadSanitizer over the threaded code: renders (sibling kustomizations are
# built concurrently), the sandbox (a thread per connection), the kube client and sync: the
# conformance label, the integration tests, and the benchmark tree
# rendered with threads and without, which must print the same bytes.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc 2>/dev/null || echo 2)
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
CC=clang cmake -S . -B build-tsan -DPL_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPL_SANITIZE=thread
cmake --build build-tsan -j"$jobs" --target plumb kube_client_it
ctest --test-dir build-tsan --output-on-failure -L 'conformance|integration' -j"$jobs"

gen=../shared/bench/gen_bigtree.py
if [ -f "$gen" ]; then
    tree=$(mktemp -d)
    trap 'rm -rf "$tree"' EXIT
    python3 "$gen" "$tree" >/dev/null
    for d in clusters/big/overlay-0 clusters/big/all; do
        build-tsan/plumb render "$tree/$d" >"$tree/threads.yaml"
        PLUMB_THREADS=1 build-tsan/plumb render "$tree/$d" >"$tree/serial.yaml"
        cmp "$tree/threads.yaml" "$tree/serial.yaml"
        echo "tsan: $d rendered identically with and without threads"
    done
else
    echo "tsan: skipped the benchmark tree: $gen is absent"
fi
