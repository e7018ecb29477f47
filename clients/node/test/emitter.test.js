'use strict';
// Issue 18 item 2: the Emitter reaches socket.io clients from a process
// without a socket.io server, in the shape of @socket.io/redis-emitter. Two
// nodes (sidecastd + socket.io server each) on one Redis; the emitter has
// its own connection to node A's sidecastd. Every check counts exactly:
// one emit, then a barrier (a last emit every client gets, in order after
// the others), then the counts (counted()). On a Redis Cluster
// (SIDECAST_TEST_RCLUSTER) a channel keeps its order only with itself:
// an emit to a room on another primary than the barrier's "/" may still
// be on its way when the barrier is in, so counted() waits (bounded) for
// the counts wanted, then a drain, as h.expectCounts does.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { execFile } = require('child_process');
const h = require('./harness');
const { Emitter } = require('..');

const T = { timeout: 60000 };
const SIDECASTCTL = process.env.SIDECASTCTL || path.join(__dirname, '../../../build/clients/c/sidecastctl');

// libsidecast's emitter API, from C: clients/c/examples/sio_emitter, built beside sidecastctl
const SIO_EMITTER = path.join(path.dirname(SIDECASTCTL), 'examples', 'sio_emitter');

/** Run a program against node A's sidecastd: {code, stdout, stderr}. */
function run(file, args) {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 10000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

/** Run sidecastctl against node A's sidecastd: {code, stdout, stderr}. */
function ctl(...args) {
  return new Promise((resolve) => {
    execFile(SIDECASTCTL, ['-s', nodes.a.d.sock, ...args], { timeout: 10000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}
let redis;
const nodes = {}; // name -> {d, srv}
const clients = {}; // name -> socket.io-client socket
const seen = {}; // name -> recorded events
const serverEmits = []; // [node, args] of server-side emits received
let emitter;

async function startNode(name) {
  const d = await new h.Sidecastd({ redisUrl: redis.url, name }).start();
  const srv = await h.startIo(d.sock);
  const join = (socket) => {
    const room = socket.handshake.query.room;
    if (room) socket.join(room);
  };
  srv.io.on('connection', join);
  srv.io.of('/chat').on('connection', join);
  srv.io.on('ping-servers', (...args) => serverEmits.push([name, args]));
  return { d, srv };
}

async function client(name, node, room, nsp = '') {
  const c = await h.connect(nodes[node].srv.url + nsp, { query: room ? { room } : {} });
  clients[name] = c;
  seen[name] = h.recorder(c);
  return c;
}

/** Every client has the barrier emit `n` (sent last): all before it arrived. */
async function barrier(n) {
  emitter.emit('barrier', n);
  emitter.of('/chat').emit('barrier', n);
  for (const [name, s] of Object.entries(seen))
    await h.waitFor(() => s.some((e) => e[0] === 'barrier' && e[1] === n), 10000, `${name} got barrier ${n}`);
}

function got(name, ev) {
  return seen[name].filter((e) => e[0] === ev);
}

/**
 * After a barrier: each [client, ev, n] has exactly n events ev, waited for
 * (bounded), then nothing more within a drain (h.expectCounts).
 */
function counted(want, what) {
  return h.expectCounts(want.map(([name, ev, n]) => [seen[name], ev, n]), what);
}

before(async () => {
  redis = await h.startRedis();
  nodes.a = await startNode('a-node');
  nodes.b = await startNode('b-node');
  for (const n of Object.values(nodes))
    await h.waitFor(async () => (await n.srv.client.nodes()).length === 2, 15000, 'two nodes');
  await client('a1', 'a', 'r1');
  await client('b1', 'b', 'r1');
  await client('b2', 'b', 'r2');
  await client('chat', 'a', 'r1', '/chat');
  const member = (node, key, size) => [nodes[node].srv.client, size];
  await h.roomReady(redis.port, '/,r1', [member('a', '/,r1', 1), member('b', '/,r1', 1)]);
  await h.roomReady(redis.port, '/,r2', [member('a', '/,r2', 0), member('b', '/,r2', 1)]);
  await h.roomReady(redis.port, '/', [member('a', '/', 1), member('b', '/', 2)]);
  await h.roomReady(redis.port, '/chat', [member('a', '/chat', 1), member('b', '/chat', 0)]);
  emitter = new Emitter({ path: nodes.a.d.sock, logger: false });
  await emitter.client.ready();
});

after(async () => {
  if (emitter) emitter.close();
  for (const c of Object.values(clients)) c.close();
  for (const n of Object.values(nodes)) {
    await n.srv.close();
    await n.d.stop();
  }
  if (redis) await redis.stop();
});

test('to(room).emit reaches the room on both nodes once, with its arguments; nobody else', T, async () => {
  emitter.to('r1').emit('news', 1, 'two', { three: [3] });
  await barrier(1);
  await counted([['a1', 'news', 1], ['b1', 'news', 1], ['b2', 'news', 0], ['chat', 'news', 0]], 'to(r1)');
  for (const name of ['a1', 'b1']) assert.deepEqual(got(name, 'news'), [['news', 1, 'two', { three: [3] }]], name);
  assert.deepEqual(got('b2', 'news'), []);
  assert.deepEqual(got('chat', 'news'), [], 'another namespace');
});

test('emit to everyone, except a room, to a socket id, and to a namespace', T, async () => {
  emitter.emit('all', 'x');
  emitter.except('r1').emit('not-r1');
  emitter.to(clients.b2.id).emit('direct', 42);
  emitter.of('/chat').emit('chat-only', true);
  emitter.of('chat').to('r1').emit('chat-room');
  await barrier(2);
  await counted(
    [
      ['a1', 'all', 1], ['b1', 'all', 1], ['b2', 'all', 1], ['chat', 'all', 0],
      ['a1', 'not-r1', 0], ['b1', 'not-r1', 0], ['b2', 'not-r1', 1],
      ['a1', 'direct', 0], ['b1', 'direct', 0], ['b2', 'direct', 1],
      ['chat', 'chat-only', 1], ['a1', 'chat-only', 0], ['chat', 'chat-room', 1],
    ],
    'everyone, except, socket id, namespace',
  );
  for (const name of ['a1', 'b1', 'b2']) assert.equal(got(name, 'all').length, 1, name);
  assert.deepEqual(
    ['a1', 'b1', 'b2'].map((n) => got(n, 'not-r1').length),
    [0, 0, 1],
  );
  assert.deepEqual(got('b2', 'direct'), [['direct', 42]]);
  assert.equal(got('a1', 'direct').length + got('b1', 'direct').length, 0);
  assert.deepEqual(got('chat', 'chat-only'), [['chat-only', true]]);
  assert.equal(got('chat', 'chat-room').length, 1);
  assert.equal(got('chat', 'all').length, 0);
  assert.equal(got('a1', 'chat-only').length, 0);
});

test('binary arguments arrive as binary; volatile and compress are accepted', T, async () => {
  emitter.to('r2').emit('bin', Buffer.from([1, 2, 3]), { nested: Buffer.from('hi') });
  emitter.compress(false).to('r2').emit('plain', 'p');
  await barrier(3);
  await counted([['b2', 'bin', 1], ['b2', 'plain', 1]], 'to(r2)');
  const [[, b, o]] = got('b2', 'bin');
  assert.deepEqual(Buffer.from(b), Buffer.from([1, 2, 3]));
  assert.equal(Buffer.from(o.nested).toString(), 'hi');
  assert.deepEqual(got('b2', 'plain'), [['plain', 'p']]);
  // volatile: socket.io drops it if the client's transport is busy at that
  // moment, so at most once (never twice), whatever else is in flight
  emitter.volatile.to('r2').emit('light', 'v');
  await barrier(33);
  assert.ok(got('b2', 'light').length <= 1);
  assert.deepEqual(got('b2', 'light').slice(0, 1).flat(), got('b2', 'light').length ? ['light', 'v'] : []);
});

test('socketsJoin, socketsLeave and disconnectSockets act on every node', T, async () => {
  await emitter.in('r1').socketsJoin('joined');
  await h.roomReady(redis.port, '/,joined', [[nodes.a.srv.client, 1], [nodes.b.srv.client, 1]]);
  emitter.to('joined').emit('via-join');
  await barrier(4);
  await counted([['a1', 'via-join', 1], ['b1', 'via-join', 1], ['b2', 'via-join', 0]], 'to(joined)');
  assert.deepEqual(['a1', 'b1', 'b2'].map((n) => got(n, 'via-join').length), [1, 1, 0]);
  await emitter.in('joined').socketsLeave('joined');
  await h.roomReady(redis.port, '/,joined', [[nodes.a.srv.client, 0], [nodes.b.srv.client, 0]]);
  const gone = h.next(clients.b2, 'disconnect');
  await emitter.to(clients.b2.id).disconnectSockets();
  const [reason] = await gone;
  assert.equal(reason, 'io server disconnect');
  assert.equal(clients.a1.connected && clients.b1.connected, true);
  delete seen.b2; // not in later barriers
});

test('serverSideEmit reaches every socket.io server once; acks and reserved names throw', T, async () => {
  await emitter.serverSideEmit('ping-servers', 'hello', 7);
  await h.exactly(() => serverEmits.length, 2, 'one server-side emit per server');
  assert.deepEqual(serverEmits.map(([n]) => n).sort(), ['a-node', 'b-node']);
  for (const [, args] of serverEmits) assert.deepEqual(args, ['hello', 7]);
  assert.throws(() => emitter.emit('disconnect'), /reserved/);
  assert.throws(() => emitter.emit('x', () => {}), /acknowledgements/);
  assert.throws(() => emitter.serverSideEmit('x', () => {}), /acknowledgements/);
  assert.throws(() => emitter.serverSideEmit('connect'), /reserved/);
});

test('sidecastctl emit --event, apply --nsp and server-emit speak the same mapping', T, async () => {
  let r = await ctl('emit', '--event', 'from-ctl', '--room', 'r1', '1', '"two"', '{"three":[3]}');
  assert.equal(r.code, 0, r.stderr);
  r = await ctl('emit', '--event', 'ctl-chat', '--nsp', '/chat', '--room', 'r1', 'null');
  assert.equal(r.code, 0, r.stderr);
  r = await ctl('emit', '--event', 'ctl-except', '--except-room', 'r1');
  assert.equal(r.code, 0, r.stderr);
  await barrier(5);
  await counted(
    [
      ['a1', 'from-ctl', 1], ['b1', 'from-ctl', 1], ['chat', 'ctl-chat', 1],
      ['a1', 'ctl-except', 0], ['b1', 'ctl-except', 0],
    ],
    'sidecastctl emits',
  );
  assert.deepEqual(got('a1', 'from-ctl'), [['from-ctl', 1, 'two', { three: [3] }]]);
  assert.deepEqual(got('b1', 'from-ctl'), [['from-ctl', 1, 'two', { three: [3] }]]);
  assert.deepEqual(got('chat', 'ctl-chat'), [['ctl-chat', null]]);
  assert.equal(got('a1', 'ctl-except').length + got('b1', 'ctl-except').length, 0);
  // malformed JSON and reserved names are refused before anything is sent
  r = await ctl('emit', '--event', 'bad', '--room', 'r1', '{not json');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /argument 1 is not JSON/);
  r = await ctl('emit', '--event', 'disconnect');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /reserved/);
  r = await ctl('emit', '--event', 'x', '--nsp', 'a,b');
  assert.equal(r.code, 2);
  // socket.io rooms through apply --nsp, then an emit to the new room
  r = await ctl('apply', '--nsp', '/', '--room', 'r1', '--join', 'ctl-joined');
  assert.equal(r.code, 0, r.stderr);
  await h.roomReady(redis.port, '/,ctl-joined', [[nodes.a.srv.client, 1], [nodes.b.srv.client, 1]]);
  r = await ctl('emit', '--event', 'via-ctl-join', '--room', 'ctl-joined');
  assert.equal(r.code, 0, r.stderr);
  await barrier(6);
  await counted([['a1', 'via-ctl-join', 1], ['b1', 'via-ctl-join', 1]], 'to(ctl-joined)');
  assert.deepEqual(['a1', 'b1'].map((n) => got(n, 'via-ctl-join').length), [1, 1]);
  assert.equal(got('a1', 'bad').length, 0);
  // server-emit reaches every server's io.on(ev) once
  const before = serverEmits.length;
  r = await ctl('server-emit', '--event', 'ping-servers', '"ctl"');
  assert.equal(r.code, 0, r.stderr);
  await h.exactly(() => serverEmits.length - before, 2, 'one server-side emit per server');
  for (const [, args] of serverEmits.slice(before)) assert.deepEqual(args, ['ctl']);
});

test('the C emitter API (sidecast_sio.h, clients/c/examples/sio_emitter) speaks the same mapping', T, async () => {
  // a client of its own in room c-bye on node b, outside the barriers
  const bye = await h.connect(nodes.b.srv.url, { query: { room: 'c-bye' } });
  const gone = new Promise((resolve) => bye.on('disconnect', resolve));
  await h.roomReady(redis.port, '/,c-bye', [[nodes.b.srv.client, 1]]);
  const before = serverEmits.length;
  const r = await run(SIO_EMITTER, [nodes.a.d.sock]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /refused: argument 1 is not JSON/);
  assert.equal(await gone, 'io server disconnect');
  await h.roomReady(redis.port, '/,c-joined', [[nodes.a.srv.client, 1], [nodes.b.srv.client, 1]]);
  emitter.to('c-joined').emit('via-c-join', true);
  await barrier(7);
  await counted(
    [
      ['a1', 'from-c', 1], ['b1', 'from-c', 1], ['chat', 'c-chat', 1],
      ['a1', 'via-c-join', 1], ['b1', 'via-c-join', 1],
    ],
    'C emitter API emits',
  );
  assert.deepEqual(got('a1', 'from-c'), [['from-c', 1, 'two', { three: [3] }]]);
  assert.deepEqual(got('b1', 'from-c'), [['from-c', 1, 'two', { three: [3] }]]);
  assert.deepEqual(got('chat', 'c-chat'), [['c-chat', null]]);
  assert.deepEqual(['a1', 'b1'].map((n) => got(n, 'via-c-join')), [[['via-c-join', true]], [['via-c-join', true]]]);
  assert.equal(got('a1', 'bad').length + got('b1', 'bad').length, 0);
  await h.exactly(() => serverEmits.length - before, 2, 'one server-side emit per server');
  for (const [, args] of serverEmits.slice(before)) assert.deepEqual(args, ['c']);
});

test('an emitter connected to a node is not waited for by serverSideEmitWithAck', T, async () => {
  // the emitter's connection gets every ServerMessage of node A and answers
  // none: the answers count themselves, so it adds nothing to expect
  nodes.b.srv.io.on('ask-servers', (n, cb) => cb(`b:${n}`));
  const t0 = Date.now();
  const answers = await nodes.a.srv.io.serverSideEmitWithAck('ask-servers', 7);
  assert.deepEqual(answers, ['b:7']);
  assert.ok(Date.now() - t0 < 2000, 'answered without waiting for the emitter');
});
