"""The socket.io mapping's payloads (proto/README.md, "The socket.io mapping").

What a socket.io server (the Node adapter, the Python manager) or an emitter
puts in an ``Emit`` or a ``ServerEmit``; sidecastd never reads it. Byte 0 is
the kind::

    1 broadcast:  [1][flags][u32 ack timeout ms, if FLAG_ACK] then either the
                  socket.io-parser packet as one UTF-8 string (the rest of the
                  payload) or, with FLAG_PARTS, [u8 n] n x ([u8 0=string /
                  1=binary][u32 len][bytes])
    2 server-side emit: [2][u16 nsp len][nsp][codec value: the packet's array]
    3 server count probe (answered with [3])
    4 "no such namespace here" (the answer to a server-side emit)

Names: room R of namespace N is the registry room "N,R"; every socket is also
in "N", the namespace's everyone room. Big-endian. This module owns these
bytes only; it sends nothing.
"""

import struct

from . import codec

KIND_BROADCAST = 1
KIND_SERVER_EMIT = 2
KIND_PROBE = 3
KIND_ABSENT = 4
FLAG_COMPRESS = 1
FLAG_VOLATILE = 2
FLAG_ACK = 4
FLAG_PARTS = 8
PROBE = bytes([KIND_PROBE])
ABSENT = bytes([KIND_ABSENT])
MAX_PARTS = 255
_U32 = struct.Struct('>I')
_U16 = struct.Struct('>H')


def room_key(nsp, room):
    """The registry name of room ``room`` of namespace ``nsp``: "nsp,room"."""
    return '%s,%s' % (nsp, room)


def local_room(nsp, key):
    """The room of ``nsp`` a registry name stands for, or None (another namespace, or nsp's everyone room)."""
    prefix = nsp + ','
    if len(key) > len(prefix) and key.startswith(prefix):
        return key[len(prefix):]
    return None


def flags_of(compress=False, volatile=False):
    """Broadcast flag bits of socket.io's compress / volatile."""
    return (FLAG_COMPRESS if compress else 0) | (FLAG_VOLATILE if volatile else 0)


def encode_broadcast(encoded, flags=0, timeout_ms=None):
    """A broadcast payload of a packet as socket.io-parser encodes it.

    ``encoded`` is a string, or a list [string header, bytes attachment...]
    (python-socketio's Packet.encode() result); ``timeout_ms`` (acked
    broadcasts only) sets FLAG_ACK.
    """
    flags &= FLAG_COMPRESS | FLAG_VOLATILE
    head = bytearray([KIND_BROADCAST, 0])
    if timeout_ms is not None:
        flags |= FLAG_ACK
        head += _U32.pack(max(0, min(int(timeout_ms), 0xFFFFFFFF)))
    if isinstance(encoded, str):
        head[1] = flags
        return bytes(head) + encoded.encode('utf-8')
    if len(encoded) == 1 and isinstance(encoded[0], str):
        return encode_broadcast(encoded[0], flags, timeout_ms)
    if len(encoded) > MAX_PARTS:
        raise ValueError('sidecast: a packet of %d parts does not fit the mapping (at most %d)'
                         % (len(encoded), MAX_PARTS))
    head[1] = flags | FLAG_PARTS
    head.append(len(encoded))
    for p in encoded:
        body = p.encode('utf-8') if isinstance(p, str) else bytes(p)
        head.append(0 if isinstance(p, str) else 1)
        head += _U32.pack(len(body))
        head += body
    return bytes(head)


def decode_broadcast(payload):
    """A broadcast payload -> (flags, ack timeout ms (0: none), parts: [str | bytes]).

    Raises ValueError for anything that is not a well-formed broadcast.
    """
    p = bytes(payload)
    if len(p) < 2 or p[0] != KIND_BROADCAST:
        raise ValueError('not a socket.io broadcast payload')
    flags = p[1]
    at = 2
    timeout_ms = 0
    if flags & FLAG_ACK:
        if len(p) < 6:
            raise ValueError('broadcast payload too short for its ack timeout')
        (timeout_ms,) = _U32.unpack_from(p, 2)
        at = 6
    if not flags & FLAG_PARTS:
        return flags, timeout_ms, [p[at:].decode('utf-8')]
    if at >= len(p):
        raise ValueError('broadcast payload without its part count')
    n = p[at]
    at += 1
    parts = []
    for _ in range(n):
        if at + 5 > len(p):
            raise ValueError('truncated broadcast part')
        kind = p[at]
        (ln,) = _U32.unpack_from(p, at + 1)
        body = p[at + 5:at + 5 + ln]
        if len(body) != ln:
            raise ValueError('broadcast part runs past the payload')
        parts.append(body.decode('utf-8') if kind == 0 else body)
        at += 5 + ln
    if not parts or not isinstance(parts[0], str):
        raise ValueError('broadcast parts do not start with the packet string')
    return flags, timeout_ms, parts


def packet_namespace(header):
    """The namespace a socket.io-parser packet string names ('/' when it names none).

    Format: <type digit>[<attachments>-][<nsp>,][<id>][<json>].
    """
    at = 1
    dash = header.find('-', at)
    if dash > at and header[at:dash].isdigit():
        at = dash + 1
    if header[at:at + 1] != '/':
        return '/'
    end = header.find(',', at)
    nsp = header[at:] if end < 0 else header[at:end]
    q = nsp.find('?')
    return nsp if q < 0 else nsp[:q]


def encode_server_emit(nsp, args):
    """A server-side emit's payload: the namespace and the packet's array (event name first)."""
    name = nsp.encode('utf-8')
    if len(name) > 0xFFFF:
        raise ValueError('sidecast: namespace name too long')
    return bytes([KIND_SERVER_EMIT]) + _U16.pack(len(name)) + name + codec.encode(list(args))


def decode_server_emit(payload):
    """A server-side emit's payload -> (nsp, args list); ValueError if malformed."""
    p = bytes(payload)
    if len(p) < 3 or p[0] != KIND_SERVER_EMIT:
        raise ValueError('not a socket.io server-side emit payload')
    (nl,) = _U16.unpack_from(p, 1)
    if 3 + nl > len(p):
        raise ValueError('server-side emit namespace runs past the payload')
    args = codec.decode(p[3 + nl:])
    return p[3:3 + nl].decode('utf-8'), args if isinstance(args, list) else []


def encode_ack(args):
    """An ack answer: a codec value of the client's ack arguments.

    The mapping's ``[response]`` is the one-argument case (byte for byte);
    readers that want socket.io's single response take element 0, as the
    Node adapter does.
    """
    return codec.encode(list(args))


def decode_ack(payload):
    """An ack answer -> the list of the client's ack arguments (ValueError if malformed)."""
    v = codec.decode(payload)
    return v if isinstance(v, list) else [v]
