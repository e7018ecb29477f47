#!/bin/bash
# Run one node:test suite of a clients/node tree (this tree's, or the base
# commit's extracted by build_base.sh) against a given sidecastd.
#
# usage: node_suite.sh NODE CLIENTS_NODE_DIR SUITE SIDECASTD [SKIP_REGEX]
# SKIP_REGEX: tests whose names match it are reported skipped, not run
# (tests of a feature the other side lacks; see skip_tests.js). Fails (never skips) when the tree, its
# node_modules or the daemon is missing. --test-force-exit: a failed test
# that leaves a handle open ends the run instead of hanging it until the
# CTest timeout (the harness kills its processes at exit).
set -euo pipefail
node=$1
dir=$2
suite=$3
daemon=$4
skip=${5:-}
fail() {
    echo "compat: $*" >&2
    exit 1
}
[[ -f $dir/test/$suite.test.js ]] ||
    fail "$dir/test/$suite.test.js missing (did compat_build_base run?)"
[[ -d $dir/node_modules/socket.io ]] ||
    fail "$dir/node_modules has no socket.io (packaging/deps.sh runs npm ci in clients/node)"
[[ -x $daemon ]] || fail "sidecastd $daemon missing (did compat_build_base run?)"
daemon=$(realpath "$daemon") # the suite runs from its own directory
cd "$dir/test"
echo "compat: $dir/test/$suite.test.js against $daemon"
args=(--test --test-force-exit --test-reporter=spec)
if [[ -n $skip ]]; then
    echo "compat: not run here: tests matching /$skip/"
    args+=(--require "$(dirname "$(realpath "$0")")/skip_tests.js")
fi
SIDECAST_COMPAT_SKIP=$skip SIDECASTD=$daemon exec "$node" "${args[@]}" "$suite.test.js"
