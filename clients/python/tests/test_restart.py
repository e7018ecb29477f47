"""sidecastd restarted under a running client (SIGTERM, then SIGKILL, each followed by a
start on the same socket path): the client reconnects and re-registers its sockets,
rooms and data; emits resume; a request made while it was down completes after."""

import asyncio
import signal
import unittest

from .harness import Case, exactly, room_ready, wait_for


class RestartTest(Case):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.redis = await self.start_redis()
        self.d1 = await self.start_sidecastd(self.redis, 'A')
        self.d2 = await self.start_sidecastd(self.redis, 'B')
        self.a = await self.sc_client(self.d1, 'a')
        self.b = await self.sc_client(self.d2, 'b')
        await wait_for(self._two_nodes, 10, 'two nodes')

    async def _two_nodes(self):
        return len(await self.b.nodes()) == 2

    async def _restart(self, sig):
        got = []
        self.a.on_deliver = lambda d: got.append((d.payload, tuple(d.socket_ids)))
        events = []
        self.a.on_disconnect = lambda err: events.append('down')
        self.a.on_connect = lambda again: events.append('again' if again else 'first')
        room = 'keep-%d' % sig
        self.a.socket_up('s-%d' % sig, 'sess-%d' % sig, 'user-%d' % sig, b'tag', [room])
        await room_ready(self.redis, room, [(self.d1, 1), (self.d2, 0)])
        self.b.emit({'rooms': [room]}, b'before')
        await exactly(lambda: len(got), 1, 'emit before the restart')
        code = await self.d1.stop(sig)
        self.assertEqual(code, 0 if sig == signal.SIGTERM else -signal.SIGKILL)
        await wait_for(lambda: 'down' in events, 10, 'the client to see the connection drop')
        pending = asyncio.ensure_future(self.a.rooms([room], timeout=30))  # waits for the reconnect
        self.assertTrue(self.a.emit({'rooms': [room]}, b'queued', include_self=True))  # kept while down
        await self.d1.start()
        await wait_for(lambda: 'again' in events, 20, 'the reconnect')
        self.assertEqual([(r.name, r.size) for r in await pending], [(room, 1)])
        await room_ready(self.redis, room, [(self.d1, 1), (self.d2, 0)])
        self.b.emit({'rooms': [room]}, b'after')
        await exactly(lambda: len(got), 3, 'emits after the restart')
        self.assertEqual(sorted(p for p, _ in got), [b'after', b'before', b'queued'])
        # a killed node is a member until its liveness expires: cluster requests wait for the reap
        await wait_for(self._two_nodes, 20, 'the old node reaped')
        socks = await self.b.fetch_sockets({'rooms': [room]}, with_data=True)
        self.assertEqual([(s.socket_id, s.data) for s in socks], [('s-%d' % sig, b'tag')])
        r = await wait_for(lambda: self._located('sess-%d' % sig), 20, 'session lookup after restart')
        self.assertEqual(r.sockets[0].node_name, 'A')
        self.assertEqual(self.a.counters['reconnects'], 1)

    async def _located(self, session):
        r = await self.b.lookup(session_id=session)
        return r if r.sockets else None

    async def test_sigterm(self):
        await self._restart(signal.SIGTERM)

    async def test_sigkill(self):
        await self._restart(signal.SIGKILL)


if __name__ == '__main__':
    unittest.main()
