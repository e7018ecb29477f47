'use strict';
// sidecastd restarted under a running socket.io app (SIGTERM, then SIGKILL,
// each followed by a start on the same socket path): the adapter reconnects
// and re-registers; rooms survive, emits resume, no client disconnects.
// Each emit is sent once, after a barrier (h.roomReady), and counted exactly.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

const T = { timeout: 90000 };
let redis, A, B, srvA, srvB;
const clients = [];

/** Barrier before an emit to `room` of "/": A's and B's sidecastd hold sizeA and sizeB members, Redis has the member nodes subscribed. */
function ready(room, sizeA, sizeB) {
  return h.roomReady(redis.port, `/,${room}`, [[srvA.client, sizeA], [srvB.client, sizeB]]);
}


before(async () => {
  redis = await h.startRedis();
  A = await new h.Sidecastd({ redisUrl: redis.url, name: 'A' }).start();
  B = await new h.Sidecastd({ redisUrl: redis.url, name: 'B' }).start();
  srvA = await h.startIo(A.sock);
  srvB = await h.startIo(B.sock);
  for (const s of [srvA, srvB]) {
    s.io.use((socket, next) => {
      socket.data = { tag: 'keep' };
      next();
    });
    s.io.on('connection', (socket) => socket.on('join', (r, cb) => (socket.join(r), cb())));
  }
  await h.waitFor(async () => (await srvA.client.nodes()).length === 2, 15000, 'two nodes');
});

after(async () => {
  for (const c of clients) c.disconnect();
  await srvA.close();
  await srvB.close();
  const codes = [await A.stop(), await B.stop()];
  await redis.stop();
  assert.deepEqual(codes, [0, 0]);
});

for (const signal of ['SIGTERM', 'SIGKILL']) {
  test(`sidecastd ${signal} + start again: rooms survive, emits resume, no client disconnects`, T, async () => {
    const a = await h.connect(srvA.url);
    const b = await h.connect(srvB.url);
    clients.push(a, b);
    const seenA = h.recorder(a);
    const seenB = h.recorder(b);
    let disconnects = 0;
    a.on('disconnect', () => disconnects++);
    b.on('disconnect', () => disconnects++);
    const room = `keep-${signal}`;
    await a.timeout(8000).emitWithAck('join', room);
    await ready(room, 1, 0);
    srvB.io.to(room).emit('before', 1);
    await h.expectCounts([[seenA, 'before', 1]], 'room emit before the restart');
    const reconnected = h.once(srvA.client, 'reconnect', 30000);
    const lost = h.once(srvA.client, 'disconnect', 30000);
    const code = await A.stop(signal);
    assert.equal(code, signal === 'SIGTERM' ? 0 : 137);
    await lost;
    // while sidecastd is down the app keeps working locally...
    srvA.io.to(room).emit('local-while-down', 1);
    await h.expectCounts([[seenA, 'local-while-down', 1]], 'local emit while sidecastd is down');
    // ...and a fetch waits (bounded) for the reconnect
    const pending = srvA.client.rooms([`/,${room}`], 30000);
    await A.start();
    await reconnected;
    const sizes = await pending;
    assert.deepEqual(sizes, [{ name: `/,${room}`, size: 1 }], 'room re-registered after reconnect');
    await ready(room, 1, 0);
    await ready(b.id, 0, 1);
    srvB.io.to(room).emit('after', 2);
    srvA.io.to(b.id).emit('back', 3);
    await h.expectCounts([[seenA, 'after', 1], [seenB, 'back', 1]], 'emits after the restart');
    const list = await h.waitFor(async () => {
      const l = await srvB.io.in(room).fetchSockets();
      return l.length === 1 ? l : null;
    }, 20000, 'fetchSockets after restart');
    assert.equal(list[0].id, a.id);
    assert.deepEqual(list[0].data, { tag: 'keep' }, 'socket data re-registered');
    const where = await h.waitFor(async () => {
      const r = await srvB.io.of('/').adapter.lookup({ sessionId: a.io.engine.id });
      return r.sockets.length ? r : null;
    }, 20000, 'session lookup after restart');
    assert.equal(where.sockets[0].nodeName, 'A');
    assert.ok(a.connected && b.connected);
    assert.equal(disconnects, 0, 'a client connection dropped');
  });
}
