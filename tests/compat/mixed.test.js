'use strict';
// Mixed versions in one socket.io cluster: four socket.io servers on one
// Redis, every pairing of this tree's and the base commit's sidecastd
// (tests/compat/BASE, built by build_base.sh) and socket.io adapter:
//
//   new-new  this sidecastd, this adapter
//   old-old  base sidecastd, base adapter
//   new-old  this sidecastd, base adapter
//   old-new  base sidecastd, this adapter
//
// From every server: room, targeted, broadcast and except emits reach every
// selected client exactly once; broadcast with acks, fetchSockets,
// serverSideEmit with acks and socketsJoin/Leave complete with every server
// answering, well before any timeout; disconnectSockets reaches every node.
//
// Environment: SIDECASTD (this tree's), SIDECAST_COMPAT_SIDECASTD (the
// base's), SIDECAST_COMPAT_NODE (the base's clients/node). Run by CTest
// (tests/compat/CMakeLists.txt); missing ones fail.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');
const { createRequire } = require('module');

// Self-contained: clients/node/test/harness.js belongs to the current suite
// and changes with it. socket.io and its client as the current package
// loads them (tests/compat has no node_modules; the base's clients/node
// links the same ones).
const CURRENT_NODE = path.join(__dirname, '../../clients/node');
const req = createRequire(path.join(CURRENT_NODE, 'package.json'));
const { Server } = req('socket.io');
const ioc = req('socket.io-client');

const NEW_D = process.env.SIDECASTD;
const OLD_D = process.env.SIDECAST_COMPAT_SIDECASTD;
const OLD_NODE = process.env.SIDECAST_COMPAT_NODE;
for (const [k, v] of [['SIDECASTD', NEW_D], ['SIDECAST_COMPAT_SIDECASTD', OLD_D], ['SIDECAST_COMPAT_NODE', OLD_NODE]])
  if (!v || !fs.existsSync(v)) throw new Error(`compat: $${k} (${v}) missing: did compat_build_base run?`);
assert.notEqual(fs.realpathSync(NEW_D), fs.realpathSync(OLD_D), 'compat: the old and the new sidecastd are one binary');
assert.notEqual(require.resolve(OLD_NODE), require.resolve(CURRENT_NODE), 'compat: the old and the new adapter are one package');
const adapters = { new: require(CURRENT_NODE).createAdapter, old: require(OLD_NODE).createAdapter };

const T = { timeout: 60000 };
const REQUESTS_TIMEOUT = 2500; // the adapters' requestsTimeout; the daemons' request_timeout_ms is 3000
const QUICK = 1500; // a request that took longer waited for a server
let redis;
const nodes = []; // {name, d, srv, c, seen}

// ---- processes, bounded waits -------------------------------------------------

const children = new Set();
process.on('exit', () => {
  for (const c of children)
    try {
      process.kill(c.pid, 'SIGKILL');
    } catch (_) {}
});

function track(child) {
  children.add(child);
  child.exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve(signal ? 128 + os.constants.signals[signal] : code);
    }),
  );
  return child;
}

/** SIGTERM by pid, SIGKILL after 30 s; resolves with the exit code. */
async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return child.exited;
  process.kill(child.pid, 'SIGTERM');
  const t = setTimeout(() => child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 30000);
  const code = await child.exited;
  clearTimeout(t);
  return code;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(fn, ms, what) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${last})`);
    await sleep(25);
  }
}

function once(emitter, event, ms) {
  return new Promise((resolve, reject) => {
    const h = (...args) => {
      clearTimeout(t);
      resolve(args);
    };
    const t = setTimeout(() => {
      emitter.off(event, h);
      reject(new Error(`no "${event}" within ${ms} ms`));
    }, ms);
    emitter.once(event, h);
  });
}

const tmpdir = (prefix) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

function canConnect(opts) {
  return new Promise((resolve) => {
    const s = net.createConnection(opts);
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

function redisCli(...args) {
  return execFileSync('redis-cli', ['-p', String(redis.port), ...args], { timeout: 5000 }).toString();
}

async function startRedis() {
  const dir = tmpdir('sidecast-compat-redis-');
  const port = await new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
  const child = track(spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
    '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--logfile', path.join(dir, 'redis.log')],
  { stdio: 'ignore' }));
  await waitFor(() => canConnect({ port, host: '127.0.0.1' }), 10000, 'redis-server');
  return { port, url: `redis://127.0.0.1:${port}`, stop: () => stop(child) };
}

/** sidecastd from `bin` in cluster mode (the flags both versions know). */
async function startDaemon(bin, name) {
  const dir = tmpdir('sidecast-compat-');
  const sock = path.join(dir, 'sidecast.sock');
  const log = path.join(dir, 'sidecastd.log');
  const fd = fs.openSync(log, 'a');
  const child = track(
    spawn(bin, ['--socket', sock, '--log-level', 'debug', '--node-name', name, '--http-listen', '127.0.0.1:0',
      '--redis-url', redis.url, '--heartbeat-ms', '200', '--node-ttl-ms', '800', '--request-timeout-ms', '3000',
      '--room-linger-ms', '300', '--redis-command-timeout-ms', '1000', '--redis-reconnect-max-ms', '500'],
    { stdio: ['ignore', fd, fd] }),
  );
  fs.closeSync(fd);
  await waitFor(
    () =>
      child.exitCode !== null
        ? Promise.reject(new Error(`${name}: sidecastd exited with ${child.exitCode}: ${fs.readFileSync(log, 'utf8').slice(-2000)}`))
        : canConnect({ path: sock }),
    20000,
    `${name}: sidecastd to listen`,
  );
  return { sock, log, stop: () => stop(child) };
}

async function connect(url) {
  const s = ioc(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  await once(s, 'connect', 15000);
  return s;
}

async function startIo(createAdapter, sock, name) {
  const httpServer = http.createServer();
  const io = new Server(httpServer);
  io.adapter(createAdapter({ path: sock, reconnectMin: 30, reconnectMax: 300, timeout: 8000, requestsTimeout: REQUESTS_TIMEOUT }));
  await new Promise((r) => httpServer.listen(0, '127.0.0.1', r));
  const client = io.of('/').adapter.client;
  await client.ready(15000);
  io.on('connection', (socket) => {
    socket.on('join', (room, cb) => {
      socket.join(room);
      cb();
    });
  });
  io.on('srv-ping', (x, cb) => cb(`pong-${name}-${x}`));
  return {
    io,
    client,
    url: `http://127.0.0.1:${httpServer.address().port}`,
    close: () => new Promise((resolve) => io.close(() => resolve())),
  };
}

before(async () => {
  redis = await startRedis();
  for (const [name, daemon, adapter] of [['new-new', NEW_D, 'new'], ['old-old', OLD_D, 'old'],
    ['new-old', NEW_D, 'old'], ['old-new', OLD_D, 'new']]) {
    const d = await startDaemon(daemon, name);
    const srv = await startIo(adapters[adapter], d.sock, name);
    nodes.push({ name, d, srv });
  }
  for (const n of nodes)
    await waitFor(async () => (await n.srv.client.nodes()).length === 4, 15000, `${n.name} to see four nodes`);
  for (const n of nodes) {
    const c = await connect(n.srv.url);
    c.on('ask', (x, cb) => cb(x + 1));
    n.c = c;
    n.seen = [];
    c.onAny((ev, ...args) => n.seen.push([ev, ...args]));
    await c.timeout(10000).emitWithAck('join', 'everyone');
  }
  // every node subscribed to the room's channel (the key "/,everyone": room
  // "everyone" of namespace "/"): from here one emit reaches every member
  await waitFor(() => redisCli('PUBSUB', 'NUMSUB', 'sidecast:room:/,everyone').trim().split('\n')[1] === '4', 15000,
    'four subscribers of the room everyone');
});

after(async () => {
  for (const n of nodes) if (n.c) n.c.disconnect();
  for (const n of nodes) await n.srv.close();
  const codes = [];
  for (const n of nodes) codes.push(await n.d.stop());
  await redis.stop();
  assert.deepEqual(codes, codes.map(() => 0), 'every sidecastd exits 0 on SIGTERM');
});

/** Emit with `send` from server `from`, then a barrier broadcast from the
 * same server (ordered behind it); return how often each client got `ev`
 * with `tag`. */
let seq = 0;
async function countAfter(from, ev, send) {
  const tag = ++seq;
  send(from.srv.io, tag);
  const mark = `mark-${tag}`;
  const marks = nodes.map((n) => once(n.c, mark, 10000));
  from.srv.io.emit(mark);
  await Promise.all(marks);
  return nodes.map((n) => n.seen.filter((e) => e[0] === ev && e[1] === tag).length);
}

function quick(t0, what) {
  const took = Date.now() - t0;
  assert.ok(took < QUICK, `${what} took ${took} ms: it waited for a server`);
}

test('serverCount is four on every server', T, async () => {
  for (const n of nodes)
    await waitFor(async () => (await n.srv.io.of('/').adapter.serverCount()) === 4, 15000, `${n.name}: serverCount 4`);
});

test('every emit kind from every server reaches each client exactly once', T, async () => {
  for (const from of nodes) {
    const everyone = nodes.map(() => 1);
    assert.deepEqual(await countAfter(from, 'room', (io, tag) => io.to('everyone').emit('room', tag)), everyone,
      `room emit from ${from.name}`);
    assert.deepEqual(await countAfter(from, 'all', (io, tag) => io.emit('all', tag)), everyone,
      `broadcast from ${from.name}`);
    const targets = nodes.filter((n) => n !== from);
    assert.deepEqual(
      await countAfter(from, 'direct', (io, tag) => io.to(targets.map((n) => n.c.id)).emit('direct', tag)),
      nodes.map((n) => (n === from ? 0 : 1)),
      `targeted emit from ${from.name}`,
    );
    const skip = nodes[(nodes.indexOf(from) + 1) % nodes.length];
    assert.deepEqual(
      await countAfter(from, 'except', (io, tag) => io.to('everyone').except(skip.c.id).emit('except', tag)),
      nodes.map((n) => (n === skip ? 0 : 1)),
      `except emit from ${from.name}`,
    );
  }
});

test('broadcast with acks from every server: every client answers, no timeout', T, async () => {
  for (const from of nodes) {
    const t0 = Date.now();
    const r = await from.srv.io.timeout(REQUESTS_TIMEOUT).emitWithAck('ask', 1);
    quick(t0, `broadcast with acks from ${from.name}`);
    assert.deepEqual(r, [2, 2, 2, 2], `answers to ${from.name}`);
  }
});

test('fetchSockets from every server: every socket, no timeout', T, async () => {
  const ids = nodes.map((n) => n.c.id).sort();
  for (const from of nodes) {
    // three times: a newer adapter keeps answers where its sidecastd can
    // pass "unchanged" on, and must not lose a node's sockets where it cannot
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      const got = (await from.srv.io.fetchSockets()).map((s) => s.id).sort();
      quick(t0, `fetchSockets from ${from.name}`);
      assert.deepEqual(got, ids, `fetchSockets ${i + 1} from ${from.name}`);
    }
    const t1 = Date.now();
    const inRoom = (await from.srv.io.in('everyone').except(from.c.id).fetchSockets()).map((s) => s.id).sort();
    quick(t1, `fetchSockets(room, except) from ${from.name}`);
    assert.deepEqual(inRoom, ids.filter((id) => id !== from.c.id));
  }
});

test('serverSideEmit with acks from every server: every other server answers', T, async () => {
  for (const from of nodes) {
    const t0 = Date.now();
    const r = await from.srv.io.serverSideEmitWithAck('srv-ping', from.name); // bounded by requestsTimeout
    quick(t0, `serverSideEmit from ${from.name}`);
    assert.deepEqual(
      [...r].sort(),
      nodes.filter((n) => n !== from).map((n) => `pong-${n.name}-${from.name}`).sort(),
      `serverSideEmit answers to ${from.name}`,
    );
  }
});

test('socketsJoin / socketsLeave from every server reach every node', T, async () => {
  for (const from of nodes) {
    const room = `joined-by-${from.name}`;
    from.srv.io.in('everyone').socketsJoin(room);
    for (const n of nodes) {
      const s = n.srv.io.of('/').sockets.get(n.c.id);
      await waitFor(() => s.rooms.has(room), 10000, `${n.name}: socketsJoin from ${from.name}`);
    }
    from.srv.io.in(room).socketsLeave(room);
    for (const n of nodes) {
      const s = n.srv.io.of('/').sockets.get(n.c.id);
      await waitFor(() => !s.rooms.has(room), 10000, `${n.name}: socketsLeave from ${from.name}`);
    }
  }
});

test('disconnectSockets from the old-old server reaches every node', T, async () => {
  const from = nodes[1];
  const gone = nodes.map((n) => once(n.c, 'disconnect', 10000));
  from.srv.io.disconnectSockets(true);
  for (const [reason] of await Promise.all(gone)) assert.equal(reason, 'io server disconnect');
  for (const n of nodes) n.c = null;
});
