#!/bin/bash
# Build the sidecastd of an older commit of this repository (tests/compat/BASE)
# beside the current tree, for the mixed-version tests: the commit's tree is
# extracted with `git archive` into OUT/src, configured without tests and
# built (sidecastd only) in OUT/build; its clients/node gets the current
# clients/node/node_modules through a symlink (no network). A STAMP file
# names what was built: an unchanged commit and configuration is not rebuilt.
#
# usage: build_base.sh SOURCE_DIR BASE_FILE OUT_DIR [cmake -D args...]
# Fails (never skips) when git, the repository or the commit is missing.
set -euo pipefail

src=$1
base_file=$2
out=$3
shift 3
fail() {
    echo "compat: $*" >&2
    exit 1
}

commit=$(grep -v '^#' "$base_file" | grep -m1 -E '^[0-9a-f]{7,40}$') ||
    fail "no commit id in $base_file"
command -v git >/dev/null ||
    fail "git not found: the compat tests build commit $commit of this repository and need git and a full clone"
git -C "$src" rev-parse --git-dir >/dev/null 2>&1 ||
    fail "$src is not a git checkout: the compat tests need a full 'git clone' of the repository to build commit $commit"
full=$(git -C "$src" rev-parse --verify --quiet "$commit^{commit}") ||
    fail "commit $commit (from $base_file) is not in $src: a shallow clone? CI needs a full 'git clone' (or 'git fetch --unshallow')"

stamp="$full $*"
mkdir -p "$out"
exec 9>"$out/.lock"
flock -w 1200 9 || fail "could not lock $out/.lock within 1200 s"
if [[ -f $out/STAMP && "$(cat "$out/STAMP")" == "$stamp" && -x $out/build/broker/sidecastd ]]; then
    echo "compat: base ${full:0:12} already built: $out/build/broker/sidecastd"
    exit 0
fi

echo "compat: building sidecastd of base ${full:0:12} in $out"
rm -rf "$out/src" "$out/build" "$out/STAMP"
mkdir -p "$out/src"
git -C "$src" archive --format=tar "$full" | tar -x -C "$out/src" ||
    fail "git archive $full failed"
# Old code on a newer compiler may warn where it did not: no -Werror.
if ! cmake -S "$out/src" -B "$out/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSIDECAST_TESTS=OFF -DSIDECAST_WERROR=OFF "$@" >"$out/configure.log" 2>&1; then
    tail -n 40 "$out/configure.log" >&2
    fail "configuring base ${full:0:12} failed (log: $out/configure.log)"
fi
if ! cmake --build "$out/build" --target sidecastd -j2 >"$out/build.log" 2>&1; then
    tail -n 40 "$out/build.log" >&2
    fail "building sidecastd of base ${full:0:12} failed (log: $out/build.log)"
fi
# The old Node package: its own sources, the current dependencies.
modules="$src/clients/node/node_modules"
[[ -d $modules ]] || echo "compat: warning: $modules missing (packaging/deps.sh runs npm ci): the Node compat suites will fail" >&2
ln -sfn "$modules" "$out/src/clients/node/node_modules"
echo "$stamp" >"$out/STAMP"
echo "compat: built $out/build/broker/sidecastd"
