#!/usr/bin/env bash
# Build the Debian packages (sidecast, libsidecast0, libsidecast-dev, their
# -dbgsym, and python3-sidecast) into OUTDIR: copy the source tree (the files git tracks or would
# track, as they are now: no build trees, no node_modules) to a temporary
# directory, put packaging/debian at its root as debian/, and run
# dpkg-buildpackage -b there. The work tree is left untouched. Needs the Build-Depends of packaging/debian/control
# (packaging/deps.sh installs them).
#
# Usage: [SIDECAST_DEB_VERSION=V] packaging/build-deb.sh OUTDIR
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/sidecast-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree="$work/sidecast"
mkdir "$tree"

# Tracked files (as they are in the work tree, edits included) when this is a
# git checkout, else a copy without build leftovers.
if git -C "$src" rev-parse --show-toplevel >/dev/null 2>&1; then
  (cd "$src" && git ls-files -z --cached --others --exclude-standard |
    xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
    tar --null -T - -cf -) | tar -C "$tree" -xf -
else
  tar -C "$src" --exclude='./build*' --exclude='node_modules' --exclude='./.git' \
    -cf - . | tar -C "$tree" -xf -
fi
rm -rf "$tree/debian"
cp -a "$src/packaging/debian" "$tree/debian"
# SIDECAST_DEB_VERSION=V builds version V (a new changelog entry), e.g. to
# test an upgrade; the default is the version in packaging/debian/changelog.
if [ -n "${SIDECAST_DEB_VERSION:-}" ]; then
  maint=$(sed -n 's/^Maintainer: //p' "$tree/debian/control")
  {
    printf 'sidecast (%s) unstable; urgency=medium\n\n  * Local build.\n\n -- %s  %s\n\n' \
      "$SIDECAST_DEB_VERSION" "$maint" "$(date -R)"
    cat "$tree/debian/changelog"
  } >"$tree/debian/changelog.new"
  mv "$tree/debian/changelog.new" "$tree/debian/changelog"
fi
# Build leftovers of an earlier in-place build are not part of the source.
rm -rf "$tree/debian/.debhelper" "$tree/debian/files" "$tree/debian"/*.substvars \
  "$tree/debian"/*.log "$tree/debian/tmp"
for p in $(sed -n 's/^Package: //p' "$tree/debian/control"); do rm -rf "${tree:?}/debian/$p"; done

(cd "$tree" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 || {
  tail -60 "$work/build.log" >&2
  echo "build-deb.sh: dpkg-buildpackage failed (log above)" >&2
  exit 1
}
shopt -s nullglob
debs=("$work"/*.deb "$work"/*.ddeb)
if [ ${#debs[@]} -eq 0 ]; then
  echo "build-deb.sh: dpkg-buildpackage made no .deb" >&2
  exit 1
fi
cp "${debs[@]}" "$work"/*.buildinfo "$work"/*.changes "$out"/
for d in "${debs[@]}"; do echo "$out/$(basename "$d")"; done
