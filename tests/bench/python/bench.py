"""The python-socketio manager on sidecast against python-socketio's own AsyncRedisManager.

  /usr/bin/python3 tests/bench/python/bench.py [--build build]

One redis-server (Unix socket); two setups of two python-socketio 5.7 servers
each (app.py, aiohttp), both up for the whole run: "redis" with
socketio.AsyncRedisManager (Debian's python3-redis) and "sidecast" with
SidecastManager, each server beside its own sidecastd (cluster mode on the
same Redis). Node 1 of each setup emits, node 2 holds the clients: one
client.js process per setup with BENCH_CLIENTS (default 10) socket.io-client
WebSocket clients on node 2, all in room "bench". So every emit is a
cross-node emit. Cases:

  room-flow    sio.emit('m', msg, room='bench'), at most BENCH_WINDOW (64)
               emits not yet received by every client: emits/s, CPU per emit
  target-flow  sio.emit('m', msg, to=<a sid on node 2>), sids in turn, same
               window: emits/s, CPU per emit
  room-rate    room emits at BENCH_RATE (500)/s: CPU per emit when not saturated
  target-rate  targeted emits at BENCH_RATE/s

Each case runs BENCH_ROUNDS (3) rounds of BENCH_SECONDS (3) per setup,
alternating redis / sidecast round by round, pooled. CPU is each process's
run time (/proc/<pid>/task/*/schedstat, ns) for both apps, the sidecastds and
redis-server ("server" total); the client process is reported apart. Not a test: the
figures are printed with sidecast ÷ redis ratios (goal: CPU per cross-node
emit ≤ 0.5×). BENCH_JSON=file keeps them.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
PY = '/usr/bin/python3'
TICK = os.sysconf('SC_CLK_TCK')
ROUNDS = int(os.environ.get('BENCH_ROUNDS', 3))
SECONDS = float(os.environ.get('BENCH_SECONDS', 3))
CLIENTS = int(os.environ.get('BENCH_CLIENTS', 10))
WINDOW = int(os.environ.get('BENCH_WINDOW', 64))
RATE = float(os.environ.get('BENCH_RATE', 500))
CASES = os.environ.get('BENCH_CASES', 'room-flow,target-flow,room-rate,target-rate').split(',')

procs = []


def spawn(args, **kw):
    p = subprocess.Popen(args, **kw)
    procs.append(p)
    return p


def stop_all():
    """Apps and clients first (stdin closed: they exit), then sidecastds and redis-server (SIGTERM)."""
    for phase in ('piped', 'daemons'):
        group = [p for p in reversed(procs) if (p.stdin is not None) == (phase == 'piped')]
        for p in group:
            if p.poll() is None:
                if p.stdin is not None:
                    try:
                        p.stdin.close()
                    except OSError:
                        pass
                else:
                    p.send_signal(signal.SIGTERM)
        for p in group:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait()


def cpu(pid):
    """CPU seconds of a process: its threads' run time from /proc/<pid>/task/*/schedstat
    (nanoseconds), or utime+stime from /proc/<pid>/stat (clock ticks) without schedstat."""
    total, seen = 0, False
    try:
        for t in os.listdir('/proc/%d/task' % pid):
            try:
                with open('/proc/%d/task/%s/schedstat' % (pid, t)) as f:
                    total += int(f.read().split()[0])
                    seen = True
            except (OSError, ValueError, IndexError):
                pass
    except OSError:
        pass
    if seen:
        return total / 1e9
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def wait_for(check, timeout, what):
    end = time.monotonic() + timeout
    while True:
        try:
            v = check()
            if v:
                return v
        except Exception:  # starting
            pass
        if time.monotonic() > end:
            raise SystemExit('bench: timed out waiting for ' + what)
        time.sleep(0.05)


def redis_cmd(sock, *args):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(sock)
    s.sendall(('*%d\r\n' % len(args) + ''.join('$%d\r\n%s\r\n' % (len(str(a).encode()), a) for a in args)).encode())
    data = b''
    while not data.endswith(b'\r\n'):
        data += s.recv(65536)
    s.close()
    return data.decode()


def http(port, path, body=None, timeout=60):
    req = urllib.request.Request('http://127.0.0.1:%d%s' % (port, path),
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


class Setup:
    def __init__(self, name, tmp, redis_sock, build, env):
        self.name = name
        self.pids = {}
        self.apps = []
        extra = []
        for i in (1, 2):
            if name == 'sidecast':
                sock = os.path.join(tmp, 'sc%d.sock' % i)
                log = open(os.path.join(tmp, 'sidecastd%d.log' % i), 'w')
                d = spawn([os.environ.get('SIDECASTD') or os.path.join(build, 'broker', 'sidecastd'),
                           '--socket', sock, '--node-name', 'py%d' % i, '--http-listen', '',
                           '--redis-url', 'unix://' + redis_sock, '--log-level', 'warn'],
                          stdout=log, stderr=log, stdin=subprocess.DEVNULL)
                wait_for(lambda: os.path.exists(sock), 20, 'sidecastd %d' % i)
                self.pids['sidecastd%d' % i] = d.pid
                extra = ['--manager', 'sidecast', '--sock', sock]
            else:
                extra = ['--manager', 'redis', '--redis-url', 'unix://' + redis_sock]
            prof = os.environ.get('BENCH_PROFILE')  # a directory: cProfile of each app, written at exit
            pargs = ['-m', 'cProfile', '-o', os.path.join(prof, '%s-app%d.prof' % (name, i))] if prof else []
            app = spawn([PY] + pargs + [os.path.join(HERE, 'app.py')] + extra, stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE, env=env)
            line = app.stdout.readline()
            if not line:
                raise SystemExit('bench: app %s %d did not start' % (name, i))
            self.apps.append(json.loads(line))
            self.pids['app%d' % i] = app.pid
        self.client = spawn([os.environ.get('NODE') or shutil.which('node') or 'node', os.path.join(HERE, 'client.js'),
                             'http://127.0.0.1:%d' % self.apps[1]['port'], str(CLIENTS),
                             str(self.apps[0]['udp'])], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        if self.client.stdout.readline() != b'ready\n':
            raise SystemExit('bench: %s clients did not connect' % name)
        self.sids = wait_for(lambda: (lambda s: s if len(s) == CLIENTS else None)(
            http(self.apps[1]['port'], '/bench/info')['sids']), 20, '%s: clients on node 2' % name)
        if name == 'sidecast':  # node 2's sidecastd subscribed to every room an emit names
            for room in ['/,bench'] + ['/,' + s for s in self.sids]:
                wait_for(lambda: redis_cmd(redis_sock, 'PUBSUB', 'NUMSUB', 'sidecast:room:' + room)
                         .endswith(':1\r\n'), 20, 'subscription to ' + room)

    def run(self, case, seconds):
        kind, mode = case.split('-')
        body = {'case': kind, 'seconds': seconds, 'sids': self.sids}
        if mode == 'flow':
            body['window'] = WINDOW
        else:
            body['rate'] = RATE
        before = {k: cpu(p) for k, p in self.pids.items()}
        cl0 = cpu(self.client.pid)
        r = http(self.apps[0]['port'], '/bench/run', body)
        after = {k: cpu(p) for k, p in self.pids.items()}
        r['cpu'] = {k: after[k] - before[k] for k in before}
        r['cpu']['clients'] = cpu(self.client.pid) - cl0
        return r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--build', default=os.path.join(REPO, 'build'))
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    gen = os.path.join(build, 'clients', 'python', 'gen')
    if not os.path.exists(os.path.join(gen, 'sidecast_pb2.py')):
        raise SystemExit('bench: no %s/sidecast_pb2.py: cmake --build %s --target sidecast_python_proto' % (gen, build))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(REPO, 'clients', 'python'), gen]),
               PYTHONDONTWRITEBYTECODE='1')
    tmp = tempfile.mkdtemp(prefix='sidecast-pybench-')
    redis_sock = os.path.join(tmp, 'redis.sock')
    try:
        redis = spawn([shutil.which('redis-server', path='/usr/bin:/usr/sbin') or 'redis-server', '--port', '0',
                       '--unixsocket', redis_sock, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no',
                       '--dir', tmp, '--logfile', os.path.join(tmp, 'redis.log')], stdin=subprocess.DEVNULL)
        wait_for(lambda: redis_cmd(redis_sock, 'PING') == '+PONG\r\n', 10, 'redis-server')
        setups = [Setup(n, tmp, redis_sock, build, env) for n in ('redis', 'sidecast')]
        for s in setups:
            s.pids['redis'] = redis.pid
        with open('/proc/loadavg') as f:
            load = f.read().split()[0]
        print('python-socketio manager bench: %d clients on node 2, window %d, rate %d/s, %d x %.0f s rounds; '
              'load average %s' % (CLIENTS, WINDOW, RATE, ROUNDS, SECONDS, load), flush=True)
        results = {}
        for case in CASES:
            for s in setups:  # warm-up, not counted
                s.run(case, 1)
            pooled = {s.name: {'emits': 0, 'done': 0, 'elapsed': 0.0, 'cpu': {}} for s in setups}
            for rnd in range(ROUNDS):
                for s in (setups if rnd % 2 == 0 else setups[::-1]):
                    r = s.run(case, SECONDS)
                    p = pooled[s.name]
                    p['emits'] += r['emits']
                    p['done'] += r['done']
                    p['elapsed'] += r['elapsed']
                    for k, v in r['cpu'].items():
                        p['cpu'][k] = p['cpu'].get(k, 0.0) + v
                    print('  %-11s %-8s round %d: %6d emits in %.2f s (%d received)' % (
                        case, s.name, rnd + 1, r['emits'], r['elapsed'], r['done']), flush=True)
            results[case] = pooled
        report(results)
        if os.environ.get('BENCH_JSON'):
            with open(os.environ['BENCH_JSON'], 'w') as f:
                json.dump(results, f, indent=1)
    finally:
        stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


def per_emit(p, keys):
    return sum(p['cpu'].get(k, 0.0) for k in keys) / max(p['emits'], 1) * 1e6


def report(results):
    rows = []
    for case, pooled in results.items():
        r, s = pooled['redis'], pooled['sidecast']
        lost = [n for n, p in pooled.items() if p['done'] != p['emits']]
        if case.endswith('flow'):
            rr, sr = r['emits'] / r['elapsed'], s['emits'] / s['elapsed']
            rows.append((case + ': cross-node emits/s', '%.0f' % rr, '%.0f' % sr, '%.2f×' % (sr / rr)))
        for label, keys in (('sender app', ['app1']), ('receiving app', ['app2']),
                            ('sidecastds', ['sidecastd1', 'sidecastd2']), ('redis-server', ['redis'])):
            rv, sv = per_emit(r, keys), per_emit(s, keys)
            rows.append((case + ': CPU µs per emit, ' + label, '%.1f' % rv, '%.1f' % sv,
                         '%.2f×' % (sv / rv) if rv else '–'))
        keys = ['app1', 'app2', 'sidecastd1', 'sidecastd2', 'redis']
        rv, sv = per_emit(r, keys), per_emit(s, keys)
        rows.append(('**%s: CPU µs per emit, server total**' % case, '%.1f' % rv, '%.1f' % sv,
                     '**%.2f×**' % (sv / rv)))
        rows.append((case + ': clients\' CPU µs per emit (not in the total)', '%.1f' % per_emit(r, ['clients']),
                     '%.1f' % per_emit(s, ['clients']), ''))
        if lost:
            rows.append((case + ': NOT ALL RECEIVED', ', '.join(lost), '', ''))
    w = max(len(x[0]) for x in rows)
    print()
    print('| %-*s | AsyncRedisManager | SidecastManager | sidecast ÷ redis |' % (w, 'figure'))
    print('|%s|---|---|---|' % ('-' * (w + 2)))
    for row in rows:
        print('| %-*s | %s | %s | %s |' % (w, row[0], row[1], row[2], row[3]))


if __name__ == '__main__':
    main()
