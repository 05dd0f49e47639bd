#!/usr/bin/env bash
# test-asan.sh - the same tests built with clang under AddressSanitizer + UBSan (leak checks
# on) into build-asan/. The fuzz corpora replay here too (ctest label "fuzz").
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc 2>/dev/null || echo 2)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
# free everything at exit too (the CLI otherwise leaves big results for exit() to reclaim),
# so the leak check covers them
export PLUMB_FREE_ON_EXIT=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
CC=clang cmake -S . -B build-asan -DPL_WERROR=ON -DCMAKE_BUILD_TYPE=Debug \
    -DPL_SANITIZE=address,undefined
cmake --build build-asan -j"$jobs"
ctest --test-dir build-asan --output-on-failure -j"$jobs"
