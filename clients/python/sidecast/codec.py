"""Values that cross the cluster inside opaque payloads.

socket.data, server-side emit arguments and ack responses travel as the
socket.io mapping's "codec value" (proto/README.md, "The socket.io mapping";
the Node client's lib/codec.js writes the same bytes)::

    0x00 <json utf8>                                  no binary inside
    0x01 <u32 json len> <json> (<u32 len> <bytes>)*   binary parts, referenced
                                                      from the JSON as {"_sc_bin": i}

An empty JSON document is JavaScript's ``undefined``; Python has no such
value, so it decodes to ``None`` (and ``None`` encodes as JSON ``null``).
Big-endian lengths.
"""

import json
import struct

PLAIN = 0
WITH_BINARY = 1
KEY = '_sc_bin'
MAX_DEPTH = 64
_U32 = struct.Struct('>I')
_BINARY = (bytes, bytearray, memoryview)


def has_binary(value, depth=0):
    """Whether bytes hide anywhere in value (lists, tuples, dict values)."""
    if isinstance(value, _BINARY):
        return True
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, (list, tuple)):
        return any(has_binary(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return any(has_binary(v, depth + 1) for v in value.values())
    return False


def _dumps(value):
    """Compact JSON, as JavaScript's JSON.stringify writes it (no spaces)."""
    return json.dumps(value, separators=(',', ':')).encode('utf-8')


def _extract(value, parts):
    """A copy of value with every bytes object replaced by {"_sc_bin": i}."""
    if isinstance(value, _BINARY):
        parts.append(bytes(value))
        return {KEY: len(parts) - 1}
    if isinstance(value, (list, tuple)):
        return [_extract(v, parts) for v in value]
    if isinstance(value, dict):
        return {k: _extract(v, parts) for k, v in value.items()}
    return value


def encode(value):
    """value -> codec bytes (plain JSON, or JSON with out-of-band binary parts)."""
    if not has_binary(value):
        return bytes([PLAIN]) + _dumps(value)
    parts = []
    doc = _dumps(_extract(value, parts))
    out = bytearray([WITH_BINARY])
    out += _U32.pack(len(doc))
    out += doc
    for p in parts:
        out += _U32.pack(len(p))
        out += p
    return bytes(out)


def decode(buf):
    """codec bytes -> value; raises ValueError on bytes that are not a codec value."""
    if not buf:
        return None
    buf = bytes(buf)
    if buf[0] == PLAIN:
        return None if len(buf) == 1 else json.loads(buf[1:].decode('utf-8'))
    if buf[0] != WITH_BINARY or len(buf) < 5:
        raise ValueError('sidecast: unknown value encoding %d' % buf[0])
    (jl,) = _U32.unpack_from(buf, 1)
    if 5 + jl > len(buf):
        raise ValueError('sidecast: codec JSON runs past the value')
    parts = []
    at = 5 + jl
    while at < len(buf):
        if at + 4 > len(buf):
            raise ValueError('sidecast: truncated codec binary part')
        (n,) = _U32.unpack_from(buf, at)
        if at + 4 + n > len(buf):
            raise ValueError('sidecast: codec binary part runs past the value')
        parts.append(buf[at + 4:at + 4 + n])
        at += 4 + n

    def hook(obj):
        if len(obj) == 1 and isinstance(obj.get(KEY), int) and 0 <= obj[KEY] < len(parts):
            return parts[obj[KEY]]
        return obj

    return json.loads(buf[5:5 + jl].decode('utf-8'), object_hook=hook)
