"""Test harness: a real redis-server and real sidecastd processes, started here.

Every process is started by the test that needs it and stopped by its pid;
every wait is bounded. Deliveries are checked as the Node suite checks them
(clients/node/test/harness.js): wait (bounded) for observable state that
makes a delivery certain (room_ready: the sidecars' registries and Redis'
subscriptions), send once, then count exactly (the expected number, and
nothing more within a short drain). A send is never repeated until
something arrives: that would hide a loss.

Redis listens on a Unix socket in the test's temporary directory (no port to
race for); sidecastd's HTTP endpoint takes any free loopback port.
"""

import asyncio
import atexit
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from sidecast import SidecastClient

HERE = os.path.dirname(os.path.abspath(__file__))
SIDECASTD = os.environ.get('SIDECASTD') or os.path.join(HERE, '../../../build/broker/sidecastd')
REDIS_SERVER = shutil.which('redis-server', path='/usr/bin:/usr/sbin:/bin') or 'redis-server'


_children = set()


def _die_with_parent():
    """In the child before exec: SIGTERM it if the test process dies (a CTest timeout kills
    the test with SIGKILL, which runs no cleanup)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _spawn(args, **kw):
    """Start a child we stop by pid (also at exit, if a test left it running)."""
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent, **kw)
    _children.add(proc)
    return proc


@atexit.register
def _reap_children():
    for proc in list(_children):
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)


def tmpdir(prefix='sidecast-py-'):
    return tempfile.mkdtemp(prefix=prefix)


async def wait_for(check, timeout=15.0, what='condition', interval=0.02):
    """Poll check() (plain or async) until truthy; AssertionError after timeout seconds."""
    end = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = check()
            if asyncio.iscoroutine(last):
                last = await last
            if last:
                return last
        except Exception as e:  # a check may fail while things start
            last = e
        if time.monotonic() > end:
            raise AssertionError('timed out after %.1f s waiting for %s (last: %r)' % (timeout, what, last))
        await asyncio.sleep(interval)


async def exactly(get, n, what, timeout=10.0, drain=0.3):
    """Wait (bounded) until get() reaches n, then drain seconds more: it must be exactly n."""
    end = time.monotonic() + timeout
    while get() < n:
        if time.monotonic() > end:
            raise AssertionError('%s: %d of %d within %.1f s' % (what, get(), n, timeout))
        await asyncio.sleep(0.01)
    await asyncio.sleep(drain)
    got = get()
    if got != n:
        raise AssertionError('%s: %d, want exactly %d' % (what, got, n))


def _stop(proc, sig=signal.SIGTERM, timeout=20.0):
    """Signal a child by pid and reap it (SIGKILL after timeout); its exit code."""
    _children.discard(proc)
    if proc.poll() is not None:
        return proc.returncode
    os.kill(proc.pid, sig)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        return proc.wait(5)


def _can_connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1.0)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


class Redis:
    """redis-server on a Unix socket of its own, no persistence."""

    def __init__(self):
        self.dir = tmpdir('sidecast-py-redis-')
        self.sock = os.path.join(self.dir, 'redis.sock')
        self.url = 'unix://' + self.sock
        self.proc = None

    async def start(self):
        self.proc = _spawn(
            [REDIS_SERVER, '--port', '0', '--unixsocket', self.sock, '--unixsocketperm', '700',
             '--save', '', '--appendonly', 'no', '--dir', self.dir,
             '--logfile', os.path.join(self.dir, 'redis.log'), '--daemonize', 'no'],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            await wait_for(lambda: self._alive() and self.command('PING') == 'PONG', 10,
                           'redis-server to answer PING')
        except BaseException:
            await self.stop()
            raise
        return self

    def _alive(self):
        if self.proc.poll() is not None:
            raise RuntimeError('redis-server exited with %s' % self.proc.returncode)
        return True

    def command(self, *args):
        """One command over a fresh connection (RESP2); the reply ('+' as str, ':' as int, '*' as list)."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5.0)
        try:
            s.connect(self.sock)
            out = ['*%d\r\n' % len(args)]
            for a in args:
                a = str(a)
                out.append('$%d\r\n%s\r\n' % (len(a.encode()), a))
            s.sendall(''.join(out).encode())
            f = s.makefile('rb')
            return _read_reply(f)
        finally:
            s.close()

    async def stop(self):
        if self.proc is not None:
            _stop(self.proc)
            self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)


def _read_reply(f):
    line = f.readline().rstrip(b'\r\n')
    t, rest = line[:1], line[1:].decode()
    if t == b'+':
        return rest
    if t == b'-':
        raise RuntimeError(rest)
    if t == b':':
        return int(rest)
    if t == b'$':
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2].decode()
    if t == b'*':
        return [_read_reply(f) for _ in range(int(rest))]
    raise RuntimeError('redis: unexpected reply %r' % line)


class Sidecastd:
    """sidecastd on its own socket path; cluster mode with redis_url."""

    def __init__(self, redis_url=None, name='node', extra=()):
        self.dir = tmpdir('sidecast-py-d-')
        self.sock = os.path.join(self.dir, 'sidecast.sock')
        self.log = os.path.join(self.dir, 'sidecastd.log')
        self.args = ['--socket', self.sock, '--log-level', 'debug', '--node-name', name,
                     '--http-listen', '127.0.0.1:0']
        if redis_url:
            self.args += ['--redis-url', redis_url, '--heartbeat-ms', '200', '--node-ttl-ms', '800',
                          '--request-timeout-ms', '3000', '--room-linger-ms', '300',
                          '--redis-command-timeout-ms', '1000', '--redis-reconnect-max-ms', '500']
        self.args += list(extra)
        self.proc = None
        self._observer = None

    async def start(self):
        with open(self.log, 'ab') as logf:
            self.proc = _spawn([SIDECASTD] + self.args, stdout=logf, stderr=logf)

        def listening():
            if self.proc.poll() is not None:
                raise RuntimeError('sidecastd exited with %s: %s' % (self.proc.returncode, self.tail()))
            return _can_connect(self.sock)
        try:
            await wait_for(listening, 20, 'sidecastd to listen')
        except BaseException:
            await self.stop(signal.SIGKILL)
            raise
        return self

    def tail(self, n=4000):
        try:
            with open(self.log, 'rb') as f:
                return f.read()[-n:].decode('utf-8', 'replace')
        except OSError:
            return ''

    async def observer(self):
        """A connection of the test's own that registers nothing (and answers server emits "absent")."""
        if self._observer is None:
            o = SidecastClient(self.sock, 'test-observer', reconnect_min=0.03, reconnect_max=0.3)

            def on_server_message(m):
                if m.ack_id:
                    o.ack(m.ack_id, payloads=[b'\x04'], done=True)
            o.on_server_message = on_server_message
            self._observer = o
        await self._observer.ready(15)
        return self._observer

    async def room_size(self, key):
        o = await self.observer()
        (r,) = await o.rooms([key])
        return r.size

    async def stop(self, sig=signal.SIGTERM):
        """Stop by pid (SIGTERM by default); its exit code."""
        if self._observer is not None:
            o, self._observer = self._observer, None
            await o.close()
        code = 0
        if self.proc is not None:
            code = _stop(self.proc, sig)
            self.proc = None
        return code

    async def cleanup(self):
        await self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


async def room_ready(redis, key, want, prefix='sidecast', timeout=15.0):
    """Barrier for a room emit (as the Node harness's roomReady).

    Wait until each sidecastd of ``want`` ([(Sidecastd, size)]) holds exactly
    ``size`` members of registry room ``key`` and, in cluster mode, until
    Redis counts as many subscribers of the room's channel as there are
    sidecastds with members. After it one emit reaches every member once.
    """
    async def check():
        members = 0
        for d, size in want:
            if await d.room_size(key) != size:
                return False
            members += 1 if size else 0
        if redis is None:
            return True
        subs = redis.command('PUBSUB', 'NUMSUB', '%s:room:%s' % (prefix, key))
        return int(subs[1]) == members
    await wait_for(check, timeout, 'room %s ready' % key)


class SioServer:
    """A python-socketio AsyncServer on aiohttp (127.0.0.1, any free port) with a SidecastManager."""

    def __init__(self, sock, **manager_options):
        import socketio
        from sidecast import SidecastManager
        opts = dict(manager_options)
        opts.setdefault('client_options', {'reconnect_min': 0.03, 'reconnect_max': 0.3, 'timeout': 8})
        self.manager = SidecastManager(sock, **opts)
        self.sio = socketio.AsyncServer(client_manager=self.manager, async_mode='aiohttp',
                                        namespaces='*', logger=False)
        self.runner = None
        self.url = None

    async def start(self):
        from aiohttp import web
        app = web.Application()
        self.sio.attach(app)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, '127.0.0.1', 0)
        await site.start()
        self.url = 'http://127.0.0.1:%d' % self.runner.addresses[0][1]
        try:
            await self.manager.ready(15)
        except BaseException:
            await self.stop()
            raise
        return self

    async def stop(self):
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
        await self.manager.close()


class SioClient:
    """A python-socketio AsyncClient (websocket) that records every event it gets."""

    def __init__(self):
        import socketio
        self.c = socketio.AsyncClient(reconnection=False)
        self.seen = []  # (namespace, event, args)
        self.disconnects = 0

    async def connect(self, url, namespaces=('/',)):
        for ns in namespaces:
            self.c.on('*', self._recorder(ns), namespace=ns)
            self.c.on('disconnect', self._on_disconnect, namespace=ns)
        await self.c.connect(url, transports=['websocket'], namespaces=list(namespaces), wait_timeout=10)
        return self

    def _recorder(self, ns):
        def record(event, *args):
            self.seen.append((ns, event, args))
        return record

    def _on_disconnect(self):
        self.disconnects += 1

    def sid(self, ns='/'):
        return self.c.get_sid(ns)

    def count(self, event, ns='/'):
        return sum(1 for n, e, _ in self.seen if e == event and n == ns)

    def args(self, event, ns='/'):
        return [a for n, e, a in self.seen if e == event and n == ns]

    async def close(self):
        if self.c.connected:
            await self.c.disconnect()


def quiet_loop():
    """unittest runs asyncio in debug mode: its slow-callback warnings for the harness's short
    blocking waits (process start, a Redis command) are noise here, so raise their threshold."""
    asyncio.get_running_loop().slow_callback_duration = 5.0


class Case(unittest.IsolatedAsyncioTestCase):
    """Starts what a test needs and registers its cleanup at once (also when setUp fails half way):
    clients close before servers, servers before sidecastds, sidecastds before Redis."""

    async def asyncSetUp(self):
        quiet_loop()

    async def start_redis(self):
        r = await Redis().start()
        self.addAsyncCleanup(r.stop)
        return r

    async def start_sidecastd(self, redis=None, name='node', extra=()):
        d = Sidecastd(redis.url if redis else None, name, extra)

        async def stop():
            running = d.proc is not None
            code = await d.stop()
            tail = d.tail()
            await d.cleanup()
            if running:  # a clean SIGTERM shutdown exits 0
                self.assertEqual(code, 0, 'sidecastd %s exit code; its log ends:\n%s' % (name, tail))
        self.addAsyncCleanup(stop)
        return await d.start()

    async def sc_client(self, d, name, **kw):
        kw.setdefault('reconnect_min', 0.03)
        kw.setdefault('reconnect_max', 0.3)
        c = SidecastClient(d.sock, name, **kw)
        self.addAsyncCleanup(c.close)
        await c.ready(10)
        return c

    async def sio_server(self, d, **manager_options):
        s = SioServer(d.sock, **manager_options)
        self.addAsyncCleanup(s.stop)
        return await s.start()

    async def sio_client(self, server, namespaces=('/',)):
        c = SioClient()
        self.addAsyncCleanup(c.close)
        return await c.connect(server.url, namespaces)
