#!/usr/bin/env bash
# Install the Debian 12 packages sidecast needs to build, test and run.
# Idempotent and quiet when everything is present; needs root (or sudo).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libev-dev libprotobuf-c-dev protobuf-c-compiler libinih-dev
  libhiredis-dev redis-server
  libcmocka-dev valgrind
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "sidecast: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
