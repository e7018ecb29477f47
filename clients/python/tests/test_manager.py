"""SidecastManager: two python-socketio AsyncServers (aiohttp), each with its own sidecastd,
one Redis, clients on both (python-socketio AsyncClient over websocket).

Every emit is sent once after a barrier (room_ready: both registries and
Redis' subscriptions hold what the emit needs) and counted exactly.
"""

import unittest

from sidecast import SidecastTimeoutError

from .harness import Case, SioClient, exactly, room_ready, wait_for


class ManagerTest(Case):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.redis = await self.start_redis()
        self.d1 = await self.start_sidecastd(self.redis, 'n1')
        self.d2 = await self.start_sidecastd(self.redis, 'n2')
        self.s1 = await self.sio_server(self.d1, user_id=lambda environ: environ.get('HTTP_X_USER'))
        self.s2 = await self.sio_server(self.d2)
        self.server_disconnects = []
        for s in (self.s1, self.s2):
            self._handlers(s)
        await wait_for(self._two_nodes, 10, 'two nodes')

    async def _two_nodes(self):
        return len(await self.s1.manager.client.nodes()) == 2

    def _handlers(self, s):
        """join (acked) and disconnect handlers on '/' and '/chat' (5.7 has no '*' namespace handlers)."""
        sio = s.sio
        for ns in ('/', '/chat'):
            async def join(sid, room, ns=ns):
                sio.enter_room(sid, room, namespace=ns)
                return 'joined'

            async def disconnect(sid):
                self.server_disconnects.append((s, sid))
            sio.on('join', join, namespace=ns)
            sio.on('disconnect', disconnect, namespace=ns)

    async def client(self, server, namespaces=('/',)):
        return await self.sio_client(server, namespaces)

    async def join(self, c, room, ns='/'):
        self.assertEqual(await c.c.call('join', room, namespace=ns, timeout=10), 'joined')

    async def ready(self, key, n1, n2):
        await room_ready(self.redis, key, [(self.d1, n1), (self.d2, n2)])

    async def test_room_emits_across_nodes(self):
        a, b, c = await self.client(self.s1), await self.client(self.s2), await self.client(self.s2)
        for x in (a, b, c):
            await self.join(x, 'room')
        await self.ready('/,room', 1, 2)
        for i in range(5):
            await self.s1.sio.emit('news', {'n': i}, to='room')
        await self.s2.sio.emit('all', 'everyone')  # the namespace's everyone room
        for x in (a, b, c):
            await exactly(lambda: x.count('news'), 5, 'room emits')
            self.assertEqual(x.args('news'), [({'n': i},) for i in range(5)])  # in order
            await exactly(lambda: x.count('all'), 1, 'emit to everyone')

    async def test_emit_to_sid_and_skip_sid(self):
        a, b, c = await self.client(self.s1), await self.client(self.s2), await self.client(self.s2)
        await self.ready('/,%s' % b.sid(), 0, 1)
        await self.s1.sio.emit('direct', ('x', 2), to=b.sid())
        await exactly(lambda: b.count('direct'), 1, 'emit to a sid on the other node')
        self.assertEqual(b.args('direct'), [('x', 2)])
        for x in (a, b, c):
            await self.join(x, 'r2')
        await self.ready('/,r2', 1, 2)
        await self.s1.sio.emit('skip', 1, to='r2', skip_sid=b.sid())
        await self.s2.sio.emit('skip2', 2, to='r2', skip_sid=[a.sid(), c.sid()])
        await exactly(lambda: a.count('skip') + c.count('skip'), 2, 'skip_sid on the other node')
        await exactly(lambda: b.count('skip2'), 1, 'skip_sid list')
        self.assertEqual((b.count('skip'), a.count('skip2'), c.count('skip2')), (0, 0, 0))
        self.assertEqual(a.count('direct') + c.count('direct'), 0)

    async def test_binary_and_namespaces(self):
        a = await self.client(self.s1, ('/', '/chat'))
        b = await self.client(self.s2, ('/', '/chat'))
        await self.join(b, 'room', '/chat')
        await self.join(b, 'room', '/')
        await self.ready('/chat,room', 0, 1)
        await self.ready('/,room', 0, 1)
        await self.s1.sio.emit('blob', {'bytes': b'\x00\x01\xff', 'n': 1}, to='room', namespace='/chat')
        await exactly(lambda: b.count('blob', '/chat'), 1, 'binary emit to /chat')
        self.assertEqual(b.args('blob', '/chat'), [({'bytes': b'\x00\x01\xff', 'n': 1},)])
        self.assertEqual(b.count('blob', '/'), 0)  # the same room name in another namespace
        self.assertEqual(a.count('blob', '/chat'), 0)

    async def test_callbacks_across_nodes(self):
        a, b, c = await self.client(self.s1), await self.client(self.s2), await self.client(self.s2)
        for x, name in ((a, 'a'), (b, 'b'), (c, 'c')):
            x.c.on('ask', lambda q, name=name: '%s:%s' % (name, q))
            await self.join(x, 'askers')
        await self.ready('/,askers', 1, 2)
        await self.ready('/,%s' % b.sid(), 0, 1)
        self.assertEqual(await self.s1.sio.call('ask', 'q1', to=b.sid(), timeout=10), 'b:q1')
        answers = []
        await self.s1.sio.emit('ask', 'q2', to='askers', callback=lambda *args: answers.append(args))
        await exactly(lambda: len(answers), 3, 'a callback per client, across nodes')
        self.assertEqual(sorted(answers), [('a:q2',), ('b:q2',), ('c:q2',)])

    async def test_rooms_from_the_other_node(self):
        a, b = await self.client(self.s1), await self.client(self.s2)
        self.s1.sio.enter_room(b.sid(), 'vip')  # b is on s2
        self.s2.sio.enter_room(a.sid(), 'vip')  # a is on s1
        await self.ready('/,vip', 1, 1)
        self.assertIn('vip', self.s2.sio.rooms(b.sid()))
        await self.s1.sio.emit('vip', 1, to='vip')
        await exactly(lambda: a.count('vip') + b.count('vip'), 2, 'room joined from the other node')
        self.s1.sio.leave_room(b.sid(), 'vip')
        await self.ready('/,vip', 1, 0)
        self.assertNotIn('vip', self.s2.sio.rooms(b.sid()))
        self.s2.sio.enter_room(b.sid(), 'vip')
        await self.ready('/,vip', 1, 1)
        await self.s2.sio.close_room('vip')
        await self.ready('/,vip', 0, 0)
        self.assertEqual((self.s1.sio.rooms(a.sid()), self.s2.sio.rooms(b.sid())), ([a.sid()], [b.sid()]))
        await self.s1.sio.emit('vip', 2, to='vip')
        await self.s2.sio.emit('after', 3)
        await exactly(lambda: a.count('after') + b.count('after'), 2, 'the emit after close_room')
        self.assertEqual(a.count('vip') + b.count('vip'), 2)  # nothing more to the closed room

    async def test_disconnect_from_the_other_node(self):
        a, b = await self.client(self.s1), await self.client(self.s2)
        bsid = b.sid()
        await self.s1.sio.disconnect(bsid)
        await wait_for(lambda: b.disconnects == 1, 10, 'the client on the other node to be disconnected')
        await wait_for(lambda: (self.s2, bsid) in self.server_disconnects, 10, "s2's disconnect handler")
        await self.ready('/,%s' % bsid, 0, 0)
        self.assertEqual(await self.d2.room_size('/'), 0)
        self.assertEqual(a.disconnects, 0)

    async def test_server_side_emit_fetch_and_lookup(self):
        a, b = await self.client(self.s1), await self.client(self.s2)
        got = []

        @self.s2.manager.on_server_event('hello')
        async def hello(x):
            got.append(x)
            return x * 2
        await self.s1.manager.server_side_emit('hello', 1)
        await exactly(lambda: len(got), 1, 'server-side emit')
        self.assertEqual(await self.s1.manager.server_side_emit_with_ack('hello', 21), [42])
        self.assertEqual(await self.s1.manager.server_count(), 2)
        with self.assertRaises(SidecastTimeoutError) as cm:  # s1 has no handler: one answer short
            await self.s2.manager.server_side_emit_with_ack('nobody-handles', 1, timeout=2)
        self.assertEqual(cm.exception.responses, [])
        await self.join(b, 'room')
        self.s2.manager.set_data(b.sid(), {'name': 'bee'})
        await self.ready('/,room', 0, 1)
        await self.s2.manager.client.ping()
        socks = await self.s1.manager.fetch_sockets('room')
        self.assertEqual([(s['sid'], s['rooms'], s['data'], s['local']) for s in socks],
                         [(b.sid(), ['room'], {'name': 'bee'}, False)])
        everyone = await self.s1.manager.fetch_sockets()
        self.assertEqual(sorted(s['sid'] for s in everyone), sorted([a.sid(), b.sid()]))
        eio_sid = b.c.eio.sid
        r = await self.s1.manager.lookup(session_id=eio_sid)
        self.assertEqual([(s.socket_id, s.node_name) for s in r.sockets], [(b.sid(), 'n2')])

    async def test_user_ids(self):
        a = SioClient()
        self.addAsyncCleanup(a.close)
        await a.c.connect(self.s1.url, headers={'X-User': 'ursula'}, transports=['websocket'], wait_timeout=10)
        await self.s1.manager.client.ping()
        self.assertEqual(await self.s2.manager.presence('ursula'), {'online': True, 'sockets': 1, 'nodes': 1})
        self.s1.manager.identify(a.sid(), 'victor')
        await self.s1.manager.client.ping()
        self.assertEqual((await self.s2.manager.presence('ursula'))['online'], False)
        self.assertEqual((await self.s2.manager.presence('victor'))['sockets'], 1)
        self.assertEqual(await self.d1.room_size('/,%s' % a.sid()), 1)  # rooms kept


if __name__ == '__main__':
    unittest.main()
