"""A mixed cluster: a Node socket.io 4 server on the sidecast adapter (clients/node) and a
python-socketio 5 AsyncServer (aiohttp) on SidecastManager, each beside its own sidecastd,
one Redis; socket.io-client clients on the Node server, python-socketio AsyncClients on the
Python one.

Both directions of each cluster feature across the two languages: room emits (with except
rules, binary, another namespace), emits to one socket, broadcasts with acks, server-side
emits with and without acks, socketsJoin / enter_room / leave_room / close_room,
disconnect, fetch sockets, and both languages' emitters.

The Node half is tests/mixed_node.js, a child process driven over stdin/stdout (one JSON
line per request and answer). As everywhere in this suite: wait (bounded) for observable
state that makes a delivery certain (room_ready: both registries and Redis'
subscriptions), send once, then count exactly. Every message carries its number; a
client's list of numbers must be exactly the sent ones, each once.
"""

import asyncio
import atexit
import base64
import json
import os
import shutil
import signal
import sys
import time
import unittest

from sidecast import Emitter

from .harness import Case, _die_with_parent, exactly, room_ready, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
NODE = os.environ.get('NODE') or shutil.which('node', path='/usr/bin:/usr/local/bin:/bin')
NODE_DIR = os.environ.get('SIDECAST_NODE_DIR') or os.path.join(HERE, '../../node')
N = 10  # numbered messages per burst

_node_pids = set()


@atexit.register
def _kill_node_children():
    for pid in list(_node_pids):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def enc(v):
    """bytes -> {"$bin": base64} (mixed_node.js's convention), recursively."""
    if isinstance(v, (bytes, bytearray)):
        return {'$bin': base64.b64encode(bytes(v)).decode()}
    if isinstance(v, (list, tuple)):
        return [enc(x) for x in v]
    if isinstance(v, dict):
        return {k: enc(x) for k, x in v.items()}
    return v


def dec(v):
    if isinstance(v, list):
        return [dec(x) for x in v]
    if isinstance(v, dict):
        if set(v) == {'$bin'}:
            return base64.b64decode(v['$bin'])
        return {k: dec(x) for k, x in v.items()}
    return v


class NodeError(Exception):
    pass


class NodeServer:
    """mixed_node.js: a socket.io server with the sidecast adapter, and its socket.io-client clients."""

    def __init__(self, sock):
        self.sock = sock
        self.proc = None
        self.url = None
        self._next = 0
        self._waiting = {}
        self._reader = None

    async def start(self):
        self.proc = await asyncio.create_subprocess_exec(
            NODE, os.path.join(HERE, 'mixed_node.js'), self.sock,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            preexec_fn=_die_with_parent, env=dict(os.environ, SIDECAST_NODE_DIR=NODE_DIR),
            limit=16 * 1024 * 1024)
        _node_pids.add(self.proc.pid)
        self._reader = asyncio.get_running_loop().create_task(self._read())
        self.url = (await self.call('start', timeout=20))['url']
        return self

    async def _read(self):
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                break
            try:
                m = json.loads(line)
            except ValueError:  # not an answer (a stray console line): show it
                sys.stderr.write('mixed_node.js: %s' % line.decode('utf-8', 'replace'))
                continue
            fut = self._waiting.pop(m.get('id'), None)
            if fut is not None and not fut.done():
                if m['ok']:
                    fut.set_result(m['result'])
                else:
                    fut.set_exception(NodeError(m['error']))
        for fut in self._waiting.values():
            if not fut.done():
                fut.set_exception(NodeError('mixed_node.js exited (%s)' % self.proc.returncode))
        self._waiting.clear()

    async def call(self, op, timeout=15.0, **kw):
        if self.proc is None or self.proc.returncode is not None:
            raise NodeError('mixed_node.js is not running')
        self._next += 1
        rid = self._next
        fut = asyncio.get_running_loop().create_future()
        self._waiting[rid] = fut
        kw.update(id=rid, op=op)
        self.proc.stdin.write((json.dumps(kw) + '\n').encode())
        await self.proc.stdin.drain()
        try:
            return await asyncio.wait_for(fut, timeout)
        finally:
            self._waiting.pop(rid, None)

    # the driver's operations, in Python's terms
    async def connect(self, name, namespaces=('/',)):
        r = await self.call('connect', name=name, namespaces=list(namespaces))
        return NodeClient(self, name, r['sids'], r['session'])

    async def emit(self, event, *args, to=None, except_=None, nsp='/'):
        await self.call('emit', event=event, args=enc(list(args)), to=to, **{'except': except_}, nsp=nsp)

    async def stop(self):
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.returncode is None:
            try:
                self.proc = proc  # call() needs it
                await self.call('close', timeout=10)
            except (NodeError, asyncio.TimeoutError, OSError):
                pass
            finally:
                self.proc = None
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except asyncio.TimeoutError:
                os.kill(proc.pid, signal.SIGKILL)
                await proc.wait()
        _node_pids.discard(proc.pid)
        if self._reader is not None:
            await self._reader


class NodeClient:
    def __init__(self, server, name, sids, session):
        self.server, self.name, self.sids, self.session = server, name, sids, session

    def sid(self, ns='/'):
        return self.sids[ns]

    async def state(self):
        r = await self.server.call('seen', name=self.name)
        return dec(r['seen']), r['disconnects']

    async def args(self, event, ns='/'):
        seen, _ = await self.state()
        return [tuple(a) for n, e, a in seen if e == event and n == ns]

    async def disconnects(self):
        return (await self.state())[1]

    async def call(self, event, *args, ns='/'):
        return await self.server.call('clientCall', name=self.name, event=event, args=enc(list(args)), nsp=ns)


async def _value(get):
    v = get()
    return (await v) if asyncio.iscoroutine(v) else v


async def exactly_list(get, want, what, timeout=10.0, drain=0.3):
    """Wait (bounded) until get() (plain or async) has as many items as want, then drain: equal to want."""
    end = time.monotonic() + timeout
    got = await _value(get)
    while len(got) < len(want):
        if time.monotonic() > end:
            raise AssertionError('%s: %d of %d within %.1f s: %r' % (what, len(got), len(want), timeout, got))
        await asyncio.sleep(0.02)
        got = await _value(get)
    await asyncio.sleep(drain)
    got = await _value(get)
    if got != want:
        raise AssertionError('%s: got %r, want exactly %r' % (what, got, want))


def numbered(event):
    return [({'n': i, 'from': event},) for i in range(N)]


@unittest.skipUnless(NODE and os.path.isdir(os.path.join(NODE_DIR, 'node_modules', 'socket.io')),
                     'node or clients/node/node_modules (npm ci) missing')
class MixedClusterTest(Case):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.redis = await self.start_redis()
        self.d1 = await self.start_sidecastd(self.redis, 'py1')
        self.d2 = await self.start_sidecastd(self.redis, 'node1')
        self.py = await self.sio_server(self.d1)
        self.server_disconnects = []
        self._handlers(self.py)
        self.node = NodeServer(self.d2.sock)
        self.addAsyncCleanup(self.node.stop)  # before sidecastd's cleanup (registered earlier) runs
        await self.node.start()
        await wait_for(self._two_servers, 15, 'two socket.io servers in the cluster')

    async def _two_servers(self):
        return (len(await self.py.manager.client.nodes()) == 2 and await self.py.manager.server_count() == 2
                and await self.node.call('serverCount') == 2)

    def _handlers(self, s):
        sio = s.sio
        for ns in ('/', '/chat'):
            async def join(sid, room, ns=ns):
                sio.enter_room(sid, room, namespace=ns)
                return 'joined'

            async def disconnect(sid, ns=ns):
                self.server_disconnects.append((ns, sid))
            sio.on('join', join, namespace=ns)
            sio.on('disconnect', disconnect, namespace=ns)

    async def ready(self, key, py, node):
        await room_ready(self.redis, key, [(self.d1, py), (self.d2, node)])

    async def pyclient(self, name, namespaces=('/',)):
        c = await self.sio_client(self.py, namespaces)
        c.c.on('ask', lambda q, name=name: '%s:%s' % (name, q))  # answers broadcasts with acks
        return c

    async def pyjoin(self, c, room, ns='/'):
        self.assertEqual(await c.c.call('join', room, namespace=ns, timeout=10), 'joined')

    async def nodejoin(self, c, room, ns='/'):
        self.assertEqual(await c.call('join', room, ns=ns), 'joined')

    async def four(self, room='mix'):
        """Two Python clients (pa, pb) and two Node clients (na, nb), all in room."""
        pa, pb = await self.pyclient('pa'), await self.pyclient('pb')
        na, nb = await self.node.connect('na'), await self.node.connect('nb')
        for c in (pa, pb):
            await self.pyjoin(c, room)
        for c in (na, nb):
            await self.nodejoin(c, room)
        await self.ready('/,' + room, 2, 2)
        return pa, pb, na, nb

    async def test_room_emits_both_directions(self):
        pa, pb, na, nb = await self.four()
        for i in range(N):
            await self.py.sio.emit('py-news', {'n': i, 'from': 'py-news'}, to='mix')
            await self.node.emit('node-news', {'n': i, 'from': 'node-news'}, to='mix')
        await self.py.sio.emit('py-all', ({'n': 0, 'from': 'py-all'},))  # the namespace's everyone
        await self.node.emit('node-all', {'n': 0, 'from': 'node-all'})
        for ev in ('py-news', 'node-news'):
            for c in (pa, pb):
                await exactly_list(lambda c=c, ev=ev: [tuple(a) for a in c.args(ev)],
                                   numbered(ev), '%s on Python client' % ev)
            for c in (na, nb):
                await exactly_list(lambda c=c, ev=ev: c.args(ev), numbered(ev), '%s on Node client' % ev)
        for ev in ('py-all', 'node-all'):
            want = [({'n': 0, 'from': ev},)]
            for c in (pa, pb):
                self.assertEqual(c.args(ev), want, ev)
            for c in (na, nb):
                self.assertEqual(await c.args(ev), want, ev)

    async def test_except_rules_binary_and_namespaces(self):
        pa, pb, na, nb = await self.four()
        # skip_sid / except of a socket of the other language
        await self.py.sio.emit('py-skip', 1, to='mix', skip_sid=na.sid())
        await self.node.emit('node-except', 2, to='mix', except_=pa.sid())
        for c in (pa, pb):
            await exactly_list(lambda c=c: c.args('py-skip'), [(1,)], 'py-skip')
        for c, want in ((na, []), (nb, [(1,)])):
            await exactly_list(lambda c=c: c.args('py-skip'), want, 'py-skip on Node')
        for c, want in ((pa, []), (pb, [(2,)])):
            await exactly_list(lambda c=c: c.args('node-except'), want, 'node-except')
        for c, want in ((na, [(2,)]), (nb, [(2,)])):
            await exactly_list(lambda c=c: c.args('node-except'), want, 'node-except on Node')
        # binary attachments both ways
        blob = b'\x00\x01\xfe\xff' * 50
        await self.py.sio.emit('py-bin', {'b': blob, 'n': 1}, to='mix')
        await self.node.emit('node-bin', {'b': blob, 'n': 2}, 'text', to='mix')
        for c in (na, nb):
            await exactly_list(lambda c=c: c.args('py-bin'), [({'b': blob, 'n': 1},)], 'binary py -> Node')
        for c in (pa, pb):
            await exactly_list(lambda c=c: c.args('node-bin'),
                               [({'b': blob, 'n': 2}, 'text')], 'binary Node -> py')
        # the same room name in another namespace
        pc = await self.pyclient('pc', ('/', '/chat'))
        nc = await self.node.connect('nc', ('/', '/chat'))
        await self.pyjoin(pc, 'mix', '/chat')
        await self.nodejoin(nc, 'mix', '/chat')
        await self.ready('/chat,mix', 1, 1)
        await self.py.sio.emit('chat', 'from-py', to='mix', namespace='/chat')
        await self.node.emit('chat', 'from-node', to='mix', nsp='/chat')
        await exactly_list(lambda: sorted(pc.args('chat', '/chat')),
                           [('from-node',), ('from-py',)], '/chat on Python')
        await exactly_list(lambda: _sorted(nc.args('chat', '/chat')), [('from-node',), ('from-py',)],
                           '/chat on Node')
        for c in (pa, pb, pc):
            self.assertEqual(c.args('chat'), [], "'/' members of mix got /chat's emit")
        for c in (na, nb, nc):
            self.assertEqual(await c.args('chat'), [], "'/' members of mix got /chat's emit (Node)")

    async def test_emit_to_one_socket(self):
        pa, pb = await self.pyclient('pa'), await self.pyclient('pb')
        na, nb = await self.node.connect('na'), await self.node.connect('nb')
        await self.ready('/,' + na.sid(), 0, 1)
        await self.ready('/,' + pa.sid(), 1, 0)
        for i in range(N):
            await self.py.sio.emit('direct', {'n': i, 'from': 'py'}, to=na.sid())
            await self.node.emit('direct', {'n': i, 'from': 'node'}, to=pa.sid())
        await exactly_list(lambda: na.args('direct'), [({'n': i, 'from': 'py'},) for i in range(N)],
                           'py -> one Node socket')
        await exactly_list(lambda: pa.args('direct'),
                           [({'n': i, 'from': 'node'},) for i in range(N)], 'Node -> one Python socket')
        self.assertEqual(pb.args('direct'), [])
        self.assertEqual(await nb.args('direct'), [])

    async def test_broadcast_with_acks(self):
        pa, pb, na, nb = await self.four()
        everyone = lambda q: sorted('%s:%s' % (n, q) for n in ('pa', 'pb', 'na', 'nb'))  # noqa: E731
        # Python: a callback per client that answers, on both nodes
        answers = []
        for i in range(3):
            await self.py.sio.emit('ask', 'q%d' % i, to='mix', callback=lambda *a: answers.append(a))
        await exactly(lambda: len(answers), 12, 'acks for the Python broadcasts')
        self.assertEqual(sorted(a for (a,) in answers), sorted(sum((everyone('q%d' % i) for i in range(3)), [])))
        # Node: emitWithAck collects every client's answer
        for i in range(3):
            r = await self.node.call('emitWithAck', event='ask', args=['n%d' % i], to='mix', timeout=8000)
            self.assertEqual(sorted(r), everyone('n%d' % i))
        # one socket of the other language
        await self.ready('/,' + na.sid(), 0, 1)
        await self.ready('/,' + pa.sid(), 1, 0)
        self.assertEqual(await self.py.sio.call('ask', 'one', to=na.sid(), timeout=10), 'na:one')
        r = await self.node.call('emitWithAck', event='ask', args=['one'], to=pa.sid(), timeout=8000)
        self.assertEqual(r, ['pa:one'])
        await asyncio.sleep(0.3)
        self.assertEqual(len(answers), 12)  # nothing more

    async def test_server_side_emits(self):
        got = []

        @self.py.manager.on_server_event('hello')
        async def hello(*args):
            got.append(args)

        @self.py.manager.on_server_event('hello-ack')
        async def hello_ack(x):
            got.append(('ack', x))
            return {'node': 'py', 'first': x}
        for i in range(N):
            await self.node.call('serverSideEmit', event='hello', args=[{'n': i}, enc(b'\x01\x02')])
            await self.py.manager.server_side_emit('hello', {'n': i}, b'\x03')
        await exactly(lambda: len(got), N, 'Node serverSideEmit -> Python')
        self.assertEqual(got, [({'n': i}, b'\x01\x02') for i in range(N)])

        async def node_got():
            return [tuple(a) for e, a in dec(await self.node.call('serverEvents')) if e == 'hello']
        await exactly_list(node_got, [({'n': i}, b'\x03') for i in range(N)], 'Python server_side_emit -> Node')
        # with acks, both ways
        del got[:]
        r = await self.node.call('serverSideEmitWithAck', event='hello-ack', args=[7])
        self.assertEqual(r, [{'node': 'py', 'first': 7}])
        self.assertEqual(got, [('ack', 7)])
        r = await self.py.manager.server_side_emit_with_ack('hello-ack', 8)
        self.assertEqual(r, [{'node': 'node', 'event': 'hello-ack', 'first': 8}])
        self.assertEqual(await self.py.manager.server_count(), 2)
        self.assertEqual(await self.node.call('serverCount'), 2)

    async def test_rooms_across_languages(self):
        pa, na = await self.pyclient('pa'), await self.node.connect('na')
        # Node's socketsJoin for a Python socket; Python's enter_room for a Node socket
        await self.node.call('socketsJoin', to=[pa.sid()], rooms=['club'])
        self.py.sio.enter_room(na.sid(), 'club')
        await wait_for(lambda: 'club' in self.py.sio.rooms(pa.sid()), 10, 'socketsJoin from Node')

        async def node_rooms():
            return sorted(await self.node.call('rooms', sid=na.sid()))
        await wait_for(lambda: _contains(node_rooms(), 'club'), 10,
                       'enter_room from Python')
        await self.ready('/,club', 1, 1)
        await self.py.sio.emit('club', {'n': 0, 'from': 'py'}, to='club')
        await self.node.emit('club', {'n': 1, 'from': 'node'}, to='club')
        want = [({'n': 0, 'from': 'py'},), ({'n': 1, 'from': 'node'},)]
        await exactly_list(lambda: sorted(pa.args('club'), key=_n), want, 'club on Python')
        await exactly_list(lambda: _sorted(na.args('club'), key=_n), want, 'club on Node')
        # leave both ways
        await self.node.call('socketsLeave', to=[pa.sid()], rooms=['club'])
        self.py.sio.leave_room(na.sid(), 'club')
        await self.ready('/,club', 0, 0)
        self.assertNotIn('club', self.py.sio.rooms(pa.sid()))
        self.assertEqual(await node_rooms(), [na.sid()])
        # socketsJoin by room (members of both languages), then close_room from Python
        await self.pyjoin(pa, 'mix')
        await self.nodejoin(na, 'mix')
        await self.ready('/,mix', 1, 1)
        await self.node.call('socketsJoin', to=['mix'], rooms=['vip'])
        await self.ready('/,vip', 1, 1)
        self.assertIn('vip', self.py.sio.rooms(pa.sid()))
        self.assertIn('vip', await node_rooms())
        await self.py.sio.close_room('vip')
        await self.ready('/,vip', 0, 0)
        self.assertNotIn('vip', self.py.sio.rooms(pa.sid()))
        self.assertEqual(await node_rooms(), sorted([na.sid(), 'mix']))
        await self.py.sio.emit('vip', 1, to='vip')
        await self.node.emit('vip', 2, to='vip')
        await self.py.sio.emit('after', 3, to='mix')
        await exactly_list(lambda: pa.args('after'), [(3,)], 'the emit after close_room')
        await exactly_list(lambda: na.args('after'), [(3,)], 'the emit after close_room (Node)')
        self.assertEqual(pa.args('vip'), [])
        self.assertEqual(await na.args('vip'), [])

    async def test_disconnect_across_languages(self):
        pa, pb = await self.pyclient('pa'), await self.pyclient('pb')
        na, nb = await self.node.connect('na'), await self.node.connect('nb')
        nsid, psid = na.sid(), pa.sid()
        await self.py.sio.disconnect(nsid)
        await wait_for(lambda: _eq(na.disconnects(), 1), 10, 'the Node client disconnected from Python')
        await wait_for(lambda: _contains(self.node.call('serverDisconnects'), ['/', nsid]), 10,
                       "the Node server's disconnect handler")
        await self.node.call('disconnectSockets', to=[psid], close=True)
        await wait_for(lambda: pa.disconnects == 1, 10, 'the Python client disconnected from Node')
        await wait_for(lambda: ('/', psid) in self.server_disconnects, 10, "the Python server's disconnect handler")
        await self.ready('/', 1, 1)  # pb and nb stay
        await self.ready('/,' + nsid, 0, 0)
        await self.ready('/,' + psid, 0, 0)
        self.assertEqual((pb.disconnects, await nb.disconnects()), (0, 0))
        await asyncio.sleep(0.3)
        self.assertEqual((pa.disconnects, await na.disconnects()), (1, 1))  # once each
        self.assertEqual(self.server_disconnects, [('/', psid)])

    async def test_fetch_sockets_and_emitters(self):
        pa, na = await self.pyclient('pa'), await self.node.connect('na')
        await self.pyjoin(pa, 'mix')
        await self.nodejoin(na, 'mix')
        self.py.manager.set_data(pa.sid(), {'name': 'py', 'b': b'\x00'})
        await self.node.call('setData', sid=na.sid(), data={'name': 'node'})
        await self.ready('/,mix', 1, 1)

        async def py_view():
            return sorted((s['sid'], tuple(s['rooms']), json.dumps(enc(s['data']), sort_keys=True), s['local'])
                          for s in await self.py.manager.fetch_sockets('mix'))
        want = sorted([(pa.sid(), ('mix',), json.dumps({'name': 'py', 'b': {'$bin': 'AA=='}}, sort_keys=True), True),
                       (na.sid(), ('mix',), json.dumps({'name': 'node'}), False)])
        await wait_for(lambda: _eq(py_view(), want), 10, "Python's fetch_sockets")

        async def node_view():
            return sorted((s['id'], tuple(s['rooms']), json.dumps(s['data'], sort_keys=True), s['local'])
                          for s in await self.node.call('fetchSockets', **{'in': 'mix'}))
        want_node = sorted([(pa.sid(), tuple(sorted([pa.sid(), 'mix'])),
                             json.dumps({'name': 'py', 'b': {'$bin': 'AA=='}}, sort_keys=True), False),
                            (na.sid(), tuple(sorted([na.sid(), 'mix'])), json.dumps({'name': 'node'}), True)])
        await wait_for(lambda: _eq(node_view(), want_node), 10, "Node's fetchSockets")
        # emitters: Python's Emitter (beside the Python server) and Node's (beside the Node server)
        emitter = Emitter(self.d1.sock)
        self.addAsyncCleanup(emitter.close)
        for i in range(N):
            emitter.to('mix').emit('py-emitter', {'n': i, 'from': 'py-emitter'})
            await self.node.call('emitterEmit', to=['mix'], event='node-emitter',
                                 args=[{'n': i, 'from': 'node-emitter'}])
        for ev in ('py-emitter', 'node-emitter'):
            await exactly_list(lambda ev=ev: pa.args(ev), numbered(ev), ev + ' on Python')
            await exactly_list(lambda ev=ev: na.args(ev), numbered(ev), ev + ' on Node')


async def _eq(aw, want):
    return (await aw) == want


async def _contains(aw, x):
    return x in (await aw)


async def _sorted(aw, key=None):
    return sorted(await aw, key=key)


def _n(args):
    return args[0]['n']


if __name__ == '__main__':
    unittest.main()
