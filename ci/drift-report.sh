#!/usr/bin/env bash
# drift-report.sh - the pull-request drift report, for users' CI pipelines.
#
#   ci/drift-report.sh [-o FILE] [--base REV] [--head REV] [--plumb BIN] [--kubeconfig F]
#                      [--context C] [--repo-alias URL=DIR]... PATH
#
# Renders PATH (an App-of-Apps root or any tree) at the pull request's base and head revisions,
# straight from the git object store (`plumb diff --from BASE --to HEAD -o markdown`), and
# writes a Markdown report a pipeline can post as a pull-request comment. With --kubeconfig
# (or --context), a second section compares the head tree with the live cluster
# (`plumb diff PATH -o markdown`). Secret values never appear in either.
#
# BASE defaults to the merge base of HEAD and origin/main (then main); HEAD to HEAD.
# Exit status: 0 no changes and no drift, 1 changes or drift (the report says which), 2 errors
# (a revision or tree that does not render; the report then holds the error lines).
set -uo pipefail

out=/dev/stdout base= head=HEAD plumb= path= live=0
live_opts=() alias_opts=()
while [ $# -gt 0 ]; do
    case $1 in
    -o) out=$2; shift 2 ;;
    --base) base=$2; shift 2 ;;
    --head) head=$2; shift 2 ;;
    --plumb) plumb=$2; shift 2 ;;
    --kubeconfig | --context) live=1; live_opts+=("$1" "$2"); shift 2 ;;
    --repo-alias) alias_opts+=("$1" "$2"); shift 2 ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "drift-report: unknown option $1" >&2; exit 2 ;;
    *) path=$1; shift ;;
    esac
done
if [ -z "$path" ]; then
    echo "drift-report: usage: ci/drift-report.sh [options] PATH" >&2
    exit 2
fi
if [ -z "$plumb" ]; then
    here=$(cd "$(dirname "$0")/.." && pwd)
    if [ -x "$here/build/plumb" ]; then plumb=$here/build/plumb; else plumb=plumb; fi
fi
if [ -z "$base" ]; then
    base=$(git -C "$path" merge-base "$head" origin/main 2>/dev/null ||
        git -C "$path" merge-base "$head" main 2>/dev/null) || {
        echo "drift-report: no merge base with origin/main or main: pass --base REV" >&2
        exit 2
    }
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$plumb" diff "$path" --from "$base" --to "$head" "${alias_opts[@]}" -o markdown \
    >"$tmp/changes.md" 2>"$tmp/changes.err"
rc=$?
{
    if [ "$rc" -eq 2 ]; then
        echo "### plumb: the change set could not be rendered"
        echo
        sed 's/^/    /' "$tmp/changes.err"
    else
        cat "$tmp/changes.md"
    fi
} >"$tmp/report.md"
if [ "$live" -eq 1 ]; then
    "$plumb" diff "$path" "${live_opts[@]}" "${alias_opts[@]}" -o markdown \
        >"$tmp/live.md" 2>"$tmp/live.err"
    lrc=$?
    {
        echo
        if [ "$lrc" -eq 2 ] && [ ! -s "$tmp/live.md" ]; then
            echo "### plumb: the cluster could not be compared"
            echo
            sed 's/^/    /' "$tmp/live.err"
        else
            cat "$tmp/live.md"
        fi
    } >>"$tmp/report.md"
    [ "$lrc" -gt "$rc" ] && rc=$lrc
fi
cat "$tmp/report.md" >"$out"
exit "$rc"
