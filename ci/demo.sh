#!/usr/bin/env bash
# Render the demo cluster: the App-of-Apps root and every overlay its Applications point at.
set -euo pipefail
cd "$(dirname "$0")/.."
PLUMB=${PLUMB:-build/plumb}
for dir in clusters/demo clusters/demo/overlays/*/; do
    dir=${dir%/}
    echo "# ---- plumb render $dir"
    "$PLUMB" render "$dir"
done
