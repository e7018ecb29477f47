#!/usr/bin/env bash
# Install what sidecast needs to build, test, package and run on Debian 12:
# the apt packages below and the npm packages of every Node.js package in the
# tree (npm ci from its committed package-lock.json). Idempotent and quiet
# when everything is present; needs root (or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # build
  build-essential cmake pkg-config clang
  libev-dev libprotobuf-c-dev protobuf-c-compiler libinih-dev
  libhiredis-dev libsystemd-dev libhttp-parser-dev libjansson-dev libssl-dev
  # Python client: protobuf code generated at build time, python-socketio manager
  protobuf-compiler python3-protobuf python3-socketio python3-aiohttp python3-redis
  # tests: unit, memcheck, fuzzing, cluster, metrics, browser, load balancer
  libcmocka-dev valgrind libfuzzer-14-dev redis-server prometheus
  haproxy nginx chromium curl systemd python3 openssl redis-sentinel
  # packaging
  debhelper dpkg-dev fakeroot lintian dh-python python3-all python3-setuptools
)
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  echo "sidecast: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The tests run nginx themselves, as a child on loopback; when this script
  # installed it, stop the service Debian just started on port 80.
  if [[ " ${missing[*]} " == *" nginx "* ]] && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now nginx.service >/dev/null 2>&1 || true
  fi
fi

# npm packages: reinstalled only when a package-lock.json changed.
for dir in clients/node clients/node/examples/chat tests/bench/node tests/compat-sio/4.6 tests/compat-sio/4.7 \
  tests/compat-sio/4.8; do
  [ -f "$dir/package-lock.json" ] || continue
  sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  stamp="$dir/node_modules/.sidecast-lock-sha256"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
    echo "sidecast: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$sum" >"$stamp"
  fi
done
