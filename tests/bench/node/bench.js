'use strict';
// socket.io on two nodes: the sidecast adapter against @socket.io/redis-adapter,
// in one run, same app (app.js), same clients (client.js), same payloads.
//
//   node tests/bench/node/bench.js        (after building sidecastd in build/)
//
// Starts one redis-server on a free loopback port and, for each adapter,
// (sidecast only) two sidecastd in cluster mode on it, two app processes
// (node 1 emits, node 2 is "the other node"), and one client process per
// node with BENCH_CLIENTS_PER_NODE socket.io clients each. Each case then
// runs BENCH_ROUNDS rounds, alternating redis adapter and sidecast round by
// round (same machine conditions for both), and the rounds are pooled. Cases:
//   room-flow    io.to('bench').emit to every client on both nodes, at most
//                ROOM_WINDOW emits in flight (acknowledged once every client
//                got it): emits/s, deliveries/s, latency under load
//   room-rate    the same at a fixed ROOM_RATE/s: latency of every delivery,
//                and of the first delivery on node 2 (the first remote
//                client to get each broadcast, while node 1 writes it to its
//                own PER_NODE clients)
//   target-flow  io.to(<socket id on node 2>).emit, rotating over node 2's
//                clients, TARGET_WINDOW in flight: emits/s
//   target-rate  the same at a fixed TARGET_RATE/s (1,000): latency, and the CPU
//                per emit when each message wakes every process on its way
//   target-light the same at TARGET_LIGHT_RATE/s (100)
//   fetch        io.fetchSockets() from node 1 (all clients of both nodes),
//                FETCH_WINDOW in flight: calls/s, latency
//   fetch-one    io.in(<socket id on node 2>).fetchSockets(), rotating over
//                node 2's clients, one call at a time: one remote socket
//   fetch-churn  the same as fetch while node 2's app assigns socket.data of one of
//                its sockets every CHURN_MS (a new value each time): with
//                sidecast, node 2 then answers in full whenever a change
//                came since the fetch before (no kept answer applies)
// For each case the CPU seconds (utime+stime from /proc/<pid>/stat) of each
// app, each sidecastd and redis-server per 10,000 emits (or calls). Not a
// test: nothing here passes or fails; targets are reported as met or not.
// The summary puts both adapters side by side, with ratios, for whatever
// cases ran: room broadcast latency (first remote delivery, every delivery)
// and fetchSockets calls/s and latency first (BENCH_CASES=room-rate,fetch
// BENCH_ROUNDS=1 gives just those, in about a minute).
// Env: SIDECASTD, BENCH_SECONDS per round (3), BENCH_ROUNDS (3),
// BENCH_CLIENTS_PER_NODE (500),
// BENCH_PAYLOAD_BYTES (100), BENCH_ADAPTERS (redis,sidecast), BENCH_CASES (all),
// BENCH_JSON (write the figures there), BENCH_APP_ARGS (node flags for the
// apps, e.g. --cpu-prof), BENCH_SIDECAST_ALT (another clients/node, e.g. a
// worktree of an older commit: adds adapter "sidecast-alt", the same setup
// with that copy of the adapter, to compare two versions in one run),
// BENCH_SIDECASTD_ALT (another sidecastd binary for "sidecast-alt"; alone,
// it compares two daemons under this tree's adapter).
const { fork, spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { sleep, track, freePort, waitConnectable, stopChild, ask, startRedis, findSidecastd } = require('./procs');
const { Hist } = require('./hist');

const repo = path.resolve(__dirname, '..', '..', '..');
const SECONDS = Number(process.env.BENCH_SECONDS || 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
const WARMUP_MS = 1000;
// Targeted emits at a fixed rate go round the targets in turn: warm up for
// two turns (at 100/s over 500 sockets, 10 s), so that the measured seconds
// see what a steady load sees (routes cached, refreshed or expiring), not
// the cold start each round would be after the other setups' rounds.
const warmupMs = (c) => (c.kind === 'target' && c.mode === 'rate' ? Math.min(20000, Math.max(WARMUP_MS, (2000 * PER_NODE) / c.rate)) : WARMUP_MS);
const PER_NODE = Number(process.env.BENCH_CLIENTS_PER_NODE || 500);
const PAYLOAD = 'x'.repeat(Number(process.env.BENCH_PAYLOAD_BYTES || 100));
const ALT = process.env.BENCH_SIDECAST_ALT ? path.resolve(process.env.BENCH_SIDECAST_ALT) : null;
const ALT_DAEMON = process.env.BENCH_SIDECASTD_ALT ? path.resolve(process.env.BENCH_SIDECASTD_ALT) : null;
const ADAPTERS = (process.env.BENCH_ADAPTERS || (ALT || ALT_DAEMON ? 'redis,sidecast,sidecast-alt' : 'redis,sidecast')).split(',');
const ROOM_WINDOW = 8;
const ROOM_RATE = 10;
const TARGET_WINDOW = 128;
const TARGET_RATE = 1000;
const TARGET_LIGHT_RATE = 100;
const FETCH_WINDOW = 1;
const CHURN_MS = 10;
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

const CASES = [
  { name: 'room-flow', kind: 'room', mode: 'flow', window: ROOM_WINDOW },
  { name: 'room-rate', kind: 'room', mode: 'rate', rate: ROOM_RATE, window: 10000 },
  { name: 'target-flow', kind: 'target', mode: 'flow', window: TARGET_WINDOW },
  { name: 'target-rate', kind: 'target', mode: 'rate', rate: TARGET_RATE, window: 10000 },
  { name: 'target-light', kind: 'target', mode: 'rate', rate: TARGET_LIGHT_RATE, window: 10000 },
  { name: 'fetch', kind: 'fetch', mode: 'flow', window: FETCH_WINDOW },
  { name: 'fetch-one', kind: 'fetch', mode: 'flow', window: 1, one: true },
  { name: 'fetch-churn', kind: 'fetch', mode: 'flow', window: FETCH_WINDOW, churnMs: CHURN_MS },
].filter((c) => !process.env.BENCH_CASES || process.env.BENCH_CASES.split(',').includes(c.name));

function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime + stime
}

// Waits up to `graceMs` for the child to exit by itself (after an 'exit'
// command), then SIGTERM, then SIGKILL after `ms`.

// Request/reply over a forked child's IPC channel: the next message that has
// `key` is the answer (bounded wait).

function redisCommand(port, line) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(line + '\r\n'));
    let got = '';
    s.on('data', (d) => {
      got += d.toString();
      // a bulk string ($<len>) may come in several reads; anything else in one
      const m = /^\$(\d+)\r\n/.exec(got);
      if (!m || Buffer.byteLength(got) >= m[0].length + Number(m[1]) + 2) s.destroy(), resolve(got);
    });
    s.once('error', reject);
  });
}

// Redis's own count of calls and of microseconds spent in each command
// (INFO commandstats): unlike CPU ticks, exact at any rate. The deltas over
// a round include the idle setups' heartbeats, the same for every adapter.
async function redisCommandStats(port) {
  const out = {};
  const re = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm;
  for (let m; (m = re.exec(await redisCommand(port, 'INFO commandstats'))); ) out[m[1]] = { calls: Number(m[2]), usec: Number(m[3]) };
  return out;
}

async function startNodes(adapter, dir, redis) {
  const nodes = [];
  for (let i = 1; i <= 2; i++) {
    const name = `bench-${adapter}-${i}`;
    const socket = path.join(dir, `${adapter}-${i}.sock`);
    let sidecastd = null;
    if (adapter !== 'redis') {
      sidecastd = track(
        // sidecast-alt: its own cluster on the same Redis (another key prefix)
        spawn(adapter === 'sidecast-alt' && ALT_DAEMON ? ALT_DAEMON : findSidecastd(), ['--socket', socket, '--redis-url', redis.url, '--node-name', name, '--log-level', 'warn', '--http-listen', '127.0.0.1:0', ...(adapter === 'sidecast-alt' ? ['--redis-prefix', 'sidecast-alt'] : [])], {
          stdio: ['ignore', 'ignore', fs.openSync(path.join(dir, `${name}.log`), 'a')],
        }),
      );
      await waitConnectable(socket, 10000, sidecastd, name);
    }
    const port = await freePort();
    const app = track(
      fork(path.join(__dirname, 'app.js'), [], {
        execArgv: (process.env.BENCH_APP_ARGS || '').split(' ').filter(Boolean),
        cwd: process.env.BENCH_APP_ARGS ? process.cwd() : undefined,
        env: {
          ...process.env,
          BENCH_NODE: name,
          BENCH_ADAPTER: adapter,
          BENCH_SIDECAST_MODULE: adapter === 'sidecast-alt' && ALT ? ALT : 'sidecast',
          REDIS_URL: redis.url,
          SIDECAST_SOCKET: socket,
          PORT: String(port),
        },
      }),
    );
    await ask(app, null, 'ready', 20000);
    nodes.push({ name, port, app, sidecastd });
  }
  for (const n of nodes) {
    n.client = track(fork(path.join(__dirname, 'client.js'), [], {
      env: { ...process.env, BENCH_URL: `http://127.0.0.1:${n.port}`, BENCH_CLIENTS: String(PER_NODE) },
    }));
  }
  await Promise.all(nodes.map((n) => ask(n.client, null, 'connected', 60000)));
  return nodes;
}

// Relays the clients' reports to the emitting app: an emit is complete when
// every client process that must see it has reported it. Completions go to
// the app in chunks (a quarter of the window, or whatever completed within
// 1 ms), so the flow control's own IPC stays a small, equal cost for both
// adapters.
function ackRelay(nodes, kind, window) {
  const need = kind === 'room' ? nodes.length : 1;
  const chunk = Math.max(1, Math.floor(window / 4));
  const partial = new Map();
  const sender = nodes[0].app;
  let done = 0;
  let unsent = 0;
  let timer = null;
  const flush = () => {
    clearTimeout(timer);
    timer = null;
    if (unsent && sender.connected) sender.send({ cmd: 'acks', n: unsent });
    unsent = 0;
  };
  const onAcks = (m) => {
    if (!m.acks) return;
    for (const seq of m.acks) {
      const got = (partial.get(seq) || 0) + 1;
      if (got < need) {
        partial.set(seq, got);
        continue;
      }
      partial.delete(seq);
      done++;
      unsent++;
    }
    if (unsent >= chunk) flush();
    else if (unsent && !timer) timer = setTimeout(flush, 1);
  };
  for (const n of nodes) n.client.on('message', onAcks);
  return {
    done: () => done,
    close: () => {
      nodes.forEach((n) => n.client.off('message', onAcks));
      clearTimeout(timer);
    },
  };
}

function cpuSnapshot(procs) {
  return procs.map((p) => cpuSeconds(p.pid));
}

// One measured round of case `c` on one adapter's setup: warm up, then
// SECONDS of counters, CPU and latency.
async function runRound(c, { nodes, procs, targets, redis }) {
  const sender = nodes[0].app;
  await Promise.all(nodes.map((n) => ask(n.client, { cmd: 'need', need: c.kind === 'room' ? 'all' : 'one' }, 'ok')));
  const relay = c.kind === 'fetch' ? null : ackRelay(nodes, c.kind, c.window);
  if (c.churnMs) await ask(nodes[1].app, { cmd: 'churn', ms: c.churnMs }, 'churning');
  await ask(sender, { cmd: 'start', kind: c.kind, mode: c.mode, window: c.window, rate: c.rate, one: c.one, targets, payload: PAYLOAD, expect: 2 * PER_NODE }, 'started');
  await sleep(warmupMs(c));

  const snap = async (reset) => ({
    t: process.hrtime.bigint(),
    cpu: cpuSnapshot(procs),
    cmds: await redisCommandStats(redis.port),
    app: await ask(sender, { cmd: 'stats', reset }, 'sent'),
    clients: await Promise.all(nodes.map((n) => ask(n.client, { cmd: 'stats', reset }, 'deliveries'))),
    done: relay ? relay.done() : 0,
  });
  const a = await snap(true);
  await sleep(SECONDS * 1000);
  const b = await snap(false);
  const stopped = await ask(sender, { cmd: 'stop' }, 'stopped', 15000);
  if (c.churnMs) await ask(nodes[1].app, { cmd: 'churn', ms: 0 }, 'churning');
  if (relay) relay.close();
  await sleep(300);

  const sum = (x) => x.clients.reduce((s, y) => s + y.deliveries, 0);
  return {
    secs: Number(b.t - a.t) / 1e9,
    ops: c.kind === 'fetch' ? b.app.calls - a.app.calls : b.done - a.done,
    deliveries: sum(b) - sum(a),
    cpu: b.cpu.map((x, i) => x - a.cpu[i]),
    cmds: Object.fromEntries(
      Object.entries(b.cmds).map(([k, v]) => [k, { calls: v.calls - (a.cmds[k]?.calls || 0), usec: v.usec - (a.cmds[k]?.usec || 0) }]),
    ),
    hists: c.kind === 'fetch' ? [b.app.hist] : b.clients.map((x) => x.hist),
    firsts: c.kind === 'fetch' ? [] : b.clients.map((x) => x.first), // per node: [local, remote]
    unanswered: stopped.inflight,
    bad: b.app.bad - a.app.bad,
  };
}

// Rounds pooled: total operations over total measured time, CPU seconds over
// total operations, latency quantiles of all samples together.
function pool(c, procs, rounds) {
  const secs = rounds.reduce((s, r) => s + r.secs, 0);
  const ops = rounds.reduce((s, r) => s + r.ops, 0);
  const hist = new Hist();
  for (const r of rounds) for (const h of r.hists) hist.merge(h);
  // first delivery of each emit among node 1's clients (local) and node 2's (remote)
  const local = new Hist();
  const remote = new Hist();
  for (const r of rounds)
    if (r.firsts.length === 2) {
      local.merge(r.firsts[0]);
      remote.merge(r.firsts[1]);
    }
  return {
    case: c.name,
    opsPerSec: ops / secs,
    deliveriesPerSec: rounds.reduce((s, r) => s + r.deliveries, 0) / secs,
    p50us: hist.quantile(0.5),
    p99us: hist.quantile(0.99),
    firstLocal: { p50us: local.quantile(0.5), p99us: local.quantile(0.99), n: local.n },
    firstRemote: { p50us: remote.quantile(0.5), p99us: remote.quantile(0.99), n: remote.n },
    ops,
    seconds: secs,
    rounds: rounds.map((r) => Math.round(r.ops / r.secs)),
    unanswered: rounds.reduce((s, r) => s + r.unanswered, 0),
    badFetches: rounds.reduce((s, r) => s + r.bad, 0),
    redisCmds: poolCommands(rounds, ops),
    cpu: procs.map((p, i) => {
      const cs = rounds.reduce((s, r) => s + r.cpu[i], 0);
      return { label: p.label, role: p.role, secs: cs, per10k: ops ? (cs / ops) * 10000 : NaN };
    }),
  };
}

// Redis commands per operation over all rounds: calls and command
// microseconds in total, and the commands that make up most of them.
function poolCommands(rounds, ops) {
  const by = {};
  for (const r of rounds)
    for (const [k, v] of Object.entries(r.cmds)) {
      const t = (by[k] ||= { calls: 0, usec: 0 });
      t.calls += v.calls;
      t.usec += v.usec;
    }
  const list = Object.entries(by)
    .filter(([k, v]) => v.calls > 0 && k !== 'info')
    .map(([k, v]) => ({ cmd: k, callsPerOp: v.calls / ops, usecPerOp: v.usec / ops }))
    .sort((x, y) => y.usecPerOp - x.usecPerOp);
  return {
    callsPerOp: list.reduce((s, x) => s + x.callsPerOp, 0),
    usecPerOp: list.reduce((s, x) => s + x.usecPerOp, 0),
    top: list.slice(0, 4),
  };
}

async function setupAdapter(adapter, dir, redis) {
  const nodes = await startNodes(adapter, dir, redis);
  const procs = [];
  nodes.forEach((n, i) => {
    procs.push({ label: `app ${i + 1}`, role: i === 0 ? 'sender' : 'app', pid: n.app.pid });
    if (n.sidecastd) procs.push({ label: `sidecastd ${i + 1}`, role: 'sidecastd', pid: n.sidecastd.pid });
  });
  procs.push({ label: 'redis-server', role: 'redis', pid: redis.child.pid });
  nodes.forEach((n, i) => procs.push({ label: `clients ${i + 1}`, role: 'clients', pid: n.client.pid }));
  const targets = (await ask(nodes[1].app, { cmd: 'sockets' }, 'sockets')).sockets;
  if (targets.length !== PER_NODE) throw new Error(`node 2 of ${adapter} has ${targets.length} sockets, expected ${PER_NODE}`);
  return { adapter, nodes, procs, targets, redis };
}

async function teardown(setup) {
  for (const n of setup.nodes) {
    n.client.send({ cmd: 'exit' });
    await stopChild(n.client, 3000, 3000);
  }
  for (const n of setup.nodes) {
    n.app.send({ cmd: 'exit' });
    await stopChild(n.app, 3000, 5000);
    if (n.sidecastd) await stopChild(n.sidecastd);
  }
}

const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '–');

function printCase(adapter, r) {
  const unit = r.case.startsWith('fetch') ? 'calls/s' : 'emits/s';
  let line = `${adapter.padEnd(12)} ${r.case.padEnd(11)} ${fmt(r.opsPerSec).padStart(8)} ${unit}`;
  if (!r.case.startsWith('fetch')) line += `  ${fmt(r.deliveriesPerSec).padStart(9)} deliveries/s`;
  line += `  p50 ${fmt(r.p50us / 1000, 2)} ms  p99 ${fmt(r.p99us / 1000, 2)} ms`;
  line += `  (rounds: ${r.rounds.join(', ')})`;
  if (r.unanswered > 0) line += `  (${r.unanswered} never acknowledged)`;
  if (r.badFetches) line += `  (${r.badFetches} fetches with a wrong socket count)`;
  console.log(line);
  if (r.case.startsWith('room') && r.firstRemote.n)
    console.log(
      `         first delivery: node 2 (remote) p50 ${fmt(r.firstRemote.p50us / 1000, 2)} ms  p99 ${fmt(r.firstRemote.p99us / 1000, 2)} ms;` +
        ` node 1 (local) p50 ${fmt(r.firstLocal.p50us / 1000, 2)} ms  p99 ${fmt(r.firstLocal.p99us / 1000, 2)} ms  (${r.firstRemote.n} emits)`,
    );
  console.log(
    `         CPU s per 10k: ` + r.cpu.map((c) => `${c.label} ${fmt(c.per10k, 3)}`).join(', '),
  );
  const rc = r.redisCmds;
  if (rc)
    console.log(
      `         Redis per op: ${fmt(rc.callsPerOp, 2)} commands, ${fmt(rc.usecPerOp, 2)} µs in commands (` +
        rc.top.map((x) => `${x.cmd} ${fmt(x.callsPerOp, 2)} / ${fmt(x.usecPerOp, 2)} µs`).join(', ') + ')',
    );
}

const serverCpu = (r) => r.cpu.filter((c) => c.role !== 'clients').reduce((s, c) => s + c.per10k, 0);
const senderCpu = (r) => r.cpu.find((c) => c.role === 'sender').per10k;

function summary(all) {
  const R = (a, name) => all[a].find((r) => r.case === name);
  const ms = (us) => `${fmt(us / 1000, 2)} ms`;
  const x = (s, r) => `${fmt(s / r, 2)}x`;
  // the headline figures first: room broadcast latency, fetchSockets
  const lines = [];
  const rr = ['room-rate', 'room-flow'].map((n) => [n, R('sidecast', n), R('redis', n)]).find(([, s, r]) => s && r);
  if (rr) {
    const [n, s, r] = rr;
    const load = n === 'room-rate' ? `${ROOM_RATE}/s` : `${ROOM_WINDOW} in flight`;
    lines.push(`room broadcast (${n}, ${load}) from node 1, ${PER_NODE} local + ${PER_NODE} remote clients:`);
    lines.push(
      `  first remote delivery  p50 ${ms(s.firstRemote.p50us)} vs ${ms(r.firstRemote.p50us)} (${x(s.firstRemote.p50us, r.firstRemote.p50us)})` +
        `  p99 ${ms(s.firstRemote.p99us)} vs ${ms(r.firstRemote.p99us)} (${x(s.firstRemote.p99us, r.firstRemote.p99us)})`,
    );
    lines.push(
      `  every delivery         p50 ${ms(s.p50us)} vs ${ms(r.p50us)} (${x(s.p50us, r.p50us)})` +
        `  p99 ${ms(s.p99us)} vs ${ms(r.p99us)} (${x(s.p99us, r.p99us)})`,
    );
  }
  for (const name of ['fetch', 'fetch-one', 'fetch-churn']) {
    const fs_ = R('sidecast', name);
    const fr = R('redis', name);
    if (!fs_ || !fr) continue;
    const how = name === 'fetch' ? '' : name === 'fetch-one' ? '' : `, node 2 changing one socket.data every ${CHURN_MS} ms`;
    const what = name === 'fetch-one' ? 'io.in(<one socket on node 2>).fetchSockets()' : `fetchSockets() (${2 * PER_NODE} sockets on 2 nodes)`;
    lines.push(`${what} from node 1, ${name === 'fetch-one' ? 1 : FETCH_WINDOW} in flight${how}:`);
    lines.push(
      `  ${fmt(fs_.opsPerSec)} vs ${fmt(fr.opsPerSec)} calls/s (${x(fs_.opsPerSec, fr.opsPerSec)})` +
        `  p50 ${ms(fs_.p50us)} vs ${ms(fr.p50us)} (${x(fs_.p50us, fr.p50us)})  p99 ${ms(fs_.p99us)} vs ${ms(fr.p99us)} (${x(fs_.p99us, fr.p99us)})`,
    );
  }
  if (lines.length) console.log(`\nsidecast vs redis-adapter:\n  ${lines.join('\n  ')}`);

  console.log('\nsidecast / redis-adapter (same load, same clients):');
  const rows = [];
  for (const c of CASES) {
    const s = R('sidecast', c.name);
    const r = R('redis', c.name);
    if (!s || !r) continue;
    rows.push({
      case: c.name,
      throughput: s.opsPerSec / r.opsPerSec,
      deliveries: c.kind === 'fetch' ? NaN : s.deliveriesPerSec / r.deliveriesPerSec,
      p50: s.p50us / r.p50us,
      p99: s.p99us / r.p99us,
      firstRemoteP50: c.kind === 'room' ? s.firstRemote.p50us / r.firstRemote.p50us : NaN,
      firstRemoteP99: c.kind === 'room' ? s.firstRemote.p99us / r.firstRemote.p99us : NaN,
      serverCpu: serverCpu(s) / serverCpu(r),
      senderCpu: senderCpu(s) / senderCpu(r),
    });
  }
  for (const x of rows)
    console.log(
      `  ${x.case.padEnd(11)} throughput ${fmt(x.throughput, 2)}x  deliveries ${fmt(x.deliveries, 2)}x  p50 ${fmt(x.p50, 2)}x  p99 ${fmt(x.p99, 2)}x` +
        (Number.isFinite(x.firstRemoteP50) ? `  first remote p50 ${fmt(x.firstRemoteP50, 2)}x p99 ${fmt(x.firstRemoteP99, 2)}x` : '') +
        `  server CPU/op ${fmt(x.serverCpu, 2)}x  sender app CPU/op ${fmt(x.senderCpu, 2)}x`,
    );
  const row = (n) => rows.find((x) => x.case === n);
  const targets = [
    ['total server CPU per cross-node targeted emit', 'target-flow', 'serverCpu', '<=', 0.45],
    ['sender app CPU per cross-node targeted emit', 'target-flow', 'senderCpu', '<=', 0.3],
    ['fetchSockets calls/s', 'fetch', 'throughput', '>=', 10],
    ['one remote socket fetchSockets(): server CPU per call', 'fetch-one', 'serverCpu', '<=', 0.3],
    ['one remote socket fetchSockets(): p50 latency', 'fetch-one', 'p50', '<=', 0.5],
    ['room broadcast client deliveries/s', 'room-flow', 'deliveries', '>=', 1.2],
  ]
    .filter(([, n]) => row(n))
    .map(([what, n, k, op, t]) => [what, row(n)[k], op, t]);
  if (targets.length) console.log('\ntargets (total = apps + sidecastds + redis-server, clients excluded):');
  for (const [what, v, op, t] of targets) {
    const met = op === '<=' ? v <= t : v >= t;
    console.log(`  ${what}: ${fmt(v, 2)}x (target ${op} ${t}x) ${met ? 'met' : 'NOT met'}`);
  }
  return { rows, targets: targets.map(([what, v, op, t]) => ({ what, ratio: v, op, target: t })) };
}

// sidecast-alt (BENCH_SIDECAST_ALT) against sidecast, and each against the redis adapter
function altSummary(all) {
  const R = (a, name) => all[a] && all[a].find((r) => r.case === name);
  console.log('\nsidecast (this tree) and sidecast-alt (BENCH_SIDECAST_ALT / BENCH_SIDECASTD_ALT), each / redis-adapter, and sidecast / sidecast-alt:');
  for (const c of CASES) {
    const s = R('sidecast', c.name);
    const a = R('sidecast-alt', c.name);
    const r = R('redis', c.name);
    if (!s || !a) continue;
    const line = (x) => (r ? `throughput ${fmt(x.opsPerSec / r.opsPerSec, 2)}x  sender app CPU/op ${fmt(senderCpu(x) / senderCpu(r), 3)}x  server CPU/op ${fmt(serverCpu(x) / serverCpu(r), 3)}x` : '');
    console.log(`  ${c.name.padEnd(11)} sidecast:     ${line(s)}`);
    console.log(`  ${''.padEnd(11)} sidecast-alt: ${line(a)}`);
    console.log(`  ${''.padEnd(11)} sidecast / sidecast-alt: throughput ${fmt(s.opsPerSec / a.opsPerSec, 3)}x  sender app CPU/op ${fmt(senderCpu(s) / senderCpu(a), 3)}x`);
  }
}

/** Redis pub/sub channels each adapter holds (RESP array length). */
async function printChannels(port, when) {
  const count = async (pattern) => Number(/^\*(\d+)/.exec(await redisCommand(port, `PUBSUB CHANNELS ${pattern}`))[1]);
  const prefix = { redis: 'socket.io*', sidecast: 'sidecast:*', 'sidecast-alt': 'sidecast-alt:*' };
  const parts = [];
  for (const a of ADAPTERS) parts.push(`${a} ${await count(prefix[a])}`);
  const patterns = /^:(\d+)/.exec(await redisCommand(port, 'PUBSUB NUMPAT'))[1];
  console.log(`Redis pub/sub channels, ${2 * PER_NODE} clients on 2 nodes, ${when}: ${parts.join(', ')} (patterns: ${patterns})`);
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sidecast-bench-node-'));
  console.log(`socket.io 2 nodes, ${PER_NODE} clients per node, ${PAYLOAD.length} B payload, ${ROUNDS} rounds x ${SECONDS} s per case and adapter, ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)}`);
  console.log(`windows: room ${ROOM_WINDOW}, target ${TARGET_WINDOW}, fetch ${FETCH_WINDOW}; fixed rates: room ${ROOM_RATE}/s, target ${TARGET_RATE}/s and ${TARGET_LIGHT_RATE}/s (warm-up two turns over the targets: ${warmupMs({ kind: "target", mode: "rate", rate: TARGET_LIGHT_RATE }) / 1000} s at ${TARGET_LIGHT_RATE}/s)`);
  const redis = await startRedis(dir);
  await redisCommand(redis.port, 'FLUSHALL');
  const all = {};
  const setups = [];
  try {
    // Both setups stay up for the whole run (idle when not measured), and
    // each case runs for one adapter right after the other: on a shared or
    // noisy machine both see the same conditions.
    for (const a of ADAPTERS) setups.push(await setupAdapter(a, dir, redis));
    await printChannels(redis.port, 'with every client connected');
    for (const c of CASES) {
      const rounds = setups.map(() => []);
      for (let i = 0; i < ROUNDS; i++)
        for (let k = 0; k < setups.length; k++) rounds[k].push(await runRound(c, setups[k]));
      setups.forEach((st, k) => {
        const r = pool(c, st.procs, rounds[k]);
        printCase(st.adapter, r);
        (all[st.adapter] ||= []).push(r);
      });
    }
    await printChannels(redis.port, 'at the end');
    let sum = null;
    if (all.redis && all.sidecast) sum = summary(all);
    if (all['sidecast-alt']) altSummary(all);
    if (process.env.BENCH_JSON) fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify({ results: all, summary: sum }, null, 2));
  } finally {
    for (const st of setups) await teardown(st);
    await stopChild(redis.child);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`bench: ${err.stack || err}`);
    process.exit(1);
  },
);
