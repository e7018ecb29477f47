'use strict';
// Issue 19 item 2: the app's sidecast counters in Prometheus form, as text
// (metrics(io)) and through prom-client (registerMetrics). One standalone
// sidecastd with a small max_payload_bytes; a socket.io server with two
// namespaces and the forwarder. After emits, refused oversize emits, frames
// queued and dropped while sidecastd restarts, and a reconnect, both show
// the exact counter values, and promtool accepts both.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const { spawnSync } = require('child_process');
const promClient = require('prom-client');
const h = require('./harness');
const { metrics, registerMetrics, enableForwarding } = require('..');

const T = { timeout: 60000 };
const PROMTOOL = process.env.PROMTOOL || '/usr/bin/promtool';
let d, srv, forwarder;
const clients = [];

before(async () => {
  d = await new h.Sidecastd({ name: 'metrics', extra: ['--max-payload-bytes', '65536'] }).start();
  srv = await h.startIo(d.sock, { logger: false });
  srv.io.of('/chat').on('connection', () => {});
  forwarder = enableForwarding(srv.io, { log: false });
});

after(async () => {
  for (const c of clients) c.disconnect();
  forwarder.close();
  await srv.close();
  assert.equal(await d.stop(), 0);
});

/** {sample line without value -> value} of a text exposition; throws on a family seen twice. */
function parse(text) {
  const samples = new Map();
  const families = new Set();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = /^# TYPE (\S+) (counter|gauge)$/.exec(line);
    if (m) {
      assert.ok(!families.has(m[1]), `family ${m[1]} twice`);
      families.add(m[1]);
      continue;
    }
    if (line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return { samples, families };
}

function promtool(text) {
  if (!fs.existsSync(PROMTOOL)) return null;
  return spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
}

const TITLE = 'metrics(io) and registerMetrics(): exact counters after emits, refusals, a restart; promtool accepts them';
test(TITLE, T, async (t) => {
  const { io, client } = srv;
  const registry = new promClient.Registry();
  registerMetrics(io, promClient, registry);

  const a = await h.connect(srv.url);
  const b = await h.connect(`${srv.url}/chat`);
  clients.push(a, b);
  const seen = h.recorder(a);

  // emits that go through: counted nowhere
  io.emit('hello', 1);
  io.emit('hello', 2);
  await h.expectCounts([[seen, 'hello', 2]], 'emits before the restart');

  // over max_payload_bytes: refused before anyone gets it, counted per namespace and in the client
  const huge = Buffer.alloc(70000);
  assert.throws(() => io.emit('huge', huge), { code: 'TOO_LARGE' });
  assert.throws(() => io.of('/chat').emit('huge', huge), { code: 'TOO_LARGE' });
  assert.throws(() => io.of('/chat').emit('huge', huge), { code: 'TOO_LARGE' });

  // sidecastd restarts: 3 emits wait in the queue, 1 volatile one is dropped
  const lost = h.once(client, 'disconnect', 30000);
  const back = h.once(client, 'reconnect', 30000);
  assert.equal(await d.stop(), 0);
  await lost;
  for (let i = 0; i < 3; i++) io.emit('queued', i);
  io.volatile.emit('gone', 1);
  let p = parse(metrics(io));
  assert.equal(p.samples.get('sidecast_app_queue_frames'), 3, 'queue gauge while down');
  assert.equal(p.samples.get('sidecast_app_connected'), 0, 'connected gauge while down');
  await d.start();
  await back;
  await h.expectCounts([[seen, 'queued', 3], [seen, 'gone', 0]], 'the queued emits, sent at reconnect');
  await h.settle(client);

  const text = metrics(io);
  p = parse(text);
  const want = {
    'sidecast_app_dropped_total{reason="disconnected"}': 1,
    'sidecast_app_dropped_total{reason="volatile"}': 0,
    'sidecast_app_dropped_total{reason="slow_reader"}': 0,
    'sidecast_app_dropped_total{reason="too_large"}': 3,
    sidecast_app_refused_total: 0,
    sidecast_app_reconnects_total: 1,
    'sidecast_app_unreadable_total{reason="payload"}': 0,
    'sidecast_app_unreadable_total{reason="namespace"}': 0,
    sidecast_app_queued_frames_total: 3,
    sidecast_app_queue_frames: 0,
    sidecast_app_connected: 1,
    'sidecast_app_namespace_too_large_total{namespace="/"}': 1,
    'sidecast_app_namespace_too_large_total{namespace="/chat"}': 2,
    'sidecast_forward_requests_total{kind="poll"}': 0,
    'sidecast_forward_failures_total{reason="unknown_sid"}': 0,
    sidecast_forward_in_flight: 0,
  };
  for (const [k, v] of Object.entries(want)) assert.equal(p.samples.get(k), v, `${k} in\n${text}`);
  for (const ns of ['/', '/chat']) {
    const st = io.of(ns).adapter.stats;
    assert.equal(p.samples.get(`sidecast_app_namespace_data_sent_total{namespace="${ns}"}`), st.dataSent);
    assert.equal(p.samples.get(`sidecast_app_namespace_data_checked_total{namespace="${ns}"}`), st.dataChecked);
  }
  assert.deepEqual(client.counters, {
    reconnects: 1,
    droppedDisconnected: 1,
    droppedVolatile: 0,
    droppedSlow: 0,
    refusedTooLarge: 3,
    refused: 0,
    queued: 3,
    unreadablePayload: 0,
    unknownNamespace: 0,
  });
  for (const f of p.families) assert.match(f, /^sidecast_(app|forward)_/);
  assert.ok(p.families.has('sidecast_forward_requests_total'), 'the forwarder families are included');
  assert.equal((text.match(/^# HELP /gm) || []).length, p.families.size, 'one HELP per family');

  // prom-client: the same families and values, read at scrape time
  const promText = await registry.metrics();
  const q = parse(promText);
  assert.deepEqual([...q.families].sort(), [...p.families].sort());
  assert.deepEqual(new Map([...q.samples].sort()), new Map([...p.samples].sort()));

  const r1 = promtool(text);
  const r2 = promtool(promText);
  if (r1 === null) return t.skip(`no promtool at ${PROMTOOL}`);
  assert.equal(r1.status, 0, `promtool check metrics on metrics(io):\n${r1.stdout}${r1.stderr}\n${text}`);
  assert.equal(r2.status, 0, `promtool check metrics on prom-client's output:\n${r2.stdout}${r2.stderr}`);
});

test('registerMetrics: the default registry, a registry without the forwarder, checks its arguments', T, async () => {
  const { io } = srv;
  assert.throws(() => registerMetrics(io, {}), TypeError);
  assert.throws(() => registerMetrics(null, promClient), TypeError);
  const reg = new promClient.Registry();
  forwarder.close();
  try {
    registerMetrics(io, promClient, reg);
    const out = await reg.metrics();
    assert.match(out, /^sidecast_app_reconnects_total 1$/m);
    assert.doesNotMatch(out, /sidecast_forward_/);
    assert.doesNotMatch(metrics(io), /sidecast_forward_/, 'a closed forwarder is not in metrics(io)');
  } finally {
    forwarder = enableForwarding(io, { log: false });
  }
  promClient.register.clear();
  registerMetrics(io, promClient);
  assert.match(await promClient.register.metrics(), /^sidecast_app_dropped_total\{reason="too_large"\} 3$/m);
  promClient.register.clear();
});
