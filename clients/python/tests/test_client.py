"""SidecastClient against one standalone sidecastd: handshake, registration, emits, replies, errors."""

import asyncio
import os
import unittest

from sidecast import SidecastClient, SidecastError, SidecastTimeoutError

from .harness import Case, exactly, wait_for


def client(d, name, **kw):
    kw.setdefault('reconnect_min', 0.03)
    kw.setdefault('reconnect_max', 0.3)
    return SidecastClient(d.sock, name, **kw)


class Recorder:
    """Every Delivery a client gets, for exact counts."""

    def __init__(self, c):
        self.got = []
        c.on_deliver = self.got.append

    def payloads(self, socket_id=None):
        return [d.payload for d in self.got if socket_id is None or socket_id in d.socket_ids]

    def count(self, payload, socket_id=None):
        return sum(1 for p in self.payloads(socket_id) if p == payload)


class ClientTest(Case):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.d = await self.start_sidecastd(name='solo')

    async def open(self, name, **kw):
        return await self.sc_client(self.d, name, **kw)

    async def test_handshake_and_ping(self):
        c = await self.open('hello')
        self.assertTrue(c.connected)
        self.assertEqual(c.node_name, 'solo')
        self.assertTrue(c.node_id)
        self.assertGreater(c.max_frame_bytes, 0)
        self.assertEqual(c.server_protocol_version, 1)
        await c.ping()
        nodes = await c.nodes()
        self.assertEqual([(n.node_name, n.self) for n in nodes], [('solo', True)])
        stats = await c.stats()
        self.assertIsInstance(stats, dict)
        self.assertTrue(stats)

    async def test_registration_and_rooms(self):
        a = await self.open('a')
        a.socket_up('s1', 'sess1', 'u1', b'd1', ['r1', 'r2'])
        a.socket_up('s2', 'sess2', '', None, ['r1'])
        a.join('s2', ['r3'])
        a.leave('s1', ['r2'])
        await a.ping()
        self.assertEqual([(r.name, r.size) for r in await a.rooms(['r1', 'r2', 'r3', 'none'])],
                         [('r1', 2), ('r2', 0), ('r3', 1), ('none', 0)])
        a.leave('s2')  # every room
        a.socket_down('s1')
        await a.ping()
        self.assertEqual([r.size for r in await a.rooms(['r1', 'r3'])], [0, 0])
        with self.assertRaises(SidecastError) as cm:
            a.socket_up('s2')
        self.assertEqual(cm.exception.code, 'DUPLICATE')

    async def test_duplicate_from_another_connection_is_refused(self):
        a = await self.open('a')
        b = await self.open('b')
        refused = []
        b.on_refused = refused.append
        a.socket_up('dup', rooms=['x'])
        await a.ping()
        b.socket_up('dup', rooms=['x'])
        await b.ping()
        await wait_for(lambda: refused, 5, 'the DUPLICATE refusal')
        self.assertEqual((refused[0].code, refused[0].ref), ('DUPLICATE', 'dup'))
        self.assertNotIn('dup', b.mirror)  # never re-registered after a reconnect
        self.assertEqual(b.counters['refused'], 1)

    async def test_emit_selectors(self):
        a = await self.open('a')
        b = await self.open('b')
        rec_a, rec_b = Recorder(a), Recorder(b)
        b.socket_up('b1', 'sb1', 'alice', rooms=['room', 'blue'])
        b.socket_up('b2', 'sb2', 'bob', rooms=['room'])
        b.socket_up('b3', 'sb3', '', rooms=['other'])
        a.socket_up('a1', rooms=['room'])
        await b.ping()
        await a.ping()
        a.emit({'rooms': ['room']}, b'm1')
        a.emit({'rooms': ['room'], 'except_rooms': ['blue']}, b'm2')
        a.emit({'socket_ids': ['b3']}, b'm3')
        a.emit({'all': True, 'except_ids': ['b2']}, b'm4')
        a.emit({'user_ids': ['alice']}, b'm5')
        a.emit({'rooms': ['room', 'blue']}, b'm6')  # matched twice: once
        a.emit({'rooms': ['room']}, b'm7', include_self=True)
        await exactly(lambda: len(rec_b.got), 7, 'delivers to b')
        self.assertEqual(rec_b.count(b'm1', 'b1') + rec_b.count(b'm1', 'b2'), 2)
        self.assertEqual([sorted(d.socket_ids) for d in rec_b.got],
                         [['b1', 'b2'], ['b2'], ['b3'], ['b1', 'b3'], ['b1'], ['b1', 'b2'], ['b1', 'b2']])
        self.assertEqual(rec_a.payloads(), [b'm7'])  # include_self only
        self.assertEqual(rec_a.got[0].socket_ids, ['a1'])

    async def test_requests_and_errors(self):
        a = await self.open('a')
        with self.assertRaises(SidecastError) as cm:
            await a.apply({'rooms': ['x']})  # neither join, leave nor disconnect
        self.assertEqual(cm.exception.code, 'INVALID')
        with self.assertRaises(SidecastError) as cm:
            await a.session_set('sess', {'k': b'x' * 8192})
        self.assertEqual(cm.exception.code, 'LIMIT')
        with self.assertRaises(SidecastError) as cm:
            a.emit({'rooms': ['r']}, b'x' * (a.max_payload_bytes + 1))
        self.assertEqual(cm.exception.code, 'TOO_LARGE')
        refused = []
        a.on_refused = refused.append
        a.send_join('not-mine', ['r'])  # fire-and-forget: refused with id 0
        await wait_for(lambda: refused, 5, 'the NOT_FOUND refusal')
        self.assertEqual((refused[0].code, refused[0].ref), ('NOT_FOUND', 'not-mine'))

    async def test_fetch_sockets_multi_part(self):
        a = await self.open('a')
        b = await self.open('b')
        n = 2600  # sidecastd chunks SocketList replies by 1024 entries: three frames
        for i in range(n):
            b.socket_up('s%d' % i, 'sess%d' % i, 'u%d' % (i % 7), b'data%d' % i, ['big', 'own%d' % i])
        b.socket_up('lonely', rooms=['small'])
        await b.ping()
        got = await a.fetch_sockets({'rooms': ['big']}, with_data=True, with_rooms=True)
        self.assertEqual(len(got), n)
        self.assertEqual(len({s.socket_id for s in got}), n)
        s7 = next(s for s in got if s.socket_id == 's7')
        self.assertEqual((s7.session_id, s7.user_id, s7.data, sorted(s7.rooms), s7.node_id),
                         ('sess7', 'u0', b'data7', ['big', 'own7'], a.node_id))
        self.assertEqual(await b.fetch_sockets({'rooms': ['big']}, exclude_self=True), [])
        rooms = await a.rooms()
        self.assertEqual(len(rooms), n + 2)
        self.assertIn(('big', n), [(r.name, r.size) for r in rooms])

    async def test_lookup_and_sessions(self):
        a = await self.open('a')
        a.socket_up('s1', 'sess1', 'carol', rooms=[])
        a.socket_up('s2', 'sess2', 'carol', rooms=[])
        await a.ping()
        r = await a.lookup(session_id='sess1')
        self.assertEqual([(s.socket_id, s.user_id, s.local) for s in r.sockets], [('s1', 'carol', True)])
        self.assertEqual(r.nodes, 1)
        self.assertEqual(await a.presence('carol'), {'online': True, 'sockets': 2, 'nodes': 1})
        self.assertEqual(await a.presence('dave'), {'online': False, 'sockets': 0, 'nodes': 0})
        await a.session_set('sess1', {'k': b'v', 'j': 'w'})
        await a.session_set('sess1', {}, ['j'])
        s = await a.session_get('sess1')
        self.assertEqual((s.found, s.connected, s.entries), (True, True, {'k': b'v'}))

    async def test_acks(self):
        a = await self.open('a')
        b = await self.open('b')
        b.socket_up('b1', rooms=['r'])
        b.socket_up('b2', rooms=['r'])

        def on_deliver(d):
            b.ack(d.ack_id, expect=len(d.socket_ids))
            for i, sid in enumerate(sorted(d.socket_ids)):
                b.ack(d.ack_id, payloads=[sid.encode()], done=i == len(d.socket_ids) - 1)
        b.on_deliver = on_deliver

        def on_server_message(m):
            b.ack(m.ack_id, payloads=[b'pong:' + m.payload], done=True)
        b.on_server_message = on_server_message
        await b.ping()
        seen = []
        last = await a.emit_with_ack({'rooms': ['r']}, b'q', seen.append)
        self.assertTrue(last.done)
        self.assertFalse(last.timed_out)
        self.assertEqual(sorted(p for s in seen for p in s.payloads), [b'b1', b'b2'])
        self.assertEqual(sum(s.expect for s in seen), 2)
        last = await a.server_emit(b'ping', want_ack=True)
        self.assertTrue(last.done)
        answers = []
        await a.server_emit(b'ping2', on_progress=lambda p: answers.extend(p.payloads))
        self.assertEqual(answers, [b'pong:ping2'])

    async def test_apply_built_in_mirror(self):
        a = await self.open('a')
        b = await self.open('b')
        b.socket_up('b1', rooms=['r'])
        b.socket_up('b2', rooms=['r', 'keep'])
        await b.ping()
        await a.apply({'rooms': ['r']}, join=['joined'], leave=['r'])
        await wait_for(lambda: 'joined' in b.mirror.sockets['b2'].rooms, 5, 'the apply')
        await b.ping()
        self.assertEqual([r.size for r in await a.rooms(['joined', 'r', 'keep'])], [2, 0, 1])
        await a.apply({'rooms': ['keep']}, disconnect=True)
        await wait_for(lambda: 'b2' not in b.mirror, 5, 'the disconnect')
        await b.ping()
        self.assertEqual([r.size for r in await a.rooms(['joined'])], [1])

    async def test_async_handlers_in_order(self):
        a = await self.open('a')
        b = await self.open('b', inbox_limit=8)
        b.socket_up('b1', rooms=['r'])
        await b.ping()
        got = []

        async def on_deliver(d):
            await asyncio.sleep(0)
            got.append(int(d.payload))
        b.on_deliver = on_deliver
        for i in range(500):
            a.emit({'rooms': ['r']}, str(i).encode())
        await exactly(lambda: len(got), 500, 'async delivers')
        self.assertEqual(got, list(range(500)))
        self.assertGreaterEqual(b.counters['inbox_paused'], 1)

    async def test_disconnected_queue_and_timeouts(self):
        path = os.path.join(self.d.dir, 'nobody.sock')
        c = SidecastClient(path, 'lonely', timeout=0.3, reconnect_min=0.05, reconnect_max=0.1, queue_limit=2)
        self.addAsyncCleanup(c.close)
        with self.assertRaises(SidecastTimeoutError) as cm:
            await c.ready(0.3)
        self.assertIn('no socket at', str(cm.exception))
        with self.assertRaises(SidecastTimeoutError):
            await c.ping()
        self.assertTrue(c.emit({'rooms': ['r']}, b'kept'))
        self.assertFalse(c.emit({'rooms': ['r']}, b'volatile', volatile=True))
        self.assertGreaterEqual(c.counters['dropped_disconnected'], 1)

    async def test_emit_queued_until_connected(self):
        b = await self.open('b')
        rec = Recorder(b)
        b.socket_up('b1', rooms=['r'])
        await b.ping()
        c = client(self.d, 'late')
        self.addAsyncCleanup(c.close)
        c.start()
        self.assertTrue(c.emit({'rooms': ['r']}, b'early'))  # queued until the Welcome
        await exactly(lambda: rec.count(b'early'), 1, 'queued emit')


if __name__ == '__main__':
    unittest.main()
