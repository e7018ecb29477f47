'use strict';
// Issue 15: the adapter behaves like @socket.io/redis-adapter wherever an
// app can tell, with its defaults. Three nodes (sidecastd + socket.io
// server each) on one Redis; node C's app never answers server-side emits.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const h = require('./harness');
const { SidecastClient, enableForwarding } = require('..');

const T = { timeout: 60000 };
const MiB = 1024 * 1024;
let redis;
const nodes = {}; // name -> {d, srv, logs}
const clients = [];

function logger(into) {
  return { warn: (m) => into.push(['warn', m]), info: (m) => into.push(['info', m]) };
}

async function startNode(name, adapterOpts = {}) {
  const d = await new h.Sidecastd({ redisUrl: redis.url, name }).start();
  const logs = [];
  const srv = await h.startIo(d.sock, Object.assign({ logger: logger(logs) }, adapterOpts));
  srv.io.on('connection', (socket) => {
    socket.data = { node: name, score: 0, tags: [] };
    socket.on('score', (n, cb) => {
      socket.data.score = n; // in place: no assignment of socket.data
      socket.data.tags.push(`t${n}`);
      cb();
    });
    socket.on('later', async (n, cb) => {
      socket.data.late = await new Promise((r) => setTimeout(() => r(n), 30)); // read before the await, changed after
      cb();
    });
    socket.on('slow', async (n, cb) => {
      // an await longer than the 100 ms re-check: the ack packet re-checks
      socket.data.slow = await new Promise((r) => setTimeout(() => r(n), 250));
      cb();
    });
  });
  return { d, srv, logs };
}

before(async () => {
  redis = await h.startRedis();
  nodes.a = await startNode('a-node');
  nodes.b = await startNode('b-node');
  // C answers nothing to a server-side emit: its node never reports
  nodes.c = await startNode('c-node');
  nodes.c.srv.io.on('ping-servers', () => {});
  nodes.b.srv.io.on('ping-servers', (cb) => cb('b'));
  nodes.a.srv.io.on('ping-servers', (cb) => cb('a'));
  // every node knows the other two (membership announcements)
  for (const n of Object.values(nodes))
    await h.waitFor(async () => (await n.srv.client.nodes()).length === 3, 15000, 'three nodes');
});

after(async () => {
  for (const c of clients) c.close();
  for (const n of Object.values(nodes)) {
    await n.srv.close();
    await n.d.stop();
  }
  if (redis) await redis.stop();
});

async function client(node, opts) {
  const c = await h.connect(node.srv.url, opts);
  clients.push(c);
  return c;
}

test('item 2: a 1 MiB emit reaches everyone once; one over the limit reaches nobody and is reported, thrown, counted', T, async () => {
  const { a, b } = nodes;
  const ca = await client(a);
  const cb = await client(b);
  const seenA = h.recorder(ca);
  const seenB = h.recorder(cb);
  const ioA = a.srv.io;
  const adapterA = ioA.of('/').adapter;
  // barrier: both registries hold their socket in "/", Redis has both nodes' subscriptions
  await h.roomReady(redis.port, '/', [[a.srv.client, 1], [b.srv.client, 1], [nodes.c.srv.client, 0]]);
  assert.equal(a.srv.client.maxPayloadBytes, 16 * MiB, "the Welcome's max_payload_bytes");
  const one = 'x'.repeat(MiB);
  ioA.emit('big', one);
  await h.expectCounts([[seenA, 'big', 1], [seenB, 'big', 1]], '1 MiB emit');
  assert.equal(seenB.find((e) => e[0] === 'big')[1].length, MiB);

  const errors = [];
  adapterA.on('error', (e) => errors.push(e));
  const before = a.srv.client.counters.refusedTooLarge;
  const huge = 'y'.repeat(16 * MiB + 1);
  assert.throws(() => ioA.emit('huge', huge), (e) => e.code === 'TOO_LARGE' && /max_payload_bytes/.test(e.message));
  assert.throws(() => ioA.to('nowhere').except('x').emit('huge', huge), { code: 'TOO_LARGE' });
  await assert.rejects(ioA.timeout(2000).emitWithAck('huge', huge), { code: 'TOO_LARGE' });
  await assert.rejects(ioA.serverSideEmitWithAck('huge', huge), { code: 'TOO_LARGE' });
  assert.throws(() => ioA.serverSideEmit('huge', huge), { code: 'TOO_LARGE' });
  await h.settle(a.srv.client, b.srv.client);
  await h.expectCounts([[seenA, 'huge', 0], [seenB, 'huge', 0]], 'refused emits delivered to nobody', { drain: 500 });
  assert.equal(errors.length, 5, 'one error event per refused emit');
  assert.equal(adapterA.stats.refusedTooLarge, 5);
  assert.equal(a.srv.client.counters.refusedTooLarge - before, 5);
  // .local never leaves the process: no limit of sidecastd's
  ioA.local.emit('local-huge', 'z'.repeat(MiB));
  await h.expectCounts([[seenA, 'local-huge', 1], [seenB, 'local-huge', 0]], 'local emit');
  adapterA.removeAllListeners('error');
});

test('item 3: remote sockets of fetchSockets() have socket.handshake by default; handshake: false / a function', T, async () => {
  const { a, b } = nodes;
  const ca = await client(a, { auth: { user: 'ann' }, query: { room: 'r1' } });
  const remote = await h.waitFor(async () => (await b.srv.io.fetchSockets()).find((s) => s.id === ca.id), 10000, 'socket in fetch');
  assert.deepEqual(remote.handshake.auth, { user: 'ann' });
  assert.equal(remote.handshake.query.room, 'r1');
  assert.equal(typeof remote.handshake.headers.host, 'string');
  assert.equal(remote.handshake.address, '127.0.0.1');
  assert.equal(typeof remote.handshake.issued, 'number');
  const local = a.srv.io.of('/').sockets.get(ca.id);
  assert.deepEqual(remote.handshake, JSON.parse(JSON.stringify(local.handshake)));

  // a second socket.io server on node A's sidecastd with the opt-out, one with a picker
  const off = await h.startIo(a.d.sock, { handshake: false, logger: false });
  const pick = await h.startIo(a.d.sock, { handshake: (s) => ({ auth: s.handshake.auth }), logger: false });
  try {
    const c1 = await client({ srv: off }, { auth: { user: 'bob' } });
    const c2 = await client({ srv: pick }, { auth: { user: 'cy' } });
    const got = await h.waitFor(async () => {
      const all = await b.srv.io.fetchSockets();
      const x = all.find((s) => s.id === c1.id);
      const y = all.find((s) => s.id === c2.id);
      return x && y && [x, y];
    }, 10000, 'both sockets in fetch');
    assert.deepEqual(got[0].handshake, {});
    assert.deepEqual(got[1].handshake, { auth: { user: 'cy' } });
  } finally {
    await off.close();
    await pick.close();
  }
});

test('item 3: a remote handshake is parsed when read, a new object per fetch; data split from it exactly', T, async () => {
  const { a, b } = nodes;
  assert.equal(b.srv.io.of('/').adapter._peers.lazyHandshake, true, 'RemoteSocket takes the handshake accessor');
  const ca = await client(a, { auth: { user: 'dee' } });
  const sa = a.srv.io.of('/').sockets.get(ca.id);
  // data whose JSON holds every delimiter the split must not stop at
  const tricky = { s: 'a,]}"\\[{', n: null, list: [1, [2, { x: ',' }]], u: 'é,ü]' };
  sa.data = tricky;
  const fetchOne = async () => (await b.srv.io.fetchSockets()).find((s) => s.id === ca.id);
  const r1 = await h.waitFor(async () => {
    const r = await fetchOne();
    return r && r.data && r.data.s === tricky.s && r;
  }, 10000, 'data on node b');
  assert.deepEqual(r1.data, tricky);
  const want = JSON.parse(JSON.stringify(sa.handshake));
  assert.deepEqual(r1.handshake, want);
  assert.ok(Object.keys(r1).includes('handshake'), 'an own enumerable property once read');
  assert.equal(r1.handshake, r1.handshake, 'parsed once');
  r1.handshake.auth.user = 'changed';
  const r2 = await fetchOne();
  assert.deepEqual(r2.handshake, want, 'a new object per fetch');
  assert.equal(JSON.parse(JSON.stringify({ h: (await fetchOne()).handshake })).h.auth.user, 'dee');
  const r3 = await fetchOne();
  r3.handshake = { mine: true }; // assigned before any read
  assert.deepEqual(r3.handshake, { mine: true });
  // binary data: decoded whole, handshake included
  sa.data = { bin: Buffer.from([1, 2, 3]), s: ',' };
  const r4 = await h.waitFor(async () => {
    const r = await fetchOne();
    return r && r.data && r.data.bin && r;
  }, 10000, 'binary data on node b');
  assert.deepEqual([...r4.data.bin], [1, 2, 3]);
  assert.deepEqual(r4.handshake, want);
  // socket.data null and {}: as before
  sa.data = null;
  assert.equal(await h.waitFor(async () => (await fetchOne()).data === null, 10000, 'null data'), true);
  sa.data = {};
  const r5 = await h.waitFor(async () => {
    const r = await fetchOne();
    return r && r.data && Object.keys(r.data).length === 0 && r;
  }, 10000, 'empty data');
  assert.deepEqual(r5.handshake, want);
});

test('item 4: in-place socket.data changes are visible to other nodes at once, after an await too', T, async () => {
  const { a, b } = nodes;
  const ca = await client(a);
  const fetchData = async () => (await b.srv.io.fetchSockets()).find((s) => s.id === ca.id).data;
  await h.waitFor(async () => (await b.srv.io.fetchSockets()).some((s) => s.id === ca.id), 10000, 'socket registered');
  assert.deepEqual(await fetchData(), { node: 'a-node', score: 0, tags: [] });
  await ca.timeout(5000).emitWithAck('score', 7);
  // no wait, no syncData(): the change was flushed before the turn ended
  assert.deepEqual(await fetchData(), { node: 'a-node', score: 7, tags: ['t7'] });
  await ca.timeout(5000).emitWithAck('later', 5);
  assert.deepEqual(await fetchData(), { node: 'a-node', score: 7, tags: ['t7'], late: 5 });
  await ca.timeout(5000).emitWithAck('slow', 9);
  assert.deepEqual(await fetchData(), { node: 'a-node', score: 7, tags: ['t7'], late: 5, slow: 9 });
  // a change made on the owning node right before a remote fetch is asked for
  const sa = a.srv.io.of('/').sockets.get(ca.id);
  sa.data.tags.push('direct');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual((await fetchData()).tags, ['t7', 'direct']);
  const stats = a.srv.io.of('/').adapter.stats;
  assert.ok(stats.dataSent >= 3, `data sent ${stats.dataSent}`);
});

test('item 4: kept fetch answers: an unchanged node answers "unchanged"; any change there gives its new state at once', T, async () => {
  const { a, b, c } = nodes;
  const ca = await client(a);
  const cc = await client(c);
  const io = b.srv.io;
  await h.waitFor(async () => (await io.fetchSockets()).some((s) => s.id === cc.id), 10000, 'sockets registered');
  const unchanged = async () => (await a.srv.client.stats()).fetch_answers_unchanged + (await c.srv.client.stats()).fetch_answers_unchanged;
  const view = async (q = io) =>
    (await q.fetchSockets())
      .filter((s) => s.id === ca.id || s.id === cc.id)
      .map((s) => ({ id: s.id, rooms: [...s.rooms].sort(), data: s.data, ua: s.handshake.headers['user-agent'] !== undefined }))
      .sort((x, y) => (x.id < y.id ? -1 : 1));
  const first = await view();
  assert.equal(first.length, 2);
  // nothing changed on a or c: both answer "unchanged", the result is the same
  let before = await unchanged();
  const again = await view();
  assert.deepEqual(again, first);
  assert.equal((await unchanged()) - before, 2);
  // and each call gets objects of its own (the Redis adapter's are new each time)
  const [x, y] = [await io.fetchSockets(), await io.fetchSockets()].map((l) => l.find((s) => s.id === ca.id));
  assert.notEqual(x.data, y.data);
  assert.notEqual(x.handshake, y.handshake);
  x.data.score = 99;
  assert.equal((await view()).find((s) => s.id === ca.id).data.score, 0);
  // an in-place data change on a: a answers in full at once, c still "unchanged"
  before = await unchanged();
  await ca.timeout(5000).emitWithAck('score', 3);
  const changed = await view();
  assert.equal(changed.find((s) => s.id === ca.id).data.score, 3);
  assert.deepEqual(changed.find((s) => s.id === cc.id), first.find((s) => s.id === cc.id));
  assert.equal((await unchanged()) - before, 1);
  // a room joined on c, then a filter of its own (kept apart from "all")
  c.srv.io.of('/').sockets.get(cc.id).join('kept-room');
  await h.waitFor(async () => (await view()).find((s) => s.id === cc.id).rooms.includes('kept-room'), 10000, 'room seen');
  const inRoom = async () => (await io.in('kept-room').fetchSockets()).map((s) => s.id);
  assert.deepEqual(await inRoom(), [cc.id]);
  assert.deepEqual(await inRoom(), [cc.id]);
  // two fetches at once, then a socket gone: never returned again
  const both = await Promise.all([view(), view()]);
  assert.deepEqual(both[0], both[1]);
  cc.close();
  // gone from node c's own registry (a fetch from b alone could also miss it
  // while c is briefly out of b's live list on a loaded machine)
  await h.waitFor(async () => (await c.srv.client.rooms(['/,kept-room']))[0].size === 0, 10000, 'socket gone on c');
  assert.ok(!(await io.fetchSockets()).some((s) => s.id === cc.id));
  assert.deepEqual(await inRoom(), []);
});

test('item 4: keepFetches: false asks every node in full', T, async () => {
  const { a } = nodes;
  const d = await new h.Sidecastd({ redisUrl: redis.url, name: 'nokeep-node' }).start();
  const srv = await h.startIo(d.sock, { keepFetches: false });
  try {
    await h.waitFor(async () => (await srv.client.nodes()).length === 4, 15000, 'four nodes');
    const ca = await client(a);
    await h.waitFor(async () => (await srv.io.fetchSockets()).some((s) => s.id === ca.id), 10000, 'socket seen');
    const before = (await a.srv.client.stats()).fetch_answers_unchanged;
    for (let i = 0; i < 3; i++) assert.ok((await srv.io.fetchSockets()).some((s) => s.id === ca.id));
    assert.equal((await a.srv.client.stats()).fetch_answers_unchanged, before);
  } finally {
    await srv.close();
    await d.stop();
  }
});

test('issue 18 item 1: a payload outside the socket.io mapping is counted and logged, never dropped silently', T, async () => {
  const { a, b } = nodes;
  const ca = await client(a);
  await h.waitFor(async () => (await b.srv.io.fetchSockets()).some((s) => s.id === ca.id), 10000, 'socket registered');
  const counters = a.srv.io.of('/').adapter.client.counters;
  const before = { payload: counters.unreadablePayload, namespace: counters.unknownNamespace };
  const logsBefore = a.logs.length;
  let got = 0;
  ca.onAny(() => got++);
  // raw bytes to the socket's own room, from another process on node b (through Redis)
  const raw = new SidecastClient({ path: b.d.sock, name: 'raw-emitter', logger: false });
  try {
    await raw.ready();
    raw.broadcast({ socketIds: [ca.id] }, Buffer.from('hello'));
    raw.broadcast({ rooms: ['/'] }, Buffer.from([9, 9, 9]));
    await raw.ping();
    await h.exactly(() => counters.unreadablePayload - before.payload, 2, 'two unreadable payloads counted');
  } finally {
    raw.close();
  }
  assert.equal(counters.unknownNamespace, before.namespace);
  assert.equal(got, 0, 'nothing reached the socket.io client');
  // logged once (then at most every 10 s), naming what arrived
  const lines = a.logs.slice(logsBefore).filter(([, m]) => /could not use/.test(m));
  assert.equal(lines.length, 1, JSON.stringify(a.logs.slice(logsBefore)));
  assert.match(lines[0][1], /not in the socket\.io mapping/);
  // exported for Prometheus
  const text = await require('..').metrics(a.srv.io);
  assert.match(text, new RegExp(`sidecast_app_unreadable_total\\{reason="payload"\\} ${counters.unreadablePayload}`));
});

test('item 6: an unreachable sidecastd is logged once, emitted with its errno and a hint; timeouts carry the cause', T, async () => {
  const dir = h.tmpdir('sidecast-dropin-');
  const logs = [];
  const c = new SidecastClient({ path: path.join(dir, 'missing.sock'), reconnectMin: 20, reconnectMax: 40, timeout: 400, logger: logger(logs) });
  const events = [];
  c.on('unreachable', (info) => events.push(info));
  try {
    const err = await c.fetchSockets({ all: true }).then(() => null, (e) => e);
    assert.ok(err, 'the request fails');
    assert.equal(err.code, 'TIMEOUT');
    assert.match(err.message, /not connected to sidecastd .* for \d+ ms: .*ENOENT/);
    assert.match(err.message, /start sidecastd/);
    assert.equal(err.cause && err.cause.code, 'ENOENT');
    // many attempts failed by now: one log line, one event
    assert.equal(logs.filter((l) => l[0] === 'warn').length, 1, JSON.stringify(logs));
    assert.match(logs[0][1], /cannot reach sidecastd at .*missing\.sock \(ENOENT\)/);
    assert.equal(events.length, 1);
    assert.equal(events[0].code, 'ENOENT');
    assert.equal(typeof events[0].errno, 'number');
    assert.match(events[0].hint, /start sidecastd/);
  } finally {
    await c.close();
  }
  // a socket nobody listens on: ECONNREFUSED and its own hint
  const net = require('net');
  const p = path.join(dir, 'dead.sock');
  const srv = net.createServer().listen(p);
  await new Promise((r) => srv.once('listening', r));
  await new Promise((r) => srv.close(r));
  require('fs').writeFileSync(path.join(dir, 'x'), ''); // (the socket file stays behind on close only on some systems)
  const c2 = new SidecastClient({ path: path.join(dir, 'x'), reconnectMin: 20, reconnectMax: 40, logger: false });
  try {
    const [info] = await h.once(c2, 'unreachable', 5000);
    assert.equal(info.code, 'ECONNREFUSED');
    assert.match(info.hint, /nobody listens/);
  } finally {
    await c2.close();
  }
});

test('item 6: a timed-out serverSideEmitWithAck says how many servers and nodes answered, and names the silent node; sidecastd answers before the client timer', T, async () => {
  const { a, c } = nodes;
  // C's app never calls back: every node answers (C's sidecastd for its app), one server does not
  let t0 = Date.now();
  let err = await a.srv.io.serverSideEmitWithAck('ping-servers').then(() => null, (e) => e);
  assert.ok(err, 'a timeout');
  assert.ok(Date.now() - t0 < 4000, `sidecastd's answer (${Date.now() - t0} ms)`);
  assert.equal(err.message, 'timeout reached: only 1 responses received out of 2 (3 of 3 nodes answered)');
  assert.deepEqual(err.responses, ['b']);
  // C's sidecastd stopped (not gone yet): its node never answers
  process.kill(c.d.child.pid, 'SIGSTOP');
  try {
    t0 = Date.now();
    err = await a.srv.io.serverSideEmitWithAck('ping-servers').then(() => null, (e) => e);
  } finally {
    process.kill(c.d.child.pid, 'SIGCONT');
  }
  const took = Date.now() - t0;
  assert.ok(err, 'a timeout');
  // sidecastd's request_timeout_ms is 3000 in the harness; the adapter's own timer is 6000
  assert.ok(took < 5000, `sidecastd's answer (${took} ms)`);
  // the node is named by sidecastd; once its membership expired (TTL 800 ms here) its name is "gone"
  const id = c.srv.client.nodeId;
  assert.match(err.message, new RegExp(`^timeout reached: only 1 responses received out of at least 2 \\(2 of 3 nodes answered; no answer from (c-node|gone) \\(${id}\\)\\)$`));
  assert.equal(err.nodesExpected, 3);
  assert.equal(err.nodesAnswered, 2);
  assert.equal(err.nodesMissing.length, 1);
  assert.deepEqual(err.responses, ['b']);
  await h.waitFor(async () => (await a.srv.client.nodes()).length === 3, 15000, 'C back');
});

test('item 7c: socket.io internals are probed; the fallbacks deliver the same', T, async () => {
  const { a, b } = nodes;
  const ca = await client(a);
  const cb = await client(b);
  const adapterA = a.srv.io.of('/').adapter;
  const adapterB = b.srv.io.of('/').adapter;
  assert.equal(adapterA._caps.write, true, 'socket.io 4.8: writeToEngine');
  assert.equal(adapterA._caps.ids, true);
  // socket.io without writeToEngine(): the in-memory adapter's own path, both ways
  adapterA._caps.write = false;
  adapterB._caps.write = false;
  try {
    const seenA = h.recorder(ca);
    const seenB = h.recorder(cb);
    ca.on('ask', (x, ack) => ack(`a${x}`));
    cb.on('ask', (x, ack) => ack(`b${x}`));
    await h.roomReady(redis.port, `/,${cb.id}`, [[b.srv.client, 1]]);
    await h.roomReady(redis.port, '/', [[a.srv.client, () => a.srv.io.of('/').sockets.size], [b.srv.client, () => b.srv.io.of('/').sockets.size]]);
    a.srv.io.to(cb.id).emit('direct', 1);
    await h.expectCounts([[seenA, 'direct', 0], [seenB, 'direct', 1]], 'targeted emit through the fallback');
    const answers = await a.srv.io.to([ca.id, cb.id]).timeout(5000).emitWithAck('ask', 2);
    assert.deepEqual(answers.sort(), ['a2', 'b2']);
  } finally {
    adapterA._caps.write = true;
    adapterB._caps.write = true;
  }
});

test('issue 19 item 3: enableForwarding warns once when sidecastd is in cluster mode without advertise_address', T, async () => {
  const { a } = nodes;
  // node A's sidecastd: cluster mode, no advertise_address
  const logs = [];
  const srv = await h.startIo(a.d.sock, { logger: logger(logs) });
  const fwd = enableForwarding(srv.io, { log: false });
  try {
    assert.equal(fwd.advertiseAddress, undefined, 'not known before a session');
    await client({ srv });
    await h.waitFor(async () => logs.length > 0, 10000, 'the warning');
    await client({ srv });
    await h.sleep(300);
    const warns = logs.filter(([lvl, m]) => lvl === 'warn' && /advertise_address/.test(m));
    assert.equal(warns.length, 1, JSON.stringify(logs));
    assert.match(warns[0][1], /a-node/);
    assert.match(warns[0][1], /fail with 502/);
    assert.match(warns[0][1], /set advertise_address = host:port/);
    assert.equal(fwd.advertiseAddress, '');
  } finally {
    fwd.close();
    await srv.close();
  }

  // set: nothing said; standalone: nothing to say
  const set = await new h.Sidecastd({ redisUrl: redis.url, name: 'adv-node', extra: ['--advertise-address', '127.0.0.1:3999'] }).start();
  const alone = await new h.Sidecastd({ name: 'alone-node' }).start();
  const quiet = [];
  const s1 = await h.startIo(set.sock, { logger: logger(quiet) });
  const s2 = await h.startIo(alone.sock, { logger: logger(quiet) });
  const f1 = enableForwarding(s1.io, { log: false });
  const f2 = enableForwarding(s2.io, { log: false, register: false });
  try {
    await client({ srv: s1 });
    await client({ srv: s2 });
    await h.waitFor(async () => f1.advertiseAddress !== undefined && f2.advertiseAddress !== undefined, 10000, 'both checked');
    assert.equal(f1.advertiseAddress, '127.0.0.1:3999');
    assert.equal(f2.advertiseAddress, null, 'standalone');
    assert.deepEqual(quiet.filter(([lvl]) => lvl === 'warn'), []);
  } finally {
    f1.close();
    f2.close();
    await s1.close();
    await s2.close();
    await set.stop();
    await alone.stop();
  }
});
