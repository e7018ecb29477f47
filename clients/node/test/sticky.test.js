'use strict';
// Sticky-free long-polling: three socket.io nodes (each its own process and
// its own sidecastd, one Redis) behind HAProxy in plain round-robin — no
// cookie, no stick table, no source hashing — and Node socket.io-client
// clients with no cookie jar. HAProxy runs the shipped recipe
// packaging/balancer/haproxy.cfg with only its placeholders replaced
// (balancer.js): node N's app on 127.0.0.1N, its sidecastd's HTTP endpoint
// on the same address and one port for all, as on separate hosts.
//   1. control: forwarding off, polling-only clients fail ("Session ID
//      unknown" counted by the nodes' engine.io), so this setup really
//      spreads a session's requests over nodes;
//   2. forwarding on, polling only: clients connect, join rooms, exchange a
//      bounded number of rounds of events across nodes, with zero unknown
//      sids and zero reconnects;
//   3. the same with the default transports (polling, then the websocket
//      upgrade forwarded to the owner);
//   4. security and bounds, with raw requests straight to the nodes: the
//      target is the directory's address whatever the request's Host says,
//      unknown and malformed sids get engine.io's error, a forwarded request
//      is never forwarded again, the in-flight limit and the timeout answer
//      503 / 504 and are counted;
//   5. one session with two namespaces: when one leaves, the session stays
//      reachable (sidecastd keeps a session until its last socket goes);
//   6. the recipe's health check: every node UP while its app answers
//      /socket.io/ (400, no session made) and its sidecar /readyz;
//   7. nginx on the shipped packaging/balancer/nginx.conf: polling and
//      websocket clients through it, sticky-free;
//   8. draining: SIGTERM to one node's sidecastd takes the node out of
//      HAProxy's rotation (its clients move, the others keep talking); a
//      sidecar that runs but is not ready (503) keeps it out; ready again,
//      it is back;
//   9. a node dies (its process and its sidecastd, SIGKILL): its clients
//      reconnect on the survivors and talk again.
// Every wait is bounded; every process is started here and stopped by pid.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const ioc = require('socket.io-client');
const { Manager } = require('socket.io-client');
const h = require('./harness');
const lbr = require('./balancer');

const T = { timeout: 120000 };
const NODES = 3;
const CLIENTS = 6;
const ROUNDS = 8;
let redis;
let dir;
const nodes = []; // {name, host, port, url, d, child}
let lb; // {port, url, child, sock}
let sidecarPort; // every sidecastd's http_listen port, on its node's address
const clients = [];

// A long engine.io pingInterval: a held poll stays held through a test step.
function startNode(i, d, host, port) {
  const name = `node-${i}`;
  const log = fs.openSync(path.join(dir, `${name}.log`), 'a');
  const child = h.track(
    spawn(process.execPath, [path.join(__dirname, 'sticky-node.js')], {
      stdio: ['ignore', log, log],
      env: {
        ...process.env,
        HOST: host,
        PORT: String(port),
        NODE_NAME: name,
        SIDECAST_SOCKET: d.sock,
        FORWARD: '0',
        PING_INTERVAL: '20000',
      },
    }),
  );
  fs.closeSync(log);
  return child;
}

async function getJson(url, method = 'GET') {
  const r = await fetch(url, { method });
  if (!r.ok) throw new Error(`${method} ${url}: ${r.status}`);
  return r.json();
}

async function allStats(list = nodes) {
  const out = [];
  for (const n of list)
    if (n.child.exitCode === null && n.child.signalCode === null) out.push(await getJson(`${n.url}/_t/stats`));
  return out;
}

const sum = (xs, f) => xs.reduce((a, x) => a + f(x), 0);

async function setForward(on) {
  for (const n of nodes) await getJson(`${n.url}/_t/forward?on=${on ? 1 : 0}`, 'POST');
}

/** A client through the balancer (HAProxy unless `url`) that records every disruption. */
function client(opts = {}, url = lb.url) {
  const s = ioc(url, Object.assign({ forceNew: true, reconnection: false, timeout: 10000 }, opts));
  s.trouble = [];
  s.said = [];
  s.on('connect_error', (e) => s.trouble.push(`connect_error: ${e.message}`));
  s.on('disconnect', (r) => s.trouble.push(`disconnect: ${r}`));
  s.io.on('reconnect_attempt', () => s.trouble.push('reconnect_attempt'));
  s.on('said', (m) => s.said.push(m));
  clients.push(s);
  return s;
}

function closeAll() {
  for (const s of clients.splice(0)) s.close();
}

function connected(s, ms = 15000) {
  return h.waitFor(() => s.connected, ms, `client ${s.id || ''} to connect`);
}

/** Every client joins room r<i % 2>; `ROUNDS` rounds of each client saying n to its room, once. */
async function exchange(list) {
  const owners = new Set();
  const where = new Map(); // client -> node name
  for (let i = 0; i < list.length; i++) {
    const ack = await list[i].timeout(10000).emitWithAck('join', `r${i % 2}`);
    owners.add(ack.node);
    where.set(list[i], ack.node);
    list[i].room = `r${i % 2}`;
  }
  // each room's members are spread over the nodes (handshakes go round-robin)
  assert.ok(owners.size >= 2, `sessions on ${owners.size} node(s): ${[...owners]}`);
  // barrier: every running node's sidecastd holds its members of each room
  // and is subscribed in Redis, so one say reaches every member
  const live = nodes.filter((n) => n.d.child);
  for (const room of ['r0', 'r1'])
    await h.roomReady(
      redis.port,
      `/,${room}`,
      live.map((n) => [n.d, list.filter((s) => s.room === room && where.get(s) === n.name).length]),
    );
  const mates = (s) => list.filter((o) => o.room === s.room);
  const heardAll = (n) => list.every((s) => mates(s).every((m) => s.said.some((x) => x.from === m.id && x.n === n)));
  for (let n = 1; n <= ROUNDS; n++) {
    for (const s of list) s.emit('say', { room: s.room, n });
    await h.waitFor(() => heardAll(n), 15000, `round ${n} to reach every room member`);
  }
  await h.sleep(300); // nothing more arrives
  for (const s of list) {
    const expect = mates(s).length;
    const got = s.said.filter((x) => x.n >= 1).length;
    assert.equal(got, expect * ROUNDS, `client ${s.id}: each message of each round exactly once`);
  }
}

/** Node i's sidecastd (in `sockDir` when restarting one): its own address, the common HTTP port. */
function sidecastd(i, host, port, { redisUrl = redis.url, sockDir } = {}) {
  return new h.Sidecastd({
    redisUrl,
    name: `node-${i}`,
    dir: sockDir,
    extra: ['--advertise-address', `${host}:${port}`, '--log-level', 'info', '--http-listen', `${host}:${sidecarPort}`],
  });
}

/** HAProxy's view of the nodes: {n1: {status, check_status, check_code, check_desc}, ...}. */
const servers = () => lbr.haproxyServers(lb.sock);
const srvName = (n) => `n${nodes.indexOf(n) + 1}`;

/** Wait (bounded) until every HAProxy server's state satisfies want(name, state). */
async function serversAre(want, what, ms = 20000) {
  let last;
  await h
    .waitFor(async () => {
      last = await servers();
      return nodes.every((n) => last[srvName(n)] && want(srvName(n), last[srvName(n)]));
    }, ms, what)
    .catch((e) => {
      throw new Error(`${e.message}; HAProxy: ${JSON.stringify(last)}`);
    });
  return last;
}

/** The node names that `count` requests through HAProxy reached. */
async function reached(count) {
  const seen = new Set();
  for (let i = 0; i < count; i++) seen.add((await getJson(`${lb.url}/_t/stats`)).node);
  return seen;
}

before(async () => {
  dir = h.tmpdir('sidecast-sticky-');
  redis = await h.startRedis();
  const hosts = Array.from({ length: NODES }, (_, i) => `127.0.0.${11 + i}`);
  sidecarPort = await lbr.freePortOn(hosts);
  for (let i = 1; i <= NODES; i++) {
    const host = hosts[i - 1];
    const port = await lbr.freePortOn([host]);
    const d = await sidecastd(i, host, port).start();
    const child = startNode(i, d, host, port);
    nodes.push({ name: `node-${i}`, host, port, url: `http://${host}:${port}`, d, child });
  }
  for (const n of nodes) await h.waitFor(() => getJson(`${n.url}/_t/stats`), 20000, `${n.name} to listen`);
  lb = await lbr.startHaproxy(dir, nodes, sidecarPort);
  // every backend up in HAProxy's eyes (both steps of its check passed),
  // and N requests land on N distinct nodes
  await serversAre((_, st) => st.status === 'UP', 'every HAProxy server UP');
  await h.waitFor(async () => (await reached(NODES)).size === NODES, 20000, 'HAProxy to balance over every node');
});

after(async () => {
  closeAll();
  if (lb) await h.stopChild(lb.child);
  for (const n of nodes) await h.stopChild(n.child);
  for (const n of nodes) await n.d.stop();
  if (redis) await redis.stop();
  if (!process.env.STICKY_KEEP_DIR) fs.rmSync(dir, { recursive: true, force: true });
});

test('control: without forwarding, round-robin polling breaks sessions', T, async () => {
  await setForward(false);
  const before0 = sum(await allStats(), (s) => s.unknownSid);
  let failed = 0;
  for (let i = 0; i < CLIENTS; i++) {
    const s = client({ transports: ['polling'] });
    try {
      await h.waitFor(() => s.connected || s.trouble.length, 15000, 'connect or fail');
      // a session that got through the handshake still fails on its next polls
      await h.sleep(300);
    } catch (_) {}
    if (!s.connected || s.trouble.length) failed++;
  }
  const unknown = sum(await allStats(), (s) => s.unknownSid) - before0;
  closeAll();
  assert.ok(unknown > 0, 'nodes answered "Session ID unknown"');
  assert.ok(failed > 0, `${failed} of ${CLIENTS} clients failed`);
});

/** Sessions of earlier runs all gone, and their last requests answered. */
async function quiet() {
  let last = -1;
  let seen = '';
  await h
    .waitFor(
      async () => {
        const ss = await allStats();
        const busy = sum(ss, (s) => s.engineClients + (s.forward ? s.forward.inFlight + s.forward.tunnels : 0));
        const unknown = sum(ss, (s) => s.unknownSid);
        const still = busy === 0 && unknown === last;
        last = unknown;
        seen = JSON.stringify(ss.map((s) => [s.node, s.engineClients, s.forward && s.forward.inFlight, s.unknownSid]));
        if (!still) await h.sleep(300);
        return still;
      },
      40000,
      'the nodes to be idle',
    )
    .catch((e) => {
      throw new Error(`${e.message}; [node, engine clients, forwards in flight, unknown sids]: ${seen}`);
    });
}

async function solvedRun(opts, check, url = lb.url) {
  await setForward(true);
  await quiet();
  const s0 = await allStats();
  const list = [];
  for (let i = 0; i < CLIENTS; i++) list.push(client(opts, url));
  await Promise.all(list.map((s) => connected(s)));
  if (check) await check(list);
  await exchange(list);
  const s1 = await allStats();
  const unknown = sum(s1, (s) => s.unknownSid) - sum(s0, (s) => s.unknownSid);
  const trouble = list.flatMap((s) => s.trouble);
  closeAll();
  assert.equal(unknown, 0, '"Session ID unknown" answers');
  assert.deepEqual(trouble, [], 'no client error, disconnect or reconnect');
  return { s0, s1 };
}

test('forwarding: polling-only clients through round-robin HAProxy', T, async () => {
  const { s0, s1 } = await solvedRun({ transports: ['polling'] });
  const fwd = (ss, k) => sum(ss, (s) => s.forward[k]);
  assert.ok(fwd(s1, 'forwardedPoll') > fwd(s0, 'forwardedPoll'), 'polls were forwarded');
  assert.ok(fwd(s1, 'forwardedPost') > fwd(s0, 'forwardedPost'), 'posts were forwarded');
  assert.ok(fwd(s1, 'served') > fwd(s0, 'served'), 'owners served forwarded requests');
  for (const s of s1) {
    assert.equal(s.forward.failures.unreachable + s.forward.failures.timeout + s.forward.failures.limit, 0, s.node);
    assert.match(s.metrics, /sidecast_forward_requests_total\{kind="poll"\} \d+/);
  }
});

test('forwarding: default transports (polling, then upgrade) through round-robin HAProxy', T, async () => {
  const { s0, s1 } = await solvedRun({}, async (list) => {
    for (const s of list)
      await h.waitFor(() => s.io.engine && s.io.engine.transport.name === 'websocket', 15000, 'upgrade to websocket');
  });
  const up = (ss) => sum(ss, (s) => s.forward.forwardedUpgrade);
  assert.ok(up(s1) > up(s0), 'websocket upgrades were forwarded to the owner');
});

test('HAProxy recipe: its health check passes for a socket.io app with a ready sidecar, and makes no session', T, async () => {
  await setForward(true);
  await quiet();
  // while a check runs HAProxy shows "* <last status>" and code 0: read a finished one
  const st = await serversAre((_, s) => !s.check_status.startsWith('* '), 'HAProxy between two checks');
  for (const n of nodes) {
    const s = st[srvName(n)];
    assert.equal(s.status, 'UP', `${n.name}: ${JSON.stringify(s)}`);
    assert.equal(s.check_status, 'L7OK', `${n.name}: ${JSON.stringify(s)}`);
    assert.equal(s.check_code, '400', `${n.name}: the last step, the app's socket.io path, answered 400`);
    // the two steps of the check, asked the same way
    const app = await raw(n, 'GET', '/socket.io/');
    assert.equal(app.status, 400);
    assert.deepEqual(JSON.parse(app.body), { code: 0, message: 'Transport unknown' });
    const ready = await fetch(`http://${n.host}:${sidecarPort}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal((await ready.text()).trim(), 'ready');
  }
  // HAProxy has checked every node every second since the suite started; an
  // engine.io session lives pingInterval + pingTimeout (30 s) unpolled, so a
  // check that opened one would show here
  for (const s of await allStats()) assert.equal(s.engineClients, 0, `${s.node}: engine.io sessions`);
});

test('nginx recipe: polling and websocket clients through the shipped nginx.conf, round-robin', T, async () => {
  const ngx = await lbr.startNginx(dir, nodes);
  try {
    await h.waitFor(
      async () => (await fetch(`${ngx.url}/socket.io/`)).status === 400,
      20000,
      'nginx to pass /socket.io/ to the nodes',
    );
    const poll = await solvedRun({ transports: ['polling'] }, null, ngx.url);
    const fwd = (ss, k) => sum(ss, (s) => s.forward[k]);
    assert.ok(fwd(poll.s1, 'forwardedPoll') > fwd(poll.s0, 'forwardedPoll'), 'nginx spread polls over nodes');
    const ws = await solvedRun(
      {},
      async (list) => {
        for (const s of list)
          await h.waitFor(() => s.io.engine && s.io.engine.transport.name === 'websocket', 15000, 'upgrade to websocket');
      },
      ngx.url,
    );
    assert.ok(fwd(ws.s1, 'forwardedUpgrade') > fwd(ws.s0, 'forwardedUpgrade'), 'upgrades forwarded to the owner');
  } finally {
    closeAll();
    await h.stopChild(ngx.child);
  }
});

/** One raw HTTP request straight to node n: {status, body}. */
function raw(n, method, url, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: n.host, port: n.port, method, path: url, headers, agent: false }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode, body: data }));
    });
    r.on('error', reject);
    r.end(body);
  });
}

/** A raw engine.io polling session created on node n, socket.io-connected. */
async function rawSession(n) {
  const open = await raw(n, 'GET', '/socket.io/?EIO=4&transport=polling');
  const sid = JSON.parse(open.body.slice(1)).sid;
  const q = `/socket.io/?EIO=4&transport=polling&sid=${sid}`;
  assert.equal((await raw(n, 'POST', q, '40')).body, 'ok');
  assert.match((await raw(n, 'GET', q)).body, /^40/);
  return { sid, q };
}

async function fwdStats(n) {
  return (await getJson(`${n.url}/_t/stats`)).forward;
}

test('security and bounds: directory sids and addresses only, no loops, limits and timeouts counted', T, async () => {
  await setForward(true);
  await quiet();
  const [A, B] = nodes;
  const s = await rawSession(A);

  // The target comes from the directory, never from the request.
  const f0 = await fwdStats(B);
  const spoof = { host: '127.0.0.2:1', 'x-forwarded-host': '127.0.0.2:1', forwarded: 'host=127.0.0.2:1' };
  const post = await raw(B, 'POST', s.q, '42["echo","via B"]', { ...spoof, 'content-type': 'text/plain' });
  assert.deepEqual(post, { status: 200, body: 'ok' }, 'POST with a body forwarded to the owner');
  const poll = await raw(B, 'GET', s.q, undefined, spoof);
  assert.equal(poll.status, 200);
  assert.match(poll.body, /\["echo","via B"\]/, 'the owner answered the forwarded poll');
  let f1 = await fwdStats(B);
  assert.equal(f1.forwardedPost, f0.forwardedPost + 1);
  assert.equal(f1.forwardedPoll, f0.forwardedPoll + 1);

  // A sid no directory knows: engine.io's own answer, counted.
  const unknown = await raw(B, 'GET', '/socket.io/?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA');
  assert.equal(unknown.status, 400);
  assert.deepEqual(JSON.parse(unknown.body), { code: 1, message: 'Session ID unknown' });
  f1 = await fwdStats(B);
  assert.equal(f1.failures.unknown_sid, f0.failures.unknown_sid + 1);
  assert.ok(f1.lookupRetries > f0.lookupRetries, 'a miss is retried (registration race) before giving up');

  // A malformed sid is never looked up.
  const bad = await raw(B, 'GET', '/socket.io/?EIO=4&transport=polling&sid=..%2F..%2Fx');
  assert.equal(bad.status, 400);
  assert.equal((await fwdStats(B)).lookups, f1.lookups);

  // Loop guard: a request that says it was forwarded is never forwarded again.
  const loop = await raw(B, 'GET', s.q, undefined, { 'x-sidecast-forwarded': 'node-9' });
  assert.equal(loop.status, 400, 'answered by B itself');
  assert.equal((await fwdStats(B)).forwardedPoll, f1.forwardedPoll);

  // Limit: one forwarded request at a time on B; a second one is refused.
  await getJson(`${B.url}/_t/forward?on=1&maxInFlight=1`, 'POST');
  const s2 = await rawSession(A);
  const held = raw(B, 'GET', s.q); // the owner holds it: no data for s yet
  await h.waitFor(async () => (await fwdStats(B)).inFlight === 1, 10000, 'the held poll to be in flight');
  const refused = await raw(B, 'GET', s2.q);
  assert.equal(refused.status, 503);
  assert.equal((await fwdStats(B)).failures.limit, 1);
  await raw(A, 'POST', s.q, '42["echo","release"]');
  assert.match((await held).body, /release/, 'the held poll came back with the data');

  // Timeout: a forwarded poll the owner holds past `timeout` gets 504.
  await getJson(`${B.url}/_t/forward?on=1&timeout=300`, 'POST');
  const late = await raw(B, 'GET', s2.q);
  assert.equal(late.status, 504);
  assert.equal((await fwdStats(B)).failures.timeout, 1);
  assert.match((await getJson(`${B.url}/_t/stats`)).metrics, /sidecast_forward_failures_total\{reason="timeout"\} 1/);

  await raw(A, 'POST', s.q, '1'); // engine.io close packet: end s (s2 ended with its cut poll)
  await getJson(`${B.url}/_t/forward?on=0`, 'POST');
  await getJson(`${B.url}/_t/forward?on=1`, 'POST');
});

test('two namespaces on one session: the session stays reachable when one leaves', T, async () => {
  // no sid cache, so every forwarded request asks the directory
  for (const n of nodes) {
    await getJson(`${n.url}/_t/forward?on=0`, 'POST');
    await getJson(`${n.url}/_t/forward?on=1&cacheMs=0`, 'POST');
  }
  await quiet();
  const s0 = await allStats();
  const m = new Manager(lb.url, { transports: ['polling'], reconnection: false, timeout: 10000 });
  const main = m.socket('/');
  const other = m.socket('/other');
  const trouble = [];
  for (const s of [main, other]) {
    s.on('connect_error', (e) => trouble.push(`connect_error: ${e.message}`));
    s.on('disconnect', (r) => trouble.push(`disconnect: ${r}`));
  }
  try {
    await h.waitFor(() => main.connected && other.connected, 15000, 'both namespaces to connect');
    assert.equal(await main.timeout(10000).emitWithAck('whoami'), await other.timeout(10000).emitWithAck('whoami'));
    other.disconnect();
    trouble.length = 0;
    for (let i = 0; i < 10; i++) await main.timeout(10000).emitWithAck('whoami');
    const s1 = await allStats();
    assert.deepEqual(trouble, [], 'no error or disconnect on the remaining namespace');
    assert.equal(sum(s1, (s) => s.unknownSid) - sum(s0, (s) => s.unknownSid), 0, '"Session ID unknown" answers');
    assert.ok(sum(s1, (s) => s.forward.lookups) > sum(s0, (s) => s.forward.lookups), 'forwarded through lookups');
  } finally {
    m.engine && m.engine.close();
    for (const n of nodes) {
      await getJson(`${n.url}/_t/forward?on=0`, 'POST');
      await getJson(`${n.url}/_t/forward?on=1`, 'POST');
    }
  }
});

test('draining: SIGTERM to a sidecar takes its node out of HAProxy; not ready keeps it out; ready brings it back', T, async () => {
  await setForward(true);
  await quiet();
  const victim = nodes[1];
  const i = nodes.indexOf(victim) + 1;
  const name = srvName(victim);
  const sockDir = victim.d.dir;
  const readyz = `http://${victim.host}:${sidecarPort}/readyz`;
  const opts = { transports: ['polling'], reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 500 };
  const list = [];
  for (let k = 0; k < CLIENTS; k++) list.push(client(opts));
  await Promise.all(list.map((s) => connected(s)));
  for (const s of list) s.on('connect', () => s.emit('join', s.room));
  await exchange(list);
  const owner = new Map();
  for (const s of list) owner.set(s, await s.timeout(10000).emitWithAck('whoami'));
  const movers = list.filter((s) => owner.get(s) === victim.name);
  const stayers = list.filter((s) => owner.get(s) !== victim.name);
  assert.ok(movers.length > 0 && stayers.length > 0, `sessions on ${victim.name} and elsewhere: ${[...owner.values()]}`);
  const oldIds = new Map(movers.map((s) => [s, s.id]));
  for (const s of list) s.trouble.length = 0;

  // 1. SIGTERM: /readyz answers 503 at once, the sidecar leaves the cluster
  //    (its directory entries go) and exits; the app keeps running
  assert.equal(await victim.d.stop(), 0, 'sidecastd exits 0 after draining');
  await serversAre(
    (n, st) => (n === name ? st.status === 'DOWN' : st.status === 'UP'),
    `${name} DOWN, the others UP`,
  );
  const seen = await reached(4 * NODES);
  assert.ok(!seen.has(victim.name), `no request reaches ${victim.name}: ${[...seen]}`);
  assert.equal(seen.size, NODES - 1, 'the other nodes share the requests');
  // the others talk on: an ack answers each one's held poll (wherever it
  // is relayed), and its next polls go to the nodes in rotation
  for (const s of stayers) assert.equal(await s.timeout(10000).emitWithAck('whoami'), owner.get(s));
  await h.waitFor(
    async () => {
      const f = (await getJson(`${victim.url}/_t/stats`)).forward;
      return f.inFlight + f.tunnels === 0;
    },
    30000,
    `${victim.name} to relay nothing`,
  );
  // now stop its app: its held polls close and its clients reconnect
  // through HAProxy at once, onto the other nodes (their sessions left the
  // directory with the sidecar: no node could forward them)
  await h.stopChild(victim.child);
  await h.waitFor(
    () => movers.every((s) => s.connected && s.id !== oldIds.get(s)),
    30000,
    `the clients of ${victim.name} to reconnect`,
  );
  for (const s of movers) assert.notEqual(await s.timeout(10000).emitWithAck('whoami'), victim.name);
  // ...and everyone talks across the remaining nodes
  for (const s of list) s.said.length = 0;
  await exchange(list);
  assert.deepEqual(
    stayers.flatMap((s) => s.trouble),
    [],
    'clients on the other nodes: no error, disconnect or reconnect',
  );

  // 2. the app back, beside a sidecar that runs but is not ready (its
  //    Redis unreachable): /readyz 503 keeps the node out
  const nowhere = `redis://127.0.0.1:${await h.freePort()}`;
  victim.d = await sidecastd(i, victim.host, victim.port, { redisUrl: nowhere, sockDir }).start();
  victim.child = startNode(i, victim.d, victim.host, victim.port);
  await h.waitFor(() => getJson(`${victim.url}/_t/stats`), 20000, `${victim.name} to listen`);
  await setForward(true);
  await h.waitFor(async () => (await fetch(readyz)).status === 503, 10000, 'the sidecar to answer /readyz 503');
  assert.equal((await fetch(`http://${victim.host}:${sidecarPort}/healthz`)).status, 200, 'alive');
  await serversAre(
    (n, st) => (n === name ? st.status === 'DOWN' && st.check_code === '503' : st.status === 'UP'),
    `${name} kept DOWN by its sidecar's 503`,
  );

  // 3. ready again: back in rotation
  assert.equal(await victim.d.stop(), 0);
  victim.d = await sidecastd(i, victim.host, victim.port, { sockDir }).start();
  await serversAre((_, st) => st.status === 'UP', 'every server UP again');
  await h.waitFor(async () => (await reached(NODES)).size === NODES, 20000, 'HAProxy to balance over every node');
  closeAll();
  await quiet();
});

test('a node dies: its sessions fail cleanly and reconnect on the survivors', T, async () => {
  await setForward(true);
  const opts = { transports: ['polling'], reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 500 };
  const list = [];
  for (let i = 0; i < CLIENTS; i++) list.push(client(opts));
  await Promise.all(list.map((s) => connected(s)));
  for (const s of list) s.on('connect', () => s.emit('join', s.room));
  await exchange(list);
  const owner = new Map();
  for (const s of list) owner.set(s, await s.timeout(10000).emitWithAck('whoami'));
  const victim = nodes[NODES - 1];
  const orphans = list.filter((s) => owner.get(s) === victim.name);
  assert.ok(orphans.length > 0, `some sessions live on ${victim.name}`);
  const oldIds = new Map(orphans.map((s) => [s, s.id]));

  await h.stopChild(victim.child, 'SIGKILL');
  await victim.d.kill();

  // each orphan sees its session end, then reconnects on a live node
  await h.waitFor(
    () => orphans.every((s) => s.connected && s.id !== oldIds.get(s)),
    30000,
    'orphaned clients to reconnect',
  );
  for (const s of orphans)
    assert.ok(
      s.trouble.some((t) => t.startsWith('disconnect')),
      'orphan saw a disconnect',
    );
  await h.waitFor(() => list.every((s) => s.connected), 30000, 'every client connected');
  for (const s of list) {
    const where = await s.timeout(10000).emitWithAck('whoami');
    assert.notEqual(where, victim.name, 'no session on the dead node');
  }
  // the survivors serve everyone, rooms across nodes work again
  for (const s of list) s.said.length = 0;
  await exchange(list);
  closeAll();
});
