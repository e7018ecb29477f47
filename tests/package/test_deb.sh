#!/usr/bin/env bash
# The Debian packages end to end: build them with packaging/build-deb.sh, run
# lintian (errors fail), install them with apt-get, check the account, files
# and units they put in place (systemd-analyze verify and security), run the
# installed sidecastd as user sidecast on the configured socket the way the
# unit does (systemd is not PID 1 here), talk to it with the installed
# sidecastctl, with a C program built against libsidecast-dev through
# pkg-config and with Python programs on python3-sidecast (the client and
# the socket.io emitter, Debian's /usr/bin/python3 in isolated mode: the
# installed module, not the source tree), stop it by pid, purge, and check
# that everything install made is gone.
#
# Usage: test_deb.sh SIDECASTCTL_FROM_THE_BUILD_TREE
# Needs root (exit 77 = skipped otherwise). It owns the packages sidecast,
# libsidecast0, libsidecast-dev and python3-sidecast on this machine: an installed copy is
# purged first (a failed earlier run may have left one). A live sidecastd
# already on /run/sidecast/sidecast.sock (the quick start's) makes it skip
# rather than disturb it; an /etc/sidecast/sidecast.conf no package owns is
# put back afterwards. Runs of it are serialised with a lock file.
set -uo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_CTL=${1:-}
SOCK=/run/sidecast/sidecast.sock
CONF=/etc/sidecast/sidecast.conf
PKGS=(sidecast libsidecast0 libsidecast-dev python3-sidecast)
APT=(apt-get -y -q -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0)
export DEBIAN_FRONTEND=noninteractive

skip() {
  echo "SKIP: $*"
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (installs and purges packages)"
for t in dpkg-buildpackage pybuild apt-get lintian systemd-analyze systemd-socket-activate setpriv \
  pkg-config cc curl flock; do
  command -v "$t" >/dev/null || skip "$t is not installed (bash packaging/deps.sh)"
done

# Only the packaged locations: a copy built by hand under /usr/local (the
# quick start installs one) must not stand in for the package's.
MA=$(cc -print-multiarch)
export PKG_CONFIG_LIBDIR="/usr/lib/$MA/pkgconfig:/usr/lib/pkgconfig:/usr/share/pkgconfig"
PKG_LIB="/usr/lib/$MA"

mkdir -p /run/lock
exec 9>/run/lock/sidecast-package-test.lock
flock -w 1500 9 || { echo "FAIL: another package test held the lock for 25 min"; exit 1; }

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
check() { # check DESCRIPTION COMMAND...: the command's output is shown on failure
  local d=$1; shift
  if "$@" >"$T/check.out" 2>&1; then ok "$d"; else
    bad "$d"
    sed 's/^/     /' "$T/check.out"
  fi
}

T=$(mktemp -d /tmp/sidecast-pkgtest.XXXXXX)
chmod 0755 "$T" # the app test program runs as nobody
daemon_pid="" client_pid="" saved_conf="" made_account=0

# Is a process listening on the socket? (Connect only: ping needs a sidecastd.)
listening() { [ -S "$1" ] && "$2" -s "$1" -t 2000 ping >/dev/null 2>&1; }
present() { # those of our packages dpkg has in a state that purge changes
  local p s
  for p in "${PKGS[@]}"; do
    s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) || continue
    [ -n "$s" ] && [ "$s" != "not-installed" ] && echo "$p"
  done
}
installed() { [ -n "$(present)" ]; }
purge() { # apt-get refuses to purge a package it does not know: name only present ones
  local p
  p=$(present)
  [ -z "$p" ] || "${APT[@]}" purge $p >>"$T/apt.log" 2>&1
}
stop_pid() { # stop_pid PID: SIGTERM, wait at most 60 s, then SIGKILL; prints exit status
  local p=$1 i
  kill -TERM "$p" 2>/dev/null
  for i in $(seq 600); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
  wait "$p"
}
cleanup() {
  [ -n "$client_pid" ] && kill -0 "$client_pid" 2>/dev/null && stop_pid "$client_pid" >/dev/null
  [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null && stop_pid "$daemon_pid" >/dev/null
  installed && purge
  if [ "$made_account" = 1 ]; then
    userdel sidecast 2>/dev/null
    groupdel sidecast 2>/dev/null
  fi
  if [ -n "$saved_conf" ]; then
    mkdir -p /etc/sidecast && cp -p "$saved_conf" "$CONF"
  fi
  rm -rf "$T"
}
trap cleanup EXIT

[ -x "$BUILD_CTL" ] || { echo "FAIL: usage: $0 PATH_TO_BUILT_SIDECASTCTL"; exit 1; }
if listening "$SOCK" "$BUILD_CTL"; then
  skip "a sidecastd is already listening on $SOCK (the quick start's?); stop it to run this test"
fi

echo "== purge what an earlier run left"
if installed; then
  purge || { tail -20 "$T/apt.log"; echo "FAIL: cannot purge the installed packages"; exit 1; }
fi
if [ -f "$CONF" ]; then # no package owns it now: keep it for afterwards
  saved_conf="$T/saved-sidecast.conf"
  cp -p "$CONF" "$saved_conf" && rm -f "$CONF"
fi

echo "== build"
if ! bash "$SRC/packaging/build-deb.sh" "$T/debs" >"$T/build.log" 2>&1; then
  tail -60 "$T/build.log"
  echo "FAIL: packaging/build-deb.sh"
  exit 1
fi
debs=("$T"/debs/sidecast_*.deb "$T"/debs/libsidecast0_*.deb "$T"/debs/libsidecast-dev_*.deb
  "$T"/debs/python3-sidecast_*.deb)
for d in "${debs[@]}"; do check "built $(basename "$d")" test -f "$d"; done
check "built the -dbgsym packages" compgen -G "$T/debs/sidecast-dbgsym_*.deb"

echo "== lintian"
lintian --fail-on error --display-info --pedantic "$T"/debs/*.deb >"$T/lintian.log" 2>&1
lrc=$?
grep -v 'running with root privileges' "$T/lintian.log"
if [ $lrc -eq 0 ]; then ok "lintian: no errors"; else bad "lintian: errors (exit $lrc)"; fi

echo "== install"
if "${APT[@]}" install --no-install-recommends "${debs[@]}" >>"$T/apt.log" 2>&1; then
  ok "apt-get install"
else
  tail -30 "$T/apt.log"
  bad "apt-get install"
  echo "$pass passed, $fail failed"
  exit 1
fi

check "the copyright file says the MIT (Expat) licence" \
  grep -q '^License: Expat$' /usr/share/doc/sidecast/copyright
check "user sidecast exists" getent passwd sidecast
check "group sidecast exists" getent group sidecast
check "user sidecast has no login shell" \
  sh -c 'getent passwd sidecast | cut -d: -f7 | grep -q nologin'
check "user sidecast's primary group is sidecast" \
  sh -c '[ "$(id -gn sidecast)" = sidecast ]'
for f in /usr/sbin/sidecastd /usr/bin/sidecastctl; do check "installed $f" test -x "$f"; done
for f in /lib/systemd/system/sidecast.service /lib/systemd/system/sidecast.socket \
  /usr/lib/sysusers.d/sidecast.conf /usr/share/man/man8/sidecastd.8.gz \
  /usr/share/man/man1/sidecastctl.1.gz /usr/include/sidecast.h "$CONF"; do
  check "installed $f" test -f "$f"
done
# The monitoring assets (packaging/prometheus, packaging/grafana).
RULES=/usr/share/sidecast/prometheus/sidecast-rules.yml
DASHBOARD=/usr/share/sidecast/grafana/sidecast-dashboard.json
for f in "$RULES" "${RULES%.yml}.test.yml" "$DASHBOARD"; do check "installed $f" test -f "$f"; done
if command -v promtool >/dev/null; then
  check "promtool test rules on the installed rules" \
    sh -c "cd ${RULES%/*} && promtool test rules sidecast-rules.test.yml"
fi
check "the installed dashboard is JSON" /usr/bin/python3 -m json.tool "$DASHBOARD"
check "$CONF is a conffile" sh -c "dpkg-query -W -f='\${Conffiles}' sidecast | grep -q ' $CONF '"
check "$CONF is the shipped one" cmp "$CONF" "$SRC/packaging/sidecast.conf"
check "libsidecast.so.0 is in the linker cache" sh -c 'ldconfig -p | grep -q "libsidecast.so.0 "'
check "pkg-config knows sidecast" pkg-config --exists sidecast
check "sidecast.pc has the project version" \
  sh -c "[ \"\$(pkg-config --modversion sidecast)\" = \"$(sed -n 's/^project(sidecast VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")\" ]"
PYMOD=/usr/lib/python3/dist-packages/sidecast
for f in "$PYMOD/__init__.py" "$PYMOD/manager.py" "$PYMOD/sidecast_pb2.py"; do check "installed $f" test -f "$f"; done
check "sidecast_pb2.py was generated by protoc at build time (none in the source)" \
  sh -c "grep -q 'Generated by the protocol buffer compiler' $PYMOD/sidecast_pb2.py &&
    ! git -C '$SRC' ls-files --error-unmatch 'clients/python/sidecast/sidecast_pb2.py' >/dev/null 2>&1 &&
    [ ! -e '$SRC/clients/python/sidecast/sidecast_pb2.py' ]"
check "python3 -I imports the installed sidecast (client, protobuf module)" \
  /usr/bin/python3 -I -c "import sidecast, sidecast._pb as p; assert sidecast.__file__.startswith('$PYMOD/'); p.pb.Frame()"
if dpkg-query -W -f='${Status}' python3-socketio 2>/dev/null | grep -q 'install ok installed'; then
  check "python3 -I imports SidecastManager and Emitter (python3-socketio)" \
    /usr/bin/python3 -I -c "from sidecast import SidecastManager, Emitter"
fi
check "sidecast.service enabled" test -L /etc/systemd/system/multi-user.target.wants/sidecast.service
check "sidecast.socket enabled" test -L /etc/systemd/system/sockets.target.wants/sidecast.socket

echo "== systemd units"
units=(/lib/systemd/system/sidecast.service /lib/systemd/system/sidecast.socket)
systemd-analyze verify "${units[@]}" >"$T/verify.log" 2>&1
vrc=$?
cat "$T/verify.log"
if [ $vrc -eq 0 ] && ! grep -qi sidecast "$T/verify.log"; then
  ok "systemd-analyze verify: clean"
else
  bad "systemd-analyze verify (exit $vrc)"
fi
systemd-analyze security --offline=true "${units[0]}" >"$T/security.log" 2>&1
score=$(sed -n 's/.*Overall exposure level for sidecast.service: \([0-9.]*\).*/\1/p' "$T/security.log")
echo "exposure score: ${score:-unknown}"
# packaging/README.md (systemd, Hardening) states the score; a unit edit that
# loosens the sandbox past 2.0
# ("OK" ends at 4.9) should be a decision, not an accident.
check "systemd-analyze security: exposure ${score:-?} <= 2.0" \
  awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.0) }'
check "service runs the installed daemon" \
  grep -q '^ExecStart=/usr/sbin/sidecastd --config /etc/sidecast/sidecast.conf$' "${units[0]}"
check "socket unit listens on the configured socket" \
  grep -q "^ListenStream=$SOCK\$" "${units[1]}"

echo "== run the installed daemon as the unit would"
as_sidecast=(setpriv --reuid=sidecast --regid=sidecast --init-groups --no-new-privs
  --inh-caps=-all --bounding-set=-all)
check "--check-config as user sidecast" \
  sh -c "${as_sidecast[*]} /usr/sbin/sidecastd --config $CONF --check-config | grep -q 'configuration OK'"
# What RuntimeDirectory=sidecast, RuntimeDirectoryMode=0755 and UMask=0027 do.
install -d -o sidecast -g sidecast -m 0755 /run/sidecast
(cd /run/sidecast && umask 0027 &&
  exec "${as_sidecast[@]}" /usr/sbin/sidecastd --config "$CONF" \
    --http-listen 127.0.0.1:0) >"$T/daemon.log" 2>&1 & # a free port: tests run in parallel
daemon_pid=$!
up=0
for _ in $(seq 600); do # at most 60 s
  kill -0 "$daemon_pid" 2>/dev/null || break
  if /usr/bin/sidecastctl -t 2000 ping >"$T/ping.log" 2>&1; then up=1; break; fi
  sleep 0.1
done
if [ $up -eq 1 ]; then ok "installed sidecastctl ping: $(cat "$T/ping.log")"; else
  bad "sidecastd did not answer a ping"
  cat "$T/daemon.log"
fi
check "socket is owned by sidecast:sidecast, mode 0660" \
  sh -c "[ \"\$(stat -c '%U:%G %a %F' $SOCK)\" = 'sidecast:sidecast 660 socket' ]"
check "daemon runs as user sidecast" \
  sh -c "[ \"\$(ps -o user= -p $daemon_pid)\" = sidecast ]"
sgid=$(getent group sidecast | cut -d: -f3)
check "a user outside group sidecast is refused" \
  sh -c "! setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/sidecastctl -t 2000 ping"
check "a member of group sidecast gets in" \
  setpriv --reuid=nobody --regid=nogroup --groups="$sgid" /usr/bin/sidecastctl -t 5000 ping
check "sidecastctl stats" sh -c '/usr/bin/sidecastctl stats | grep -q app_connections'
check "sidecastctl --json stats" sh -c '/usr/bin/sidecastctl --json stats | grep -q "\"app_connections\""'

echo "== HTTP endpoint and SIGHUP reload"
port=$(sed -n 's/.*http: listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$T/daemon.log" | head -1)
if [ -n "$port" ]; then ok "HTTP endpoint listening on 127.0.0.1:$port"; else
  bad "no 'http: listening on' line in the daemon log"
  port=1 # the checks below then fail instead of hanging
fi
check "GET /healthz is 200" curl -fsS -m 10 -o /dev/null "http://127.0.0.1:$port/healthz"
check "GET /readyz is 200 (standalone)" curl -fsS -m 10 -o /dev/null "http://127.0.0.1:$port/readyz"
check "GET /metrics has sidecast metrics" \
  sh -c "curl -fsS -m 10 http://127.0.0.1:$port/metrics | grep -q '^sidecast_'"
# What ExecReload= does: SIGHUP rereads the installed configuration.
kill -HUP "$daemon_pid"
for _ in $(seq 600); do # at most 60 s
  grep -q 'reload: configuration unchanged' "$T/daemon.log" && break
  sleep 0.1
done
check "SIGHUP reloads the configuration" grep -q 'reload: configuration unchanged' "$T/daemon.log"
check "sidecastd still serves after SIGHUP" /usr/bin/sidecastctl -t 5000 ping

echo "== an app built against libsidecast-dev"
# shellcheck disable=SC2046 # pkg-config output is meant to split into flags
if cc -Wall -Werror -o "$T/pkg_client" "$SRC/tests/package/pkg_client.c" -L"$PKG_LIB" \
  $(pkg-config --cflags --libs sidecast) -Wl,-rpath,"$PKG_LIB" >"$T/cc.log" 2>&1; then
  ok "cc \$(pkg-config --cflags --libs sidecast)"
else
  cat "$T/cc.log"
  bad "compile against the installed libsidecast-dev"
fi
check "the app links the installed libsidecast.so.0" \
  sh -c "ldd $T/pkg_client | grep -Eq 'libsidecast.so.0 => /(usr/)?lib/[^ ]*/libsidecast.so.0'"
setpriv --reuid=nobody --regid=nogroup --groups="$sgid" \
  "$T/pkg_client" "$SOCK" pkg-hello >"$T/client.out" 2>"$T/client.err" &
client_pid=$!
for _ in $(seq 600); do # at most 60 s
  grep -q '^ready' "$T/client.out" 2>/dev/null && break
  kill -0 "$client_pid" 2>/dev/null || break
  sleep 0.1
done
check "installed sidecastctl emit --room" /usr/bin/sidecastctl emit --room pkgtest pkg-hello
crc=1
for _ in $(seq 600); do # the client gives up by itself after 120 s
  kill -0 "$client_pid" 2>/dev/null || break
  sleep 0.1
done
if ! kill -0 "$client_pid" 2>/dev/null; then wait "$client_pid"; crc=$?; fi
client_pid_done=$client_pid
client_pid=""
if [ $crc -eq 0 ] && grep -q '^delivered pkg-1 pkg-hello$' "$T/client.out"; then
  ok "the app received the emit"
else
  bad "the app did not receive the emit (exit $crc)"
  cat "$T/client.out" "$T/client.err"
  kill -0 "$client_pid_done" 2>/dev/null && stop_pid "$client_pid_done" >/dev/null
fi

echo "== a Python app on python3-sidecast"
cat >"$T/pkg_client.py" <<'PYEOF'
# Registers socket py-1 in rooms "pytest" and "/,pytest" (room pytest of
# socket.io's namespace "/"), says "ready", then prints each delivery:
# "delivered <socket ids> <text>"; the text of a socket.io mapping payload
# (what an Emitter writes) is its socket.io packet. Exits after two, or fails
# after 120 s.
import asyncio
import sys

import sidecast
from sidecast import SidecastClient, mapping


async def main(path):
    if not sidecast.__file__.startswith('/usr/lib/python3/dist-packages/'):
        sys.exit('not the installed module: %s' % sidecast.__file__)
    got = asyncio.Queue()
    c = SidecastClient(path, 'pkg-python')
    c.on_deliver = got.put_nowait
    await c.ready(30)
    c.socket_up('py-1', session_id='py-s1', rooms=['pytest', '/,pytest'])
    await c.ping()
    print('ready', flush=True)
    for _ in range(2):
        d = await asyncio.wait_for(got.get(), 120)
        try:
            text = mapping.decode_broadcast(d.payload)[2][0]
        except ValueError:
            text = d.payload.decode()
        print('delivered', ' '.join(d.socket_ids), text, flush=True)
    await c.close()


asyncio.run(main(sys.argv[1]))
PYEOF
cat >"$T/pkg_emitter.py" <<'PYEOF'
import asyncio
import sys

from sidecast import Emitter


async def main(path):
    e = Emitter(path)
    await e.ready(30)
    e.to('pytest').emit('news', 'py-emitted')
    await e.client.ping()  # barrier: sidecastd processed the emit
    await e.close()


asyncio.run(main(sys.argv[1]))
PYEOF
as_app=(setpriv --reuid=nobody --regid=nogroup --groups="$sgid")
"${as_app[@]}" /usr/bin/python3 -I "$T/pkg_client.py" "$SOCK" >"$T/pyclient.out" 2>"$T/pyclient.err" &
client_pid=$!
for _ in $(seq 600); do # at most 60 s
  grep -q '^ready' "$T/pyclient.out" 2>/dev/null && break
  kill -0 "$client_pid" 2>/dev/null || break
  sleep 0.1
done
check "the Python client registered (ready)" grep -q '^ready$' "$T/pyclient.out"
check "installed sidecastctl emit --room pytest" /usr/bin/sidecastctl emit --room pytest py-hello
if dpkg-query -W -f='${Status}' python3-socketio 2>/dev/null | grep -q 'install ok installed'; then
  check "the installed Emitter emits to room pytest" \
    "${as_app[@]}" /usr/bin/python3 -I "$T/pkg_emitter.py" "$SOCK"
  want_py=2
else # the emitter needs python3-socketio (a Recommends): only the raw emit then
  want_py=1
  /usr/bin/sidecastctl emit --room /,pytest '2["news","py-emitted"]' >/dev/null 2>&1
fi
crc=1
for _ in $(seq 600); do # the client gives up by itself after 120 s
  kill -0 "$client_pid" 2>/dev/null || break
  sleep 0.1
done
if ! kill -0 "$client_pid" 2>/dev/null; then wait "$client_pid"; crc=$?; fi
client_pid_done=$client_pid
client_pid=""
if [ $crc -eq 0 ] && grep -qx 'delivered py-1 py-hello' "$T/pyclient.out" &&
  grep -qx 'delivered py-1 2\["news","py-emitted"\]' "$T/pyclient.out" &&
  [ "$(grep -c '^delivered' "$T/pyclient.out")" -eq 2 ]; then
  ok "the Python client received the emits ($want_py by Python), once each"
else
  bad "the Python client did not receive both emits (exit $crc)"
  cat "$T/pyclient.out" "$T/pyclient.err"
  kill -0 "$client_pid_done" 2>/dev/null && stop_pid "$client_pid_done" >/dev/null
fi

echo "== upgrade while sidecastd runs"
echo "# local edit by the package test" >>"$CONF"
uid_before=$(id -u sidecast)
if SIDECAST_DEB_VERSION=0.3.0+upgradetest bash "$SRC/packaging/build-deb.sh" "$T/debs2" \
  >"$T/build2.log" 2>&1; then
  ok "built version 0.3.0+upgradetest"
else
  tail -30 "$T/build2.log"
  bad "build version 0.3.0+upgradetest"
fi
if "${APT[@]}" install --no-install-recommends "$T"/debs2/sidecast_*.deb \
  "$T"/debs2/libsidecast0_*.deb "$T"/debs2/libsidecast-dev_*.deb "$T"/debs2/python3-sidecast_*.deb \
  >>"$T/apt.log" 2>&1; then
  ok "apt-get install (upgrade)"
else
  tail -30 "$T/apt.log"
  bad "apt-get install (upgrade)"
fi
check "sidecast is now 0.3.0+upgradetest" \
  sh -c '[ "$(dpkg-query -W -f="\${Version}" sidecast)" = 0.3.0+upgradetest ]'
check "the upgrade kept the local edit of $CONF" grep -q '^# local edit by the package test$' "$CONF"
check "the upgrade kept user sidecast (same uid)" sh -c "[ \"\$(id -u sidecast)\" = $uid_before ]"
check "the upgrade kept the record that install made the account" \
  test -e /var/lib/sidecast/account-created-by-package
check "sidecastd still serves after the upgrade" /usr/bin/sidecastctl -t 5000 ping
check "python3-sidecast is now 0.3.0+upgradetest" \
  sh -c '[ "$(dpkg-query -W -f="\${Version}" python3-sidecast)" = 0.3.0+upgradetest ]'
check "the upgraded python3-sidecast pings sidecastd" /usr/bin/python3 -I -c "
import asyncio, sidecast
async def main():
    c = sidecast.SidecastClient('$SOCK', 'pkg-upgrade')
    await c.ready(30)
    await c.ping()
    await c.close()
asyncio.run(main())"

echo "== stop"
stop_pid "$daemon_pid"
drc=$?
daemon_pid=""
if [ $drc -eq 0 ]; then ok "sidecastd exited 0 on SIGTERM"; else
  bad "sidecastd exited $drc on SIGTERM"
  cat "$T/daemon.log"
fi
check "sidecastd removed its socket file" test ! -e "$SOCK"

echo "== socket activation (what sidecast.socket does)"
# systemd-socket-activate binds the socket, waits for the first connection,
# then execs sidecastd (same pid) with the listening socket as fd 3.
(exec systemd-socket-activate -l "$SOCK" "${as_sidecast[@]}" /usr/sbin/sidecastd \
  --config "$CONF" --http-listen "") >"$T/activated.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 600); do # at most 60 s
  [ -S "$SOCK" ] && break
  kill -0 "$daemon_pid" 2>/dev/null || break
  sleep 0.1
done
# What SocketUser=, SocketGroup= and SocketMode= set.
chown sidecast:sidecast "$SOCK" && chmod 0660 "$SOCK"
check "a member of group sidecast reaches the socket-activated sidecastd" \
  setpriv --reuid=nobody --regid=nogroup --groups="$sgid" /usr/bin/sidecastctl -t 10000 ping
check "sidecastd used the passed socket" grep -q 'socket activation: using the listening socket' "$T/activated.log"
check "socket-activated sidecastd runs as user sidecast" \
  sh -c "[ \"\$(ps -o user= -p $daemon_pid)\" = sidecast ]"
check "installed sidecastctl emit to the socket-activated sidecastd" \
  /usr/bin/sidecastctl emit --all pkg-activated
stop_pid "$daemon_pid"
drc=$?
daemon_pid=""
if [ $drc -eq 0 ]; then ok "socket-activated sidecastd exited 0 on SIGTERM"; else
  bad "socket-activated sidecastd exited $drc on SIGTERM"
  cat "$T/activated.log"
fi
check "the socket file stays: systemd, not sidecastd, owns it" test -S "$SOCK"
rm -f "$SOCK" # what RemoveOnStop= does

echo "== purge"
if purge; then ok "apt-get purge"; else
  tail -30 "$T/apt.log"
  bad "apt-get purge"
fi
if installed; then bad "not purged: $(present)"; else ok "all four packages are purged"; fi
check "user sidecast removed" sh -c '! getent passwd sidecast'
check "group sidecast removed" sh -c '! getent group sidecast'
for f in /usr/sbin/sidecastd /usr/bin/sidecastctl /lib/systemd/system/sidecast.service \
  /lib/systemd/system/sidecast.socket /usr/lib/sysusers.d/sidecast.conf /etc/sidecast \
  /run/sidecast /var/lib/sidecast /usr/include/sidecast.h /usr/share/sidecast "$PYMOD" \
  /etc/systemd/system/multi-user.target.wants/sidecast.service \
  /etc/systemd/system/sockets.target.wants/sidecast.socket; do
  check "removed $f" test ! -e "$f" -a ! -L "$f"
done
check "pkg-config no longer knows sidecast" sh -c '! pkg-config --exists sidecast'

echo "== an account the admin made before install survives purge"
made_account=1
groupadd --system sidecast &&
  useradd --system --gid sidecast --home-dir /nonexistent --shell /usr/sbin/nologin sidecast
if "${APT[@]}" install --no-install-recommends "${debs[0]}" >>"$T/apt.log" 2>&1; then
  ok "apt-get install sidecast with an existing account"
else
  tail -30 "$T/apt.log"
  bad "apt-get install sidecast with an existing account"
fi
check "install did not claim the existing account" test ! -e /var/lib/sidecast/account-created-by-package
check "apt-get purge sidecast" purge
if installed; then bad "sidecast is purged: $(present)"; else ok "sidecast is purged"; fi
check "purge kept the existing user sidecast" getent passwd sidecast
check "purge kept the existing group sidecast" getent group sidecast
userdel sidecast 2>/dev/null
groupdel sidecast 2>/dev/null
made_account=0

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
