'use strict';
// The protocol client on its own against a standalone sidecastd: requests,
// typed errors, calls while disconnected (bounded), re-registration.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const h = require('./harness');
const { SidecastClient, SidecastError, TimeoutError, DisconnectedError, ErrorCode, Feature, CLIENT_FEATURES, PROTOCOL_VERSION } = require('..');
const { Frame } = require('../lib/proto').sidecast.v1;
const { num } = require('../lib/client');

const T = { timeout: 60000 };
let d;

before(async () => {
  d = await new h.Sidecastd({ name: 'solo' }).start();
});
after(async () => {
  assert.equal(await d.stop(), 0);
});

test('deliver, fetch, rooms, stats, nodes, lookup, session data', T, async () => {
  const a = new SidecastClient({ path: d.sock, name: 'test-a' });
  const b = new SidecastClient({ path: d.sock, name: 'test-b' });
  await Promise.all([a.ready(), b.ready()]);
  assert.ok(a.nodeId && a.nodeName === 'solo');
  b.socketUp('s1', { sessionId: 'sess-1', userId: 'u1', data: Buffer.from([1, 2]), rooms: ['r'] });
  await b.ping(); // barrier: s1 and its room registered
  const delivered = [];
  const onDeliver = (x) => delivered.push(x);
  b.on('deliver', onDeliver);
  a.broadcast({ rooms: ['r'] }, Buffer.from([0, 255]));
  await h.exactly(() => delivered.length, 1, 'one Deliver for one broadcast');
  b.off('deliver', onDeliver); // without a listener, b answers acked broadcasts itself (below)
  const [dv] = delivered;
  assert.deepEqual(dv.socketIds, ['s1']);
  assert.deepEqual(Buffer.from(dv.payload), Buffer.from([0, 255]));
  const list = await a.fetchSockets({ rooms: ['r'] }, { withData: true, withRooms: true });
  assert.equal(list.length, 1);
  assert.deepEqual(Buffer.from(list[0].data), Buffer.from([1, 2]));
  assert.deepEqual(list[0].rooms, ['r']);
  assert.deepEqual(await a.rooms(['r', 'none']), [{ name: 'r', size: 1 }, { name: 'none', size: 0 }]);
  const stats = await a.stats();
  assert.equal(stats.sockets, 1);
  assert.equal((await a.nodes()).length, 1);
  const l = await a.lookup({ sessionId: 'sess-1' });
  assert.equal(l.sockets[0].socketId, 's1');
  assert.deepEqual(await a.presence('u1'), { online: true, sockets: 1, nodes: 1 });
  await a.sessionSet('sess-1', { k: 'v' });
  const sd = await a.sessionGet('sess-1');
  assert.equal(sd.entries.k.toString(), 'v');
  assert.equal(sd.connected, true);
  // broadcast with acks from a client without an adapter: b answers done at once
  const last = await a.broadcastWithAck({ rooms: ['r'] }, 'x', {}, null, 10000);
  assert.equal(last.done, true);
  await a.close();
  await b.close();
});

test('typed errors: refusals, fatal-free INVALID, async DUPLICATE', T, async () => {
  const a = new SidecastClient({ path: d.sock });
  const b = new SidecastClient({ path: d.sock });
  await Promise.all([a.ready(), b.ready()]);
  const err = await a.apply({ filter: { all: true } }).catch((e) => e);
  assert.ok(err instanceof SidecastError);
  assert.equal(err.code, 'INVALID');
  assert.equal(ErrorCode.INVALID, 8);
  a.socketUp('dup', {});
  await a.ping();
  const refused = h.once(b, 'refused');
  b.socketUp('dup', {});
  const [e] = await refused;
  assert.equal(e.code, 'DUPLICATE');
  assert.equal(e.ref, 'dup');
  assert.ok(!b.mirror.sockets.has('dup'), 'refused socket stays in the mirror');
  // a payload over max_frame_bytes is refused here, not sent (sidecastd would close the connection)
  const big = Buffer.alloc(a.maxFrameBytes + 1);
  const dropped = h.once(a, 'dropped');
  assert.equal(a.broadcast({ rooms: ['r'] }, big), false);
  assert.equal((await dropped)[1].code, 'TOO_LARGE');
  const tooBig = await a.serverEmit(big).catch((x) => x);
  assert.equal(tooBig.code, 'TOO_LARGE');
  assert.equal(a.counters.refusedTooLarge, 2);
  await a.ping();
  assert.ok(a.connected);
  await a.close();
  await b.close();
  const closed = await a.ping().catch((x) => x);
  assert.ok(closed instanceof DisconnectedError);
  assert.equal(closed.code, 'CLOSED');
});

test('a frame that cannot be encoded throws and the connection stays whole', T, async () => {
  const a = new SidecastClient({ path: d.sock, name: 'test-encode' });
  await a.ready();
  a.sendSocketUp({ socketId: 'enc-1', rooms: ['r1'] });
  // a room that is no string: the encoder throws half-way through the frame
  assert.throws(() => a.sendJoin('enc-1', ['r2', 5]), TypeError);
  a.sendJoin('enc-1', ['r3']); // same batch, after the bad one
  const list = await a.fetchSockets({ socketIds: ['enc-1'] }, { withRooms: true });
  assert.deepEqual(list.map((x) => x.rooms.sort()), [['r1', 'r3']]);
  assert.equal(a.counters.reconnects, 0, 'sidecastd closed the connection');
  assert.ok(a.connected);
  await a.close();
});

test('calls while disconnected wait (bounded), then re-registration', T, async () => {
  const dir = h.tmpdir('sidecast-node-late-');
  const late = new h.Sidecastd({ name: 'late', dir });
  const c = new SidecastClient({ path: late.sock, reconnectMin: 20, reconnectMax: 100, queueLimit: 3, timeout: 20000 });
  // no sidecastd yet: a call with a short timeout fails with TimeoutError
  const t = await c.ping(200).catch((e) => e);
  assert.ok(t instanceof TimeoutError, `got ${t}`);
  // the queue is bounded
  const waiting = [c.ping(), c.ping(), c.ping()];
  const full = await c.ping().catch((e) => e);
  assert.equal(full.code, 'QUEUE_FULL');
  c.socketUp('m1', { sessionId: 'x', rooms: ['room-a'], data: 'd' });
  await late.start();
  await Promise.all(waiting);
  const list = await c.fetchSockets({}, { withData: true, withRooms: true });
  assert.deepEqual(list.map((s) => [s.socketId, s.rooms, s.data.toString()]), [['m1', ['room-a'], 'd']]);
  // restart: the mirror is registered again
  const again = h.once(c, 'reconnect', 20000);
  assert.equal(await late.stop(), 0);
  await late.start();
  await again;
  c.join('m1', ['room-b']);
  const after = await c.fetchSockets({ rooms: ['room-b'] }, { withRooms: true });
  assert.deepEqual(after[0].rooms.sort(), ['room-a', 'room-b']);
  assert.equal(c.counters.reconnects, 1);
  await c.close();
  assert.equal(await late.stop(), 0);
});

test('version negotiation: the Welcome\'s features and versions, nodes with versions', T, async () => {
  const a = new SidecastClient({ path: d.sock, name: 'test-features' });
  assert.equal(a.serverFeatures, 0);
  await a.ready();
  assert.ok(a.serverFeatures & Feature.NODE_VERSIONS, `serverFeatures ${a.serverFeatures}`);
  assert.ok(a.hasFeatures(Feature.NODE_VERSIONS));
  assert.equal(a.serverProtocolVersion, PROTOCOL_VERSION);
  assert.ok(a.minProtocolVersion >= 1 && a.minProtocolVersion <= PROTOCOL_VERSION);
  const [n] = await a.nodes();
  assert.equal(n.self, true);
  assert.ok(Number.isInteger(n.version) && n.version >= 1, `version ${n.version}`);
  assert.ok(Number.isInteger(n.features), `features ${n.features}`);
  await a.close();
});

/** A sidecastd from before negotiation: no features in its Welcome; odd values in NodeInfo. */
async function oldSidecastd(sock, seen) {
  const net = require('net');
  const srv = net.createServer((c) => {
    let buf = Buffer.alloc(0);
    c.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        const f = Frame.decode(buf.subarray(4, 4 + buf.readUInt32BE(0)));
        buf = buf.subarray(4 + buf.readUInt32BE(0));
        let reply;
        if (f.hello) {
          seen.hello = f.hello;
          reply = { id: f.id, welcome: { protocolVersion: 1, nodeId: 'old-node', nodeName: 'old', maxFrameBytes: 1 << 20 } };
        } else if (f.nodes) {
          reply = { id: f.id, nodeList: { nodes: [{ nodeId: 'old-node', nodeName: 'old', self: true, version: 77, features: 255 }] } };
        } else {
          reply = { id: f.id, pong: {} };
        }
        const body = Frame.encode(reply).finish();
        const hdr = Buffer.alloc(4);
        hdr.writeUInt32BE(body.length);
        c.write(Buffer.concat([hdr, body]));
      }
    });
  });
  await new Promise((r) => srv.listen(sock, r));
  return srv;
}

test('a sidecastd from before negotiation: features 0, node versions unknown', T, async () => {
  const dir = h.tmpdir('sidecast-node-old-');
  const seen = {};
  const srv = await oldSidecastd(path.join(dir, 'old.sock'), seen);
  const a = new SidecastClient({ path: path.join(dir, 'old.sock'), name: 'test-old' });
  try {
    await a.ready();
    assert.equal(num(seen.hello.features), CLIENT_FEATURES, 'the Hello says what the client has');
    assert.equal(a.serverFeatures, 0);
    assert.equal(a.minProtocolVersion, 0);
    assert.equal(a.hasFeatures(Feature.NODE_VERSIONS), false);
    assert.deepEqual(await a.nodes(), [{ nodeId: 'old-node', nodeName: 'old', self: true, version: null, features: null }]);
  } finally {
    await a.close();
    await new Promise((r) => srv.close(r));
    require('fs').rmSync(dir, { recursive: true, force: true });
  }
});

test('package entry points', T, () => {
  const pkg = require('..');
  assert.equal(typeof pkg.createAdapter, 'function');
  assert.equal(typeof pkg.SidecastAdapter, 'function');
  assert.equal(require(path.join(__dirname, '..', 'package.json')).name, 'sidecast');
});
