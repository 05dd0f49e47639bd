#!/usr/bin/env bash
# run_shared.sh THRESHOLD PLUMB - the shared kustomize conformance corpus under ctest.
#
# Runs ../shared/conformance/run.py (kustomize's own build tests, byte-for-byte) with
# "PLUMB render" from the repository root and fails when the pass rate (percent) is below
# THRESHOLD. Exits 77 (ctest SKIP_RETURN_CODE) when ../shared is absent.
set -uo pipefail

threshold=${1:?usage: run_shared.sh THRESHOLD PLUMB}
plumb=${2:?usage: run_shared.sh THRESHOLD PLUMB}
# the scripts change directory: make a relative binary path absolute
case $plumb in
*/*) plumb=$(cd "$(dirname "$plumb")" && pwd)/$(basename "$plumb") ;;
esac
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=${PL_SHARED_DIR:-$root/../shared}

if [ ! -f "$shared/conformance/run.py" ]; then
    echo "skipped: $shared/conformance is absent"
    exit 77
fi
cd "$root" || exit 1
log=$(mktemp)
work=$(mktemp -d)
trap 'rm -rf "$log" "$work"' EXIT
# Work on a copy: a case whose input/ folder is empty (TestEmptyFileSystem) has none in the
# shared tree, and run.py needs it as the working directory.
cp -r "$shared/conformance/kustomize" "$shared/conformance/kustomize-plugins" "$work/"
chmod -R u+w "$work"
for c in "$work"/*/*/; do
    mkdir -p "$c/input"
done
python3 "$shared/conformance/run.py" --render "$plumb render" --list-failures \
    "$work/kustomize" "$work/kustomize-plugins" >"$log" 2>&1
status=$?
cat "$log"
if [ $status -ne 0 ]; then
    echo "conformance runner failed (exit $status)"
    exit 1
fi
figure=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
passed=${figure%% passed*}
failed=${figure#*, }
failed=${failed%% failed*}
total=$((passed + failed))
if [ -z "$figure" ] || [ "$total" -eq 0 ]; then
    echo "no result line from the conformance runner"
    exit 1
fi
# integer percent, rounded down, against an integer threshold
rate=$((passed * 100 / total))
echo "conformance pass rate ${rate}% (threshold ${threshold}%)"
if [ "$rate" -lt "$threshold" ]; then
    echo "FAILED: pass rate ${rate}% is below ${threshold}%"
    exit 1
fi
exit 0
