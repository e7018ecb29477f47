#!/usr/bin/env bash
# Starts the chat example on loopback: redis-server, two socket.io nodes each
# with its own sidecastd, HAProxy round-robin in front (no stickiness).
# Prints the URL; Ctrl-C stops everything. Needs a built tree
# (cmake -S . -B build && cmake --build build) or SIDECASTD=/path/to/sidecastd.
# Options: --nodes N, --port P (HAProxy's port; default: a free one),
# --transport websocket|polling, --python 2[,3] (those nodes run the Python
# server, server.py, with Debian's /usr/bin/python3; needs the build's
# generated sidecast_pb2: cmake --build build --target sidecast_python_proto).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../../.." && pwd)"
export SIDECASTD="${SIDECASTD:-$repo/build/broker/sidecastd}"
if [ ! -x "$SIDECASTD" ]; then
  echo "sidecastd not found at $SIDECASTD: build the tree first (cmake -S . -B build && cmake --build build)" >&2
  exit 1
fi
for pkg in "$here" "$repo/clients/node"; do
  if [ -f "$pkg/package.json" ] && [ ! -d "$pkg/node_modules" ]; then
    echo "installing npm packages in $pkg" >&2
    (cd "$pkg" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
done
exec node "$here/start.js" "$@"
