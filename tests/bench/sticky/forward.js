'use strict';
// Benchmark (never a pass/fail test): what forwarding a polling request to
// the session's owner costs. Two socket.io nodes (own processes, own
// sidecastd, one Redis); raw engine.io v4 long-polling clients whose
// sessions live on node A. One echo round trip = the client holds a long-poll
// GET, POSTs `42["echo",n]`, and the GET returns the echo. Sent to A, the
// requests are local; sent to B, both are forwarded to A (with the sid
// cache, and with cacheMs=0: a directory lookup per request).
//   latency: a local and a forwarded session, one round trip at a time,
//     interleaved (both see the same load), p50/p99;
//   throughput: SESSIONS sessions looping for SECONDS, requests/s, and the
//     CPU time per request of the owner and of the relaying node.
// Usage: node tests/bench/sticky/forward.js   (env: SIDECASTD, ROUNDS,
// SESSIONS, SECONDS, BENCH_NODE_ARGS). Needs clients/node/node_modules (npm ci there).
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const h = require('../../../clients/node/test/harness');

const ROUNDS = Number(process.env.ROUNDS || 2000);
const SESSIONS = Number(process.env.SESSIONS || 50);
const SECONDS = Number(process.env.SECONDS || 5);
// extra node flags for the two servers, e.g. BENCH_NODE_ARGS=--cpu-prof
const NODE_ARGS = (process.env.BENCH_NODE_ARGS || '').split(' ').filter(Boolean);
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 * SESSIONS + 16 });

function req(port, method, url, body) {
  return new Promise((resolve, reject) => {
    const r = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: url,
        agent,
        headers: body ? { 'content-type': 'text/plain;charset=UTF-8' } : {},
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (data += d));
        res.on('end', () =>
          res.statusCode === 200 ? resolve(data) : reject(new Error(`${method} ${res.statusCode} ${data}`)),
        );
      },
    );
    r.on('error', reject);
    r.end(body);
  });
}

/** An engine.io session created on `owner`, then driven through `via`. */
async function session(owner) {
  const open = await req(owner, 'GET', '/socket.io/?EIO=4&transport=polling');
  const sid = JSON.parse(open.slice(1)).sid;
  const q = `/socket.io/?EIO=4&transport=polling&sid=${sid}`;
  await req(owner, 'POST', q, '40');
  const ack = await req(owner, 'GET', q);
  if (!ack.startsWith('40')) throw new Error(`no CONNECT ack: ${ack}`);
  return { sid, q };
}

async function echo(s, via, n) {
  const got = req(via, 'GET', s.q);
  const t0 = process.hrtime.bigint();
  await req(via, 'POST', s.q, `42["echo",${n}]`);
  const body = await got;
  const t1 = process.hrtime.bigint();
  if (!body.includes(`["echo",${n}]`)) throw new Error(`unexpected poll answer: ${body}`);
  return Number(t1 - t0) / 1000; // µs
}

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Local and forwarded round trips interleaved, so both see the same machine load. */
async function latency(owner, via) {
  const sl = await session(owner);
  const sf = await session(owner);
  for (let i = 0; i < 100; i++) (await echo(sl, owner, i), await echo(sf, via, i)); // warm-up
  const local = [];
  const fwd = [];
  for (let i = 0; i < ROUNDS; i++) {
    local.push(await echo(sl, owner, i));
    fwd.push(await echo(sf, via, i));
  }
  const r = (xs) => ({ p50: pct(xs, 50), p99: pct(xs, 99) });
  return { local: r(local), fwd: r(fwd) };
}

/** CPU time (user + system) of a process so far, µs. */
function cpuUs(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e6) / 100; // clock ticks at USER_HZ = 100
}

async function throughput(owner, via) {
  const ss = [];
  for (let i = 0; i < SESSIONS; i++) ss.push(await session(owner));
  let trips = 0;
  const end = Date.now() + SECONDS * 1000;
  await Promise.all(
    ss.map(async (s) => {
      for (let n = 0; Date.now() < end; n++) {
        await echo(s, via, n);
        trips++;
      }
    }),
  );
  return (2 * trips) / SECONDS; // a round trip is two requests
}

async function main() {
  const dir = h.tmpdir('sidecast-bench-sticky-');
  const redis = await h.startRedis();
  const nodes = [];
  for (let i = 1; i <= 2; i++) {
    const port = await h.freePort();
    const d = await new h.Sidecastd({
      redisUrl: redis.url,
      name: `node-${i}`,
      extra: ['--advertise-address', `127.0.0.1:${port}`, '--log-level', 'warn'],
    }).start();
    const log = fs.openSync(path.join(dir, `node-${i}.log`), 'a');
    const child = h.track(
      spawn(process.execPath, [...NODE_ARGS, path.join(__dirname, '../../../clients/node/test/sticky-node.js')], {
        stdio: ['ignore', log, log],
        env: {
          ...process.env,
          PORT: String(port),
          NODE_NAME: `node-${i}`,
          SIDECAST_SOCKET: d.sock,
          FORWARD: '1',
          TRANSPORTS: 'polling',
          PING_INTERVAL: '60000',
        },
      }),
    );
    nodes.push({ port, d, child });
  }
  for (const n of nodes) await h.waitFor(() => req(n.port, 'GET', '/_t/stats'), 20000, 'node to listen');
  const [a, b] = nodes.map((n) => n.port);
  const setCache = (ms) => req(b, 'POST', `/_t/forward?on=1&cacheMs=${ms}`);
  const fmt = (r) => `${r.p50.toFixed(0)} µs / ${r.p99.toFixed(0)} µs`;
  try {
    await setCache(2000);
    const c = await latency(a, b);
    await setCache(0);
    const n = await latency(a, b);
    await setCache(2000);
    console.log(`| echo round trip, local (GET + POST on the owner), p50 / p99 | ${fmt(c.local)} |`);
    console.log(`| echo round trip, forwarded (GET + POST via another node), p50 / p99 | ${fmt(c.fwd)} |`);
    console.log(`| added by forwarding, p50 | +${(c.fwd.p50 - c.local.p50).toFixed(0)} µs |`);
    console.log(
      `| same without the sid cache (a lookup per request): local / forwarded p50 | ${n.local.p50.toFixed(0)} / ${n.fwd.p50.toFixed(0)} µs (+${(n.fwd.p50 - n.local.p50).toFixed(0)} µs) |`,
    );
    const [pa, pb] = nodes.map((x) => x.child.pid);
    let a0 = cpuUs(pa);
    const lrps = await throughput(a, a);
    const aCpuLocal = (cpuUs(pa) - a0) / (lrps * SECONDS);
    a0 = cpuUs(pa);
    const b0 = cpuUs(pb);
    const frps = await throughput(a, b);
    const aCpuFwd = (cpuUs(pa) - a0) / (frps * SECONDS);
    const bCpu = (cpuUs(pb) - b0) / (frps * SECONDS);
    console.log(
      `| requests/s, ${SESSIONS} sessions, local | ${lrps.toFixed(0)} (owner CPU ${aCpuLocal.toFixed(0)} µs/request) |`,
    );
    console.log(
      `| requests/s, ${SESSIONS} sessions, all forwarded | ${frps.toFixed(0)} (owner CPU ${aCpuFwd.toFixed(0)} µs/request, relaying node ${bCpu.toFixed(0)} µs/request) |`,
    );
    const st = JSON.parse(await req(b, 'GET', '/_t/stats')).forward;
    console.log(`# forwarder on B: ${JSON.stringify(st)}`);
  } finally {
    agent.destroy();
    for (const n of nodes) await h.stopChild(n.child);
    for (const n of nodes) await n.d.stop();
    await redis.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err.stack || err);
    process.exit(1);
  },
);
