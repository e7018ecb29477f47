"""Emits from processes without a socket.io server (the Emitter, a write-only manager), and
two python-socketio servers sharing one sidecastd (workers)."""

import unittest

from sidecast import Emitter, SidecastManager

from .harness import Case, exactly, room_ready, wait_for


class EmitterTest(Case):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.redis = await self.start_redis()
        self.d1 = await self.start_sidecastd(self.redis, 'n1')
        self.d2 = await self.start_sidecastd(self.redis, 'n2')
        self.s1 = await self.sio_server(self.d1)
        self.s2 = await self.sio_server(self.d2)
        self.worker = await self.sio_server(self.d1)  # a second server process on n1
        for s in (self.s1, self.s2, self.worker):
            for ns in ('/', '/admin'):
                s.sio.on('join', self._join(s, ns), namespace=ns)
        self.a = await self.sio_client(self.s1)
        self.b = await self.sio_client(self.s2, ('/', '/admin'))
        self.w = await self.sio_client(self.worker)
        for x in (self.a, self.b, self.w):
            self.assertEqual(await x.c.call('join', 'room', timeout=10), 'joined')
        self.assertEqual(await self.b.c.call('join', 'room', namespace='/admin', timeout=10), 'joined')
        await room_ready(self.redis, '/,room', [(self.d1, 2), (self.d2, 1)])
        await room_ready(self.redis, '/admin,room', [(self.d1, 0), (self.d2, 1)])

    @staticmethod
    def _join(s, ns):
        async def join(sid, room):
            s.sio.enter_room(sid, room, namespace=ns)
            return 'joined'
        return join

    async def emitter(self, d):
        e = Emitter(d.sock, reconnect_min=0.03, reconnect_max=0.3)
        self.addAsyncCleanup(e.close)
        await e.ready(10)
        return e

    async def test_emitter_emits(self):
        e = await self.emitter(self.d1)
        self.assertTrue(e.to('room').emit('news', {'n': 1}, b'\x00bin'))
        e.except_('room').emit('nobody', 1)
        e.to('room').except_(self.b.sid()).emit('not-b', 2)
        e.of('/admin').to('room').emit('admin', 3)
        e.emit('everyone', 4)
        for x in (self.a, self.b, self.w):
            await exactly(lambda: x.count('news'), 1, 'emitter room emit')
            await exactly(lambda: x.count('everyone'), 1, 'emitter emit to the namespace')
            self.assertEqual(x.args('news'), [({'n': 1}, b'\x00bin')])
        await exactly(lambda: self.a.count('not-b') + self.w.count('not-b'), 2, 'except a sid')
        await exactly(lambda: self.b.count('admin', '/admin'), 1, 'emit to /admin')
        self.assertEqual(sum(x.count('nobody') + x.count('admin') for x in (self.a, self.b, self.w)), 0)
        self.assertEqual(self.b.count('not-b'), 0)
        with self.assertRaises(ValueError):
            e.emit('disconnect')
        with self.assertRaises(ValueError):
            e.emit('ev', lambda: None)

    async def test_emitter_cluster_operations(self):
        e = await self.emitter(self.d2)
        await e.in_('room').sockets_join('extra')
        await room_ready(self.redis, '/,extra', [(self.d1, 2), (self.d2, 1)])
        self.assertIn('extra', self.s1.sio.rooms(self.a.sid()))
        await e.in_('extra').sockets_leave(['extra'])
        await room_ready(self.redis, '/,extra', [(self.d1, 0), (self.d2, 0)])
        got = []
        self.s1.manager.on_server_event('reload', lambda v: got.append(v))
        await e.server_side_emit('reload', 'cfg')
        await exactly(lambda: len(got), 1, 'server-side emit from the emitter')
        # the emitter's connection answers "absent": the servers' acks do not wait for it
        self.s2.manager.on_server_event('count', lambda: 'n2')
        self.worker.manager.on_server_event('count', lambda: 'worker')
        self.assertEqual(sorted(await self.s1.manager.server_side_emit_with_ack('count')), ['n2', 'worker'])
        self.assertEqual(await self.s1.manager.server_count(), 3)
        await e.to(self.w.sid()).disconnect_sockets()
        await wait_for(lambda: not self.w.c.connected, 10, 'disconnect from the emitter')

    async def test_write_only_manager(self):
        m = SidecastManager(self.d2.sock, write_only=True,
                            client_options={'reconnect_min': 0.03, 'reconnect_max': 0.3})
        self.addAsyncCleanup(m.close)
        await m.ready(10)
        await m.emit('wo', {'x': 1}, room='room', skip_sid=self.a.sid())
        await exactly(lambda: self.b.count('wo') + self.w.count('wo'), 2, 'write-only emit')
        self.assertEqual(self.a.count('wo'), 0)
        with self.assertRaises(RuntimeError):
            await m.emit('cb', 1, room='room', callback=lambda *a: None)
        await m.close_room('room', '/')
        await room_ready(self.redis, '/,room', [(self.d1, 0), (self.d2, 0)])
        await m.disconnect(self.b.sid(), '/')
        await wait_for(lambda: self.b.disconnects >= 1, 10, 'disconnect from the write-only manager')

    async def test_workers_share_a_sidecastd(self):
        await self.s1.sio.emit('w', 1, to='room')
        await self.worker.sio.emit('w2', 2, to='room', skip_sid=self.w.sid())
        for x in (self.a, self.b, self.w):
            await exactly(lambda: x.count('w'), 1, 'emit reaches the other worker once')
        await exactly(lambda: self.a.count('w2') + self.b.count('w2'), 2, 'skip_sid from a worker')
        self.assertEqual(self.w.count('w2'), 0)


if __name__ == '__main__':
    unittest.main()
