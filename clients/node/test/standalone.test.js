'use strict';
// Standalone sidecastd (no Redis) shared by two socket.io worker processes:
// the cluster APIs work between the workers.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { fork } = require('child_process');
const path = require('path');
const h = require('./harness');

const T = { timeout: 60000 };
let d;
const workers = [];
const clients = [];

function startWorker(name) {
  const child = h.track(fork(path.join(__dirname, 'worker.js'), [], { env: Object.assign({}, process.env, { SOCK: d.sock, NAME: name }) }));
  const w = { child, name, seq: 0, waiting: new Map() };
  child.on('message', (m) => {
    if (m.ready) w.onReady(m.port);
    const r = w.waiting.get(m.id);
    if (r) {
      w.waiting.delete(m.id);
      m.err ? r.reject(new Error(m.err)) : r.resolve(m.v);
    }
  });
  w.call = (msg) =>
    new Promise((resolve, reject) => {
      const id = ++w.seq;
      const t = setTimeout(() => reject(new Error(`worker ${name}: no answer to ${msg.cmd}`)), 20000);
      w.waiting.set(id, { resolve: (v) => (clearTimeout(t), resolve(v)), reject: (e) => (clearTimeout(t), reject(e)) });
      child.send(Object.assign({ id }, msg));
    });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`worker ${name} did not start`)), 20000);
    w.onReady = (port) => {
      clearTimeout(t);
      w.url = `http://127.0.0.1:${port}`;
      resolve(w);
    };
  });
}

before(async () => {
  d = await new h.Sidecastd({ name: 'solo' }).start();
  workers.push(await startWorker('w1'), await startWorker('w2'));
});

after(async () => {
  for (const c of clients) c.disconnect();
  for (const w of workers) {
    await w.call({ cmd: 'close' }).catch(() => {});
    await h.stopChild(w.child);
  }
  assert.equal(await d.stop(), 0);
});

test('two workers share one sidecastd: emits, fetchSockets, broadcast acks, serverSideEmit, serverCount, socketsJoin', T, async () => {
  const [w1, w2] = workers;
  const a = await h.connect(w1.url);
  const b = await h.connect(w2.url);
  clients.push(a, b);
  const seenA = h.recorder(a);
  const seenB = h.recorder(b);
  a.on('ask', (x, cb) => cb(`a${x}`));
  b.on('ask', (x, cb) => cb(`b${x}`));
  await a.timeout(8000).emitWithAck('join', 'shared');
  await b.timeout(8000).emitWithAck('join', 'shared');
  // standalone: registrations are in place once the worker's frames are
  // processed; the barrier is sidecastd's registry
  await h.roomReady(null, '/,shared', [[d, 2]]);
  await h.roomReady(null, `/,${b.id}`, [[d, 1]]);
  assert.deepEqual(await w2.call({ cmd: 'fetch', room: 'shared' }), [a.id, b.id].sort());
  await w2.call({ cmd: 'emit', room: 'shared', ev: 'from-w2', arg: 'hi' });
  await w1.call({ cmd: 'emit', room: b.id, ev: 'direct', arg: 7 });
  await h.expectCounts(
    [[seenA, 'from-w2', 1], [seenB, 'from-w2', 1], [seenA, 'direct', 0], [seenB, 'direct', 1]],
    'room and targeted emits between workers',
  );
  assert.deepEqual(seenA.find((e) => e[0] === 'from-w2'), ['from-w2', 'hi']);
  assert.deepEqual(seenB.find((e) => e[0] === 'direct'), ['direct', 7]);
  assert.deepEqual((await w1.call({ cmd: 'ack', room: 'shared', arg: 1 })).sort(), ['a1', 'b1']);
  await h.expectCounts([[seenA, 'ask', 1], [seenB, 'ask', 1]], 'asked once each');
  assert.equal(await w1.call({ cmd: 'count' }), 2);
  assert.deepEqual(await w1.call({ cmd: 'ssack' }), ['w2']);
  await w1.call({ cmd: 'join', room: 'shared', to: 'joined' });
  await h.waitFor(async () => (await w2.call({ cmd: 'rooms', room: 'joined' })).includes(b.id), 15000, 'socketsJoin in w2');
  assert.deepEqual(await w1.call({ cmd: 'rooms', room: 'joined' }), [a.id]);
});

test('socket.data: an own enumerable property for every socket, assignments reach the sidecar; other adapters\' sockets untouched', T, async () => {
  const x = await h.startIo(d.sock);
  const y = await h.startIo(d.sock);
  // a server of the same socket.io with the in-memory adapter, in the same process
  const plainHttp = require('http').createServer();
  const plain = new (require('socket.io').Server)(plainHttp);
  await new Promise((r) => plainHttp.listen(0, '127.0.0.1', r));
  try {
    x.io.use((socket, next) => {
      socket.data = { early: socket.handshake.auth.n };
      next();
    });
    // several sockets: the first one of a Socket class is converted in place, later ones at construction
    const cs = [];
    for (let n = 0; n < 3; n++) cs.push(await h.connect(x.url, { auth: { n } }));
    clients.push(...cs);
    for (let n = 0; n < 3; n++) {
      const s = x.io.of('/').sockets.get(cs[n].id);
      const desc = Object.getOwnPropertyDescriptor(s, 'data');
      assert.ok(desc && desc.enumerable && desc.configurable, `socket ${n}: own enumerable data`);
      assert.ok(Object.keys(s).includes('data'));
      assert.deepEqual(s.data, { early: n });
      s.data = { n, later: true };
    }
    const seen = await h.waitFor(async () => {
      const list = (await y.io.fetchSockets()).filter((r) => cs.some((c) => c.id === r.id));
      return list.length === 3 && list.every((r) => r.data.later) ? list : null;
    }, 15000, 'assigned data of every socket');
    for (const r of seen) assert.equal(r.data.n, cs.findIndex((c) => c.id === r.id));
    // the in-memory adapter's sockets: a plain data property, as socket.io makes it
    const pc = await h.connect(`http://127.0.0.1:${plainHttp.address().port}`);
    clients.push(pc);
    const ps = plain.of('/').sockets.get(pc.id);
    const pd = Object.getOwnPropertyDescriptor(ps, 'data');
    assert.ok(pd && pd.writable && pd.enumerable && 'value' in pd, 'plain data property');
    ps.data = { z: 1 };
    assert.deepEqual(ps.data, { z: 1 });
  } finally {
    await x.close();
    await y.close();
    await new Promise((r) => plain.close(() => r()));
  }
});

test('handshake option: other servers fetchSockets() see socket.handshake; socket.data assignment', T, async () => {
  const x = await h.startIo(d.sock, { handshake: (s) => ({ auth: s.handshake.auth, address: s.handshake.address }) });
  const y = await h.startIo(d.sock, { handshake: false });
  try {
    const c = await h.connect(x.url, { auth: { tok: 'abc' } });
    clients.push(c);
    const remote = await h.waitFor(async () => (await y.io.fetchSockets()).find((s) => s.id === c.id), 15000, 'fetched');
    assert.deepEqual(remote.handshake.auth, { tok: 'abc' });
    assert.ok(remote.handshake.address);
    assert.deepEqual(remote.data, {});
    x.io.of('/').sockets.get(c.id).data = { n: 1, bin: Buffer.from([9]) };
    const again = await h.waitFor(async () => {
      const r = (await y.io.fetchSockets()).find((s) => s.id === c.id);
      return r && r.data.n === 1 ? r : null;
    }, 15000, 'assigned data');
    assert.deepEqual(Buffer.from(again.data.bin), Buffer.from([9]));
    // with handshake: false (the default is true, as with the Redis adapter), it stays empty
    const c2 = await h.connect(y.url, { auth: { tok: 'hidden' } });
    clients.push(c2);
    const r2 = await h.waitFor(async () => (await x.io.fetchSockets()).find((s) => s.id === c2.id), 15000, 'fetched');
    assert.deepEqual(r2.handshake, {});
  } finally {
    await x.close();
    await y.close();
  }
});
