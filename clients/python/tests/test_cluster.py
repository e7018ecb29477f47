"""SidecastClient on two sidecastds sharing one Redis (cluster mode): every path across nodes."""

import unittest

from .harness import Case, exactly, room_ready, wait_for


class Recorder:
    def __init__(self, c):
        self.got = []
        c.on_deliver = self.got.append

    def count(self, payload):
        return sum(1 for d in self.got if d.payload == payload)


class ClusterTest(Case):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.redis = await self.start_redis()
        self.d1 = await self.start_sidecastd(self.redis, 'n1')
        self.d2 = await self.start_sidecastd(self.redis, 'n2')
        self.a = await self.sc_client(self.d1, 'a')
        self.b = await self.sc_client(self.d2, 'b')
        await wait_for(self.two_nodes, 10, 'both nodes live')

    async def two_nodes(self):
        return len(await self.a.nodes()) == 2 and len(await self.b.nodes()) == 2

    async def test_room_emit_reaches_each_member_once(self):
        ra, rb = Recorder(self.a), Recorder(self.b)
        self.a.socket_up('a1', rooms=['room'])
        self.b.socket_up('b1', rooms=['room', 'other'])
        self.b.socket_up('b2', rooms=['room'])
        await room_ready(self.redis, 'room', [(self.d1, 1), (self.d2, 2)])
        for i in range(50):
            self.a.emit({'rooms': ['room', 'other']}, b'm%d' % i)
        await exactly(lambda: len(rb.got), 50, 'room emits across nodes')
        self.assertEqual([d.payload for d in rb.got], [b'm%d' % i for i in range(50)])  # in order
        self.assertTrue(all(sorted(d.socket_ids) == ['b1', 'b2'] for d in rb.got))
        self.assertEqual(ra.got, [])  # not back to the sender's own sockets

    async def test_socket_user_all_and_except(self):
        rb = Recorder(self.b)
        self.b.socket_up('b1', 'sess-b1', 'erin', rooms=['x'])
        self.b.socket_up('b2', 'sess-b2', '', rooms=['x', 'muted'])
        await room_ready(self.redis, 'x', [(self.d2, 2)])
        await room_ready(self.redis, 'muted', [(self.d2, 1)])
        self.a.emit({'socket_ids': ['b2']}, b'to-socket')
        self.a.emit({'user_ids': ['erin']}, b'to-user')
        self.a.emit({'all': True, 'except_ids': ['b1']}, b'to-all')
        self.a.emit({'rooms': ['x'], 'except_rooms': ['muted']}, b'to-room')
        await exactly(lambda: len(rb.got), 4, 'targeted emits across nodes')
        by = {d.payload: sorted(d.socket_ids) for d in rb.got}
        self.assertEqual(by, {b'to-socket': ['b2'], b'to-user': ['b1'], b'to-all': ['b2'], b'to-room': ['b1']})

    async def test_local_emit_stays_on_node(self):
        rb = Recorder(self.b)
        self.b.socket_up('b1', rooms=['r'])
        await room_ready(self.redis, 'r', [(self.d2, 1)])
        self.a.emit({'rooms': ['r']}, b'local', local=True)
        self.a.emit({'rooms': ['r']}, b'cluster')
        await exactly(lambda: len(rb.got), 1, 'only the cluster emit')
        self.assertEqual(rb.got[0].payload, b'cluster')

    async def test_fetch_lookup_apply_across_nodes(self):
        self.a.socket_up('a1', 'sa1', 'frank', b'da', ['r'])
        self.b.socket_up('b1', 'sb1', 'frank', b'db', ['r'])
        await room_ready(self.redis, 'r', [(self.d1, 1), (self.d2, 1)])
        got = await self.a.fetch_sockets({'rooms': ['r']}, with_data=True, with_rooms=True)
        self.assertEqual(sorted((s.socket_id, s.data, s.node_id) for s in got),
                         [('a1', b'da', self.a.node_id), ('b1', b'db', self.b.node_id)])
        remote = await self.a.fetch_sockets({'rooms': ['r']}, exclude_self=True)
        self.assertEqual([s.socket_id for s in remote], ['b1'])
        r = await self.a.lookup(session_id='sb1')
        self.assertEqual([(s.socket_id, s.node_name, s.local) for s in r.sockets], [('b1', 'n2', False)])
        self.assertEqual(await self.a.presence('frank'), {'online': True, 'sockets': 2, 'nodes': 2})
        await self.a.session_set('sb1', {'cart': b'3'})
        self.assertEqual((await self.b.session_get('sb1')).entries, {'cart': b'3'})
        await self.a.apply({'rooms': ['r']}, join=['joined'])
        await wait_for(lambda: 'joined' in self.b.mirror.sockets['b1'].rooms, 5, 'apply on the other node')
        await room_ready(self.redis, 'joined', [(self.d1, 1), (self.d2, 1)])
        await self.a.apply({'socket_ids': ['b1']}, disconnect=True)
        await wait_for(lambda: 'b1' not in self.b.mirror, 5, 'remote disconnect')

    async def test_acks_across_nodes(self):
        self.b.socket_up('b1', rooms=['r'])
        self.b.socket_up('b2', rooms=['r'])

        def on_deliver(d):
            self.b.ack(d.ack_id, expect=len(d.socket_ids))
            for i, sid in enumerate(sorted(d.socket_ids)):
                self.b.ack(d.ack_id, payloads=[sid.encode()], done=i == len(d.socket_ids) - 1)
        self.b.on_deliver = on_deliver
        self.b.on_server_message = lambda m: self.b.ack(m.ack_id, payloads=[b'n2:' + m.payload], done=True)
        await room_ready(self.redis, 'r', [(self.d2, 2)])
        answers = []
        last = await self.a.emit_with_ack({'rooms': ['r']}, b'q', lambda p: answers.extend(p.payloads))
        self.assertTrue(last.done and not last.timed_out)
        self.assertEqual(sorted(answers), [b'b1', b'b2'])
        answers = []
        last = await self.a.server_emit(b'hi', on_progress=lambda p: answers.extend(p.payloads))
        # the test's observer connection on n2 answers "absent" (b'\x04'), as an emitter does
        self.assertEqual(sorted(answers), [b'\x04', b'n2:hi'])
        self.assertEqual((last.nodes_expected, last.nodes_answered), (2, 2))

    async def test_server_emit_silent_app(self):
        """An app that never answers: the answers come up short of what was expected.

        sidecastd ends the silent node's part at 0.8 x request_timeout_ms as if
        it had answered (timed_out stays false, nodes_missing empty): the
        caller learns it only from fewer answers than ``expect`` said.
        """
        self.b.on_server_message = lambda m: None  # never answers
        seen = []
        last = await self.a.server_emit(b'hi', on_progress=seen.append, timeout=8)
        self.assertTrue(last.done)
        self.assertEqual(sum(p.expect for p in seen), 1)
        self.assertEqual([x for p in seen for x in p.payloads], [])

if __name__ == '__main__':
    unittest.main()
