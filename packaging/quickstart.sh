#!/usr/bin/env bash
# Quick start: install dependencies, build, install the binaries, and start
# sidecastd in the background on /run/sidecast/sidecast.sock.
# Re-running it rebuilds and restarts the daemon it started before.
set -euo pipefail
cd "$(dirname "$0")/.."

bash packaging/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
cmake --install build --prefix /usr/local >/dev/null

RUN_DIR=/run/sidecast
PIDFILE=$RUN_DIR/sidecastd.pid
# The socket is mode 0660, group sidecast: members of the group (and root)
# may connect. The .deb creates the group too.
getent group sidecast >/dev/null || groupadd --system sidecast
mkdir -p "$RUN_DIR" /etc/sidecast
[ -f /etc/sidecast/sidecast.conf ] || install -m 0644 packaging/sidecast.conf /etc/sidecast/sidecast.conf
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  kill "$(cat "$PIDFILE")"
  for _ in $(seq 50); do kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break; sleep 0.1; done
fi
/usr/local/sbin/sidecastd --config /etc/sidecast/sidecast.conf --check-config
nohup /usr/local/sbin/sidecastd --config /etc/sidecast/sidecast.conf \
  >>/var/log/sidecastd.log 2>&1 &
echo $! >"$PIDFILE"
for _ in $(seq 50); do
  /usr/local/bin/sidecastctl -s $RUN_DIR/sidecast.sock ping >/dev/null 2>&1 && break
  sleep 0.1
done
/usr/local/bin/sidecastctl -s $RUN_DIR/sidecast.sock ping
echo "sidecastd is running (pid $(cat "$PIDFILE"), log /var/log/sidecastd.log)."
echo "Apps connect as root or as a member of group sidecast: usermod -aG sidecast USER"
echo "Try: sidecastctl stats        Stop it: kill \$(cat $PIDFILE)"
