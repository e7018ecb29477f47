'use strict';
// Byte-level tests of the client's own encoding and decoding code, no
// processes: FrameWriter against protobufjs's Writer (every kind of frame,
// the same bytes), the adapter's broadcast payloads (one-string packets in
// the slab, binary parts) against their layout, and the fetchSockets entry
// decoder (rooms, data, ids kept from one answer for the next) against
// protobufjs's decoder. Inputs are generated with a fixed seed, so a failure
// repeats.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { Writer, Reader } = require('protobufjs/minimal');
const { Frame, SocketInfo } = require('../lib/proto').sidecast.v1;
const { FrameWriter } = require('../lib/writer');
const { _internals } = require('../lib/adapter');

const { encodeBroadcast, decodeBroadcast, decodeEntry, fetchContext, idStore, wsFrame, wsFrameOfBytes } = _internals;

// byte equality without a diff of megabytes when it fails
function sameBytes(got, want, what) {
  const a = Buffer.from(got.buffer, got.byteOffset, got.length);
  const b = Buffer.from(want.buffer, want.byteOffset, want.length);
  if (a.equals(b)) return;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  assert.fail(`${what}: ${a.length} bytes, want ${b.length}; first difference at ${i}`);
}

// xorshift32: the same inputs on every run
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

// strings that exercise every UTF-8 path: ASCII, 2-, 3- and 4-byte
// characters, lone surrogates, and lengths around protobufjs's 40-unit
// switch and the 128-byte varint boundary
const PIECES = ['a', 'Z', '/', ',', '\u00e9', '\u00ff', '\u4e2d', '\u20ac', '\ud83d\ude00', '\ud800', '\udfff', '\0', '"'];
function str(r, max) {
  const n = Math.floor(r() * max);
  let s = '';
  while (s.length < n) s += PIECES[Math.floor(r() * PIECES.length)];
  return s;
}
function bytes(r, max) {
  const b = Buffer.alloc(Math.floor(r() * max));
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256);
  return r() < 0.5 ? b : new Uint8Array(b);
}
function strs(r, n, max) {
  return Array.from({ length: Math.floor(r() * n) }, () => str(r, max));
}
function selector(r) {
  return {
    rooms: strs(r, 4, 60),
    socketIds: strs(r, 3, 30),
    all: r() < 0.3,
    exceptRooms: strs(r, 2, 30),
    exceptIds: strs(r, 2, 30),
    userIds: strs(r, 2, 30),
  };
}
const BIG = [0, 1, 127, 128, 16383, 16384, 2 ** 31 - 1, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1];
function num(r) {
  return r() < 0.5 ? BIG[Math.floor(r() * BIG.length)] : Math.floor(r() * 2 ** 40);
}
const flag = (r) => r() < 0.5;

// one frame of each kind the client sends, and some it only receives
const KINDS = [
  (r) => ({ id: num(r), hello: { protocolVersion: 1, clientName: str(r, 50), pid: Math.floor(r() * 99999) } }),
  (r) => ({
    socketUp: { socketId: str(r, 30), sessionId: str(r, 30), userId: str(r, 10), data: bytes(r, 300), rooms: strs(r, 6, 80) },
  }),
  (r) => ({ socketDown: { socketId: str(r, 30) } }),
  (r) => ({ join: { socketId: str(r, 30), rooms: strs(r, 5, 50) } }),
  (r) => ({ leave: { socketId: str(r, 30), rooms: strs(r, 5, 50) } }),
  (r) => ({ setData: { socketId: str(r, 30), data: bytes(r, 20000) } }),
  (r) => ({
    emit: { to: selector(r), payload: bytes(r, r() < 0.2 ? 70000 : 300), volatile: flag(r), includeSelf: flag(r), local: flag(r) },
  }),
  (r) => ({ id: num(r), emit: { to: selector(r), payload: bytes(r, 200), wantAck: true } }),
  (r) => ({ id: num(r), ping: { nonce: num(r) } }),
  (r) => ({
    id: num(r),
    fetchSockets: { filter: selector(r), withData: flag(r), withRooms: flag(r), local: flag(r), excludeSelf: flag(r) },
  }),
  (r) => ({
    id: num(r),
    apply: { filter: selector(r), join: strs(r, 3, 20), leave: strs(r, 3, 20), disconnect: flag(r), close: flag(r) },
  }),
  (r) => ({ id: num(r), serverEmit: { payload: bytes(r, 500), wantAck: flag(r), local: flag(r) } }),
  (r) => ({
    ack: {
      ackId: num(r),
      expect: Math.floor(r() * 1000),
      payloads: Array.from({ length: Math.floor(r() * 4) }, () => bytes(r, 100)),
      done: flag(r),
    },
  }),
  (r) => ({ id: num(r), error: { code: r() < 0.5 ? -1 : 3, message: str(r, 100), ref: str(r, 20) } }),
  (r) => ({
    id: num(r),
    socketList: {
      sockets: Array.from({ length: Math.floor(r() * 5) }, () => ({
        socketId: str(r, 25),
        rooms: strs(r, 4, 30),
        data: bytes(r, 50),
        nodeId: str(r, 16),
      })),
      more: flag(r),
    },
  }),
  (r) => ({ id: num(r), sessionSet: { sessionId: str(r, 20), set: [{ key: str(r, 10), value: bytes(r, 50) }], delete: strs(r, 2, 10) } }),
  (r) => ({ gap: { fromUnixMs: num(r), toUnixMs: num(r), reason: str(r, 30) } }),
];

test('FrameWriter writes the bytes protobufjs writes, for every kind of frame', () => {
  const r = rng(7);
  let n = 0;
  for (let round = 0; round < 60; round++)
    for (const kind of KINDS) {
      const f = kind(r);
      const want = Frame.encode(f, Writer.create()).finish();
      const got = Frame.encode(f, new FrameWriter(1 + Math.floor(r() * 64))).finish();
      sameBytes(got, want, `frame ${JSON.stringify(Object.keys(f))}, round ${round}`);
      n++;
    }
  assert.equal(n, 60 * KINDS.length);
});

test('FrameWriter: many frames in one buffer, sub-message lengths across every varint boundary', () => {
  const w = new FrameWriter(8);
  const p = new Writer();
  // a SetData body is 2 (empty socket id) + 1 (tag) + varint(k) + k bytes
  const bodies = [];
  for (const edge of [128, 16384, 2097152]) for (let b = edge - 4; b <= edge + 4; b++) bodies.push(b);
  for (const body of bodies) {
    let k = body - 4;
    while (3 + (k < 128 ? 1 : k < 16384 ? 2 : 3) + k < body) k++;
    while (3 + (k < 128 ? 1 : k < 16384 ? 2 : 3) + k > body) k--;
    const f = { setData: { socketId: '', data: Buffer.alloc(k, k & 0xff) } };
    Frame.encode(f, w);
    Frame.encode(f, p);
  }
  sameBytes(w.finish(), p.finish(), 'frames with bodies of ' + bodies.join(', ') + ' bytes');
});

test('FrameWriter.truncate takes back a frame whose encoding threw', () => {
  const w = new FrameWriter(16);
  Frame.encode({ socketDown: { socketId: 'a' } }, w);
  const good = w.len;
  assert.throws(() => Frame.encode({ join: { socketId: 'b', rooms: ['ok', 5] } }, w), TypeError);
  w.truncate(good);
  Frame.encode({ socketDown: { socketId: 'c' } }, w);
  const want = Buffer.concat([
    Frame.encode({ socketDown: { socketId: 'a' } }).finish(),
    Frame.encode({ socketDown: { socketId: 'c' } }).finish(),
  ]);
  sameBytes(w.finish(), want, 'the two frames around the one taken back');
});

// the payload layout of adapter.js's header comment, built the plain way
function broadcastBytes(s, f, timeoutMs) {
  const head = timeoutMs != null ? Buffer.alloc(6) : Buffer.alloc(2);
  head[0] = 1;
  head[1] = f | (timeoutMs != null ? 4 : 0);
  if (timeoutMs != null) head.writeUInt32BE(timeoutMs, 2);
  return Buffer.concat([head, Buffer.from(s, 'utf8')]);
}

test('broadcast payloads: one-string packets (slab and large), every earlier payload intact', () => {
  const r = rng(11);
  const kept = [];
  // enough payloads to fill several slabs; some too large for one
  for (let i = 0; i < 3000; i++) {
    const s = i % 500 === 7 ? str(r, 40000) : i % 97 === 0 ? '' : '2["m",' + i + ',' + JSON.stringify(str(r, 300)) + ']';
    const flags = { volatile: r() < 0.3, compress: r() < 0.3 };
    const timeout = r() < 0.2 ? Math.floor(r() * 100000) : null;
    const p = encodeBroadcast([s], flags, timeout);
    const f = (flags.compress ? 1 : 0) | (flags.volatile ? 2 : 0);
    kept.push([p, broadcastBytes(s, f, timeout), s, timeout]);
  }
  for (const [p, want, s, timeout] of kept) {
    sameBytes(p, want, 'payload of ' + s.length + ' UTF-16 units');
    const back = decodeBroadcast(Buffer.from(p.buffer, p.byteOffset, p.length));
    assert.deepEqual(back.packets, [Buffer.from(s, 'utf8').toString('utf8')]); // lone surrogates: U+FFFD, as before
    assert.equal(back.timeoutMs, timeout == null ? 0 : timeout);
  }
});

test('broadcast payloads: binary parts round-trip', () => {
  const parts = [
    '51-["m",{"_placeholder":true,"num":0},"\u00e9"]',
    Buffer.from([0, 1, 2, 255]),
    new Uint8Array(0),
    Buffer.alloc(70000, 9),
  ];
  for (const timeout of [null, 5000]) {
    const p = encodeBroadcast(parts, { volatile: true }, timeout);
    const back = decodeBroadcast(Buffer.from(p.buffer, p.byteOffset, p.length));
    assert.equal(back.packets.length, 4);
    assert.equal(back.packets[0], parts[0]);
    for (let i = 1; i < 4; i++) sameBytes(back.packets[i], parts[i], 'part ' + i);
    assert.equal(back.flags & 2, 2);
    assert.equal(back.timeoutMs, timeout || 0);
  }
});

test('WebSocket frames: one buffer with the bytes of ws.Sender.frame(), from the string or from its UTF-8 bytes', () => {
  const ws = require(require.resolve('ws', { paths: [require.resolve('socket.io')] }));
  const wsBytes = (s) =>
    Buffer.concat(ws.Sender.frame(Buffer.from('4' + s), { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true }));
  const r = rng(17);
  const texts = ['', 'a'];
  for (const edge of [125, 65535]) for (let n = edge - 3; n <= edge + 3; n++) texts.push('y'.repeat(n));
  for (let i = 0; i < 200; i++) texts.push(str(r, i % 50 === 0 ? 70000 : 300));
  for (const s of texts) {
    const want = wsBytes(s);
    const a = wsFrame(s);
    assert.equal(a.length, 1);
    sameBytes(a[0], want, `frame of ${s.length} units`);
    // as a Deliver payload: [kind, flags] + the text's UTF-8
    const p = Buffer.concat([Buffer.from([1, 0]), Buffer.from(s, 'utf8')]);
    const b = wsFrameOfBytes(p, 2, p.length, p.toString('utf8', 2));
    assert.equal(b.length, 1);
    sameBytes(b[0], want, `frame of the bytes of ${s.length} units`); // lone surrogates: EF BF BD either way
  }
  // bytes that are not UTF-8: the frame of the string they decode to (U+FFFD for each bad sequence)
  for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0x61, 0x80, 0x62], [0xf4, 0x90, 0x80, 0x80]]) {
    const p = Buffer.from([1, 0, ...bad]);
    const s = p.toString('utf8', 2);
    sameBytes(wsFrameOfBytes(p, 2, p.length, s)[0], wsBytes(s), `bytes ${bad}`);
  }
});

// one answer: SocketInfos encoded by protobufjs, decoded by decodeEntry
function answer(infos, prev) {
  const bufs = infos.map((i) => Buffer.from(SocketInfo.encode(i).finish()));
  const buf = Buffer.concat(bufs);
  const ctx = fetchContext(Buffer.from('/,'), prev);
  let at = 0;
  for (const b of bufs) {
    decodeEntry(buf, at, at + b.length, ctx);
    at += b.length;
  }
  return ctx;
}

// what decodeEntry must find in one SocketInfo (protobufjs decodes it)
function expected(info) {
  const s = SocketInfo.decode(SocketInfo.encode(info).finish());
  const rooms = s.rooms.filter((k) => k.length > 2 && k.startsWith('/,')).map((k) => k.slice(2));
  return { id: s.socketId, rooms, data: s.data.length ? Buffer.from(s.data) : undefined };
}

function check(ctx, infos) {
  assert.equal(ctx.list.length, infos.length);
  infos.forEach((info, i) => {
    const want = expected(info);
    const got = ctx.list[i];
    assert.equal(got.id, want.id, `entry ${i} id`);
    assert.deepEqual(got.rooms, want.rooms, `entry ${i} rooms`);
    if (want.data) sameBytes(got.data, want.data, `entry ${i} data`);
    else assert.deepEqual([got.data, got.handshake], [{}, {}], `entry ${i} without data`);
  });
}

test('fetchSockets entries: ids, own room, other rooms, other namespaces, data', () => {
  const r = rng(5);
  const infos = [];
  for (let i = 0; i < 300; i++) {
    const id = i % 50 === 3 ? str(r, 30) : 'id' + i.toString(36).padStart(18, 'x');
    const rooms = ['/', '/,' + id, '/,bench', '/chat,bench', '/,' + str(r, 200), '/,' + id.slice(0, -1) + '!'];
    const data = i % 4 ? undefined : bytes(r, 300);
    infos.push({ socketId: id, sessionId: 's' + i, userId: i % 3 ? '' : 'u' + i, nodeId: 'n'.repeat(16), rooms, data });
  }
  infos.push({ rooms: ['/,x'] }); // no id at all
  infos.push({ socketId: 'last' }); // no rooms
  check(answer(infos, idStore(0, 0)), infos);
});

test('fetchSockets entries: ids kept from the previous answer only where the bytes match', () => {
  const r = rng(9);
  const mk = (id) => ({ socketId: id, rooms: ['/', '/,' + id, '/,r'] });
  const ids = Array.from({ length: 200 }, (_, i) => 'sock' + i.toString(36).padStart(16, '0'));
  let prev = idStore(0, 0);
  const first = ids.map(mk);
  let ctx = answer(first, prev);
  check(ctx, first);
  prev = ctx.next;
  // the same ids, then changed, shifted, longer, shorter, non-ASCII ones
  const second = ids.map((id, i) =>
    mk(
      i % 7 === 0
        ? id.slice(0, -1) + 'Z'
        : i % 11 === 0
          ? id + 'x'
          : i % 13 === 0
            ? id.slice(1)
            : i % 17 === 0
              ? '\u00e9' + id.slice(2)
              : id,
    ),
  );
  second.splice(50, 0, mk('inserted-' + str(r, 10)));
  ctx = answer(second, prev);
  check(ctx, second);
  prev = ctx.next;
  const third = second.slice(100).concat(second.slice(0, 100)); // another order
  ctx = answer(third, prev);
  check(ctx, third);
  ctx = answer([], ctx.next);
  assert.equal(ctx.list.length, 0);
});

test('fetchSockets entries: an entry cut inside a field throws, none is read past its end', () => {
  const info = {
    socketId: 'abc',
    sessionId: 'sess',
    userId: 'u',
    data: Buffer.from([0, 1]),
    rooms: ['/,abc', '/,room'],
    nodeId: 'node',
  };
  const b = Buffer.from(SocketInfo.encode(info).finish());
  // where protobufjs's reader finds the fields' ends
  const ends = new Set([0]);
  const rd = Reader.create(b);
  while (rd.pos < b.length) {
    rd.skipType(rd.uint32() & 7);
    ends.add(rd.pos);
  }
  for (let end = 1; end < b.length; end++) {
    const ctx = fetchContext(Buffer.from('/,'), idStore(0, 0));
    // the bytes after the end would make a longer field look complete
    const buf = Buffer.concat([b.subarray(0, end), Buffer.alloc(300, 0x01)]);
    if (ends.has(end)) {
      decodeEntry(buf, 0, end, ctx);
      check(ctx, [SocketInfo.decode(b.subarray(0, end))]);
    } else assert.throws(() => decodeEntry(buf, 0, end, ctx), RangeError, `cut at ${end}`);
  }
});
