"""The socket.io mapping's bytes (proto/README.md), checked against fixed byte strings.

The fixtures are what the Node client's lib/codec.js and lib/mapping.js
write for the same values, so a Python and a Node server read each other.
"""

import unittest

from socketio import packet

from sidecast import codec, mapping


class CodecTest(unittest.TestCase):
    def test_plain_json(self):
        self.assertEqual(codec.encode([{'a': 1}, 'x']), b'\x00[{"a":1},"x"]')
        self.assertEqual(codec.decode(b'\x00[{"a":1},"x"]'), [{'a': 1}, 'x'])

    def test_undefined_is_none(self):
        self.assertIsNone(codec.decode(b'\x00'))
        self.assertIsNone(codec.decode(b''))
        self.assertEqual(codec.encode(None), b'\x00null')

    def test_binary_parts(self):
        v = ['ev', {'blob': b'\x00\x01\x02'}, b'zz']
        enc = codec.encode(v)
        doc = b'["ev",{"blob":{"_sc_bin":0}},{"_sc_bin":1}]'
        self.assertEqual(enc, b'\x01' + len(doc).to_bytes(4, 'big') + doc
                         + b'\x00\x00\x00\x03\x00\x01\x02' + b'\x00\x00\x00\x02zz')
        self.assertEqual(codec.decode(enc), v)

    def test_malformed(self):
        for bad in (b'\x07{}', b'\x01\x00\x00\x00\xff[]', b'\x01\x00\x00\x00\x02[]\x00\x00\x00\x09ab'):
            with self.assertRaises(ValueError):
                codec.decode(bad)


class MappingTest(unittest.TestCase):
    def test_broadcast_one_string(self):
        enc = packet.Packet(packet.EVENT, data=['news', {'id': 7}], namespace='/chat').encode()
        self.assertEqual(enc, '2/chat,["news",{"id":7}]')
        p = mapping.encode_broadcast(enc, mapping.flags_of(volatile=True))
        self.assertEqual(p, b'\x01\x02' + enc.encode())
        self.assertEqual(mapping.decode_broadcast(p), (2, 0, [enc]))

    def test_broadcast_ack_timeout(self):
        p = mapping.encode_broadcast('21["q"]', 0, 5000)
        self.assertEqual(p, b'\x01\x04\x00\x00\x13\x88' + b'21["q"]')
        self.assertEqual(mapping.decode_broadcast(p), (4, 5000, ['21["q"]']))

    def test_broadcast_parts(self):
        enc = packet.Packet(packet.EVENT, data=['bin', b'\x01\x02']).encode()
        self.assertEqual(enc, ['51-["bin",{"_placeholder":true,"num":0}]', b'\x01\x02'])
        p = mapping.encode_broadcast(enc, mapping.FLAG_COMPRESS)
        head = enc[0].encode()
        self.assertEqual(p, b'\x01\x09\x02' + b'\x00' + len(head).to_bytes(4, 'big') + head
                         + b'\x01\x00\x00\x00\x02\x01\x02')
        self.assertEqual(mapping.decode_broadcast(p), (9, 0, enc))

    def test_broadcast_malformed(self):
        for bad in (b'', b'\x02\x00', b'\x01\x04\x00', b'\x01\x08', b'\x01\x08\x01\x00\x00\x00\x00\x09ab',
                    b'\x01\x08\x01\x01\x00\x00\x00\x01x'):
            with self.assertRaises(ValueError):
                mapping.decode_broadcast(bad)

    def test_packet_namespace(self):
        self.assertEqual(mapping.packet_namespace('2["a"]'), '/')
        self.assertEqual(mapping.packet_namespace('2/chat,["a"]'), '/chat')
        self.assertEqual(mapping.packet_namespace('51-/chat,3["a",{}]'), '/chat')
        self.assertEqual(mapping.packet_namespace('51-["a",{}]'), '/')
        self.assertEqual(mapping.packet_namespace('2/x?a=1,["a"]'), '/x')

    def test_server_emit(self):
        p = mapping.encode_server_emit('/', ['hello', 1])
        self.assertEqual(p, b'\x02\x00\x01/' + b'\x00["hello",1]')
        self.assertEqual(mapping.decode_server_emit(p), ('/', ['hello', 1]))
        with self.assertRaises(ValueError):
            mapping.decode_server_emit(b'\x02\x00\x09/')

    def test_ack(self):
        self.assertEqual(mapping.encode_ack(['ok']), b'\x00["ok"]')
        self.assertEqual(mapping.decode_ack(b'\x00["ok"]'), ['ok'])

    def test_names(self):
        self.assertEqual(mapping.room_key('/', 'lobby'), '/,lobby')
        self.assertEqual(mapping.local_room('/', '/,lobby'), 'lobby')
        self.assertIsNone(mapping.local_room('/', '/'))
        self.assertIsNone(mapping.local_room('/', '/chat,lobby'))


if __name__ == '__main__':
    unittest.main()
