'use strict';
// Emitters against @socket.io/redis-emitter, side by side in one run:
//
//   node tests/bench/node/emitter.js     (after building sidecastd, and
//                                         sidecast_python_proto for the Python one)
//
// One redis-server on a free loopback port, and two socket.io 4.8 server
// nodes (app.js, the app of bench.js), each with BENCH_CLIENTS socket.io-client
// clients (one emitter-client.js process) in room "bench":
//   redis     the server with @socket.io/redis-adapter (node-redis 4)
//   sidecast  the server with the sidecast adapter and its own sidecastd (on
//             the same Redis, as in a cluster)
// and one emitting process per emitter (no socket.io server in it), each
// emitting 'm' (round, seq, payload) to room "bench" as fast as a window
// allows (at most BENCH_WINDOW emits not yet received by every client):
//   redis-emitter  @socket.io/redis-emitter 5 (node-redis 4 client) -> the redis server
//   sidecast       the sidecast Node Emitter (emitter-sender.js), its own
//                  connection to the sidecast server's sidecastd
//   python         the sidecast Python Emitter (emitter_sender.py, /usr/bin/python3),
//                  the same, to the same server (its own connection)
// Every setup stays up for the whole run. A round is BENCH_COUNT emits and
// ends when every client has every one of them (each client checks that it
// got seq 1..N once each, in order); rounds alternate between the emitters,
// who goes first rotating, after one warm-up round each. Per emitter: the
// median round's emits/s (and all rounds pooled), and pooled over its rounds, CPU (/proc/<pid>/task/*/schedstat) per emit
// of the emitting process, the server app, sidecastd and redis-server; ratios
// sidecast ÷ redis-emitter. Not a test: it exits non-zero only if the run
// failed (a process that did not start, a round that lost, duplicated or
// reordered a message, or did not finish within BENCH_ROUND_TIMEOUT_MS).
// Env: SIDECASTD (or BENCH_BUILD, default build/: <build>/broker/sidecastd and
// <build>/clients/python/gen), BENCH_EMITTERS (redis-emitter,sidecast,python),
// BENCH_CLIENTS (10), BENCH_COUNT (20000), BENCH_ROUNDS (5), BENCH_WINDOW (1024),
// BENCH_PAYLOAD_BYTES (100), BENCH_ROUND_TIMEOUT_MS (30000), BENCH_PYTHON
// (/usr/bin/python3), BENCH_JSON (write the figures there).
const { fork, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { sleep, track, freePort, waitConnectable, stopChild, ask, startRedis, findSidecastd } = require('./procs');
const readline = require('node:readline');

const repo = path.resolve(__dirname, '..', '..', '..');
const BUILD = path.resolve(repo, process.env.BENCH_BUILD || 'build');
const CLIENTS = Number(process.env.BENCH_CLIENTS || 10);
const COUNT = Number(process.env.BENCH_COUNT || 20000);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 5);
const WINDOW = Number(process.env.BENCH_WINDOW || 1024);
const PAYLOAD = 'x'.repeat(Number(process.env.BENCH_PAYLOAD_BYTES || 100));
const ROUND_TIMEOUT_MS = Number(process.env.BENCH_ROUND_TIMEOUT_MS || 30000);
const PYTHON = process.env.BENCH_PYTHON || '/usr/bin/python3';
const EMITTERS = (process.env.BENCH_EMITTERS || 'redis-emitter,sidecast,python').split(',');
const ACK_CHUNK = Math.max(1, Math.floor(WINDOW / 4));

/* ---- processes: started here, stopped by their handle (pid) --------------- */

// CPU seconds of a process: the sum of its threads' run time from
// /proc/<pid>/task/*/schedstat (nanoseconds; utime+stime of /proc/<pid>/stat
// counts 10 ms ticks, too coarse for redis-server's few µs per emit). A
// thread that exits between two readings takes its time with it; the
// processes here keep theirs.
function cpuSeconds(pid) {
  let ns = 0;
  for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread is gone
    }
  }
  return ns / 1e9;
}

// Request/reply over a forked child's IPC channel (bounded wait).

/* ---- the pieces ------------------------------------------------------------ */

// A socket.io server node (app.js) with `adapter`, its sidecastd (sidecast),
// and its clients.
async function startServer(adapter, dir, redis) {
  const name = `ebench-${adapter}`;
  const socket = path.join(dir, `${adapter}.sock`);
  let sidecastd = null;
  if (adapter === 'sidecast') {
    sidecastd = track(
      spawn(findSidecastd(BUILD), ['--socket', socket, '--redis-url', redis.url, '--node-name', name, '--log-level', 'warn', '--http-listen', '127.0.0.1:0'], {
        stdio: ['ignore', 'ignore', fs.openSync(path.join(dir, `${name}.log`), 'a')],
      }),
    );
    await waitConnectable(socket, 10000, sidecastd, name);
  }
  const port = await freePort();
  const app = track(
    fork(path.join(__dirname, 'app.js'), [], {
      env: { ...process.env, BENCH_NODE: name, BENCH_ADAPTER: adapter, BENCH_SIDECAST_MODULE: 'sidecast', REDIS_URL: redis.url, SIDECAST_SOCKET: socket, PORT: String(port) },
    }),
  );
  await ask(app, null, 'ready', 20000);
  const client = track(
    fork(path.join(__dirname, 'emitter-client.js'), [], {
      env: { ...process.env, BENCH_URL: `http://127.0.0.1:${port}`, BENCH_CLIENTS: String(CLIENTS) },
    }),
  );
  await ask(client, null, 'connected', 30000);
  const n = (await ask(app, { cmd: 'sockets' }, 'sockets')).sockets.length;
  if (n !== CLIENTS) throw new Error(`${name} has ${n} sockets, expected ${CLIENTS}`);
  return { adapter, name, socket, app, sidecastd, client };
}

// An emitting process: JSON lines on stdin/stdout (emitter-sender.js, emitter_sender.py).
async function startSender(emitter, server, redis) {
  let child;
  const env = { ...process.env, REDIS_URL: redis.url, SIDECAST_SOCKET: server.socket };
  if (emitter === 'python') {
    const gen = path.join(BUILD, 'clients', 'python', 'gen');
    if (!fs.existsSync(path.join(gen, 'sidecast_pb2.py')))
      throw new Error(`no ${gen}/sidecast_pb2.py: cmake --build ${BUILD} --target sidecast_python_proto (or BENCH_EMITTERS=redis-emitter,sidecast)`);
    env.PYTHONPATH = [path.join(repo, 'clients', 'python'), gen].join(path.delimiter);
    child = spawn(PYTHON, [path.join(__dirname, 'emitter_sender.py')], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  } else {
    env.BENCH_EMITTER = emitter === 'redis-emitter' ? 'redis' : 'sidecast';
    child = spawn(process.execPath, [path.join(__dirname, 'emitter-sender.js')], { cwd: __dirname, env, stdio: ['pipe', 'pipe', 'inherit'] });
  }
  track(child);
  child.lines = new Set();
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    let m;
    try {
      m = JSON.parse(line);
    } catch {
      return console.error(`${emitter}: ${line}`);
    }
    for (const f of child.lines) f(m);
  });
  child.say = (m) => child.stdin.write(JSON.stringify(m) + '\n');
  child.stdin.on('error', () => {});
  await waitLine(child, (m) => m.ready, 20000, `${emitter} ready`);
  return child;
}

function waitLine(child, pred, ms, what) {
  return new Promise((resolve, reject) => {
    const done = (err, m) => {
      clearTimeout(t);
      child.lines.delete(on);
      child.off('exit', onExit);
      err ? reject(err) : resolve(m);
    };
    const on = (m) => pred(m) && done(null, m);
    const onExit = (code) => done(new Error(`${what}: the process exited (${code})`));
    const t = setTimeout(() => done(new Error(`${what}: nothing within ${ms} ms`)), ms);
    child.lines.add(on);
    child.once('exit', onExit);
  });
}

/* ---- one round ------------------------------------------------------------- */

let roundNo = 0;

// `count` emits from setup `s`'s emitter; returns time, CPU per process, and
// the clients' check.
async function runRound(s, count) {
  const round = ++roundNo;
  const { client } = s.server;
  await ask(client, { cmd: 'round', round, count }, 'ok');
  let lastAck = 0;
  let timer = null;
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  const sendAck = (done) => {
    clearTimeout(timer);
    timer = null;
    lastAck = done;
    s.sender.say({ cmd: 'ack', round, done });
  };
  let latest = 0;
  const onDone = (m) => {
    if (m.done === undefined || m.round !== round) return;
    latest = m.done;
    if (latest >= count) {
      finish(process.hrtime.bigint());
      return;
    }
    // acks go to the emitter in chunks (or whatever came within 1 ms), the same for every emitter
    if (latest - lastAck >= ACK_CHUNK) sendAck(latest);
    else if (!timer) timer = setTimeout(() => sendAck(latest), 1);
  };
  client.on('message', onDone);
  const sent = waitLine(s.sender, (m) => m.round === round && m.sent !== undefined, ROUND_TIMEOUT_MS, `${s.emitter} round ${round}`);
  sent.catch(() => {});
  const cpu0 = s.procs.map((p) => cpuSeconds(p.pid));
  const t0 = process.hrtime.bigint();
  s.sender.say({ cmd: 'round', round, count, window: WINDOW, payload: PAYLOAD });
  const timeout = sleep(ROUND_TIMEOUT_MS).then(() => null);
  const t1 = await Promise.race([finished, timeout]);
  clearTimeout(timer);
  client.off('message', onDone);
  await sleep(50); // work the last delivery left behind (late replies) counts too
  const cpu1 = s.procs.map((p) => cpuSeconds(p.pid));
  await sleep(100); // a late duplicate would show in the stats
  const { stats } = await ask(client, { cmd: 'stats' }, 'stats');
  const check = stats.reduce(
    (a, st) => ({
      received: a.received + st.received,
      missing: a.missing + (count - st.last) + st.lost,
      dups: a.dups + st.dups,
      gaps: a.gaps + st.gaps,
      strays: a.strays + st.strays,
    }),
    { received: 0, missing: 0, dups: 0, gaps: 0, strays: 0 },
  );
  const ok = t1 !== null && check.received === count * CLIENTS && check.missing === 0 && check.dups === 0 && check.gaps === 0 && check.strays === 0;
  if (t1 === null) console.log(`  ${s.emitter}: round ${round} not complete after ${ROUND_TIMEOUT_MS} ms (every client has 1..${latest} of ${count})`);
  if (!ok) console.log(`  ${s.emitter}: round ${round} check failed: ${JSON.stringify(check)} (expected ${count * CLIENTS} deliveries)`);
  return { secs: t1 === null ? NaN : Number(t1 - t0) / 1e9, count, cpu: cpu1.map((x, i) => x - cpu0[i]), check, ok };
}

/* ---- figures --------------------------------------------------------------- */

function pool(s, rounds) {
  const secs = rounds.reduce((a, r) => a + r.secs, 0);
  const emits = rounds.reduce((a, r) => a + r.count, 0);
  const cpu = {};
  s.procs.forEach((p, i) => {
    cpu[p.role] = ((rounds.reduce((a, r) => a + r.cpu[i], 0) / emits) * 1e6) || 0; // µs per emit
  });
  cpu.server = (cpu.app || 0) + (cpu.sidecastd || 0) + (cpu.redis || 0);
  const rates = rounds.map((r) => r.count / r.secs).sort((a, b) => a - b);
  const mid = rates.length >> 1;
  return {
    emitter: s.emitter,
    server: s.server.adapter,
    emitsPerSecMedian: rates.length % 2 ? rates[mid] : (rates[mid - 1] + rates[mid]) / 2,
    emitsPerSec: emits / secs,
    deliveriesPerSec: (emits * CLIENTS) / secs,
    rounds: rounds.map((r) => Math.round(r.count / r.secs)),
    emits,
    seconds: secs,
    cpuUsPerEmit: cpu,
    ok: rounds.every((r) => r.ok),
  };
}

const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '–');

function printResults(res) {
  console.log('\nemitter        server    emits/s (median round; pooled)  deliveries/s (median)  CPU µs per emit: emitter / server app / sidecastd / redis-server = server total; clients   (rounds, emits/s)');
  for (const r of res) {
    const c = r.cpuUsPerEmit;
    console.log(
      `${r.emitter.padEnd(14)} ${r.server.padEnd(8)} ${fmt(r.emitsPerSecMedian).padStart(8)}; ${fmt(r.emitsPerSec).padStart(6)}           ${fmt(r.emitsPerSecMedian * CLIENTS).padStart(9)}            ` +
        `${fmt(c.emitter, 1)} / ${fmt(c.app, 1)} / ${c.sidecastd === undefined ? '–' : fmt(c.sidecastd, 1)} / ${fmt(c.redis, 1)} = ${fmt(c.server, 1)}; ${fmt(c.clients, 1)}` +
        `   (${r.rounds.map((x) => fmt(x)).join(', ')})${r.ok ? '' : '  CHECK FAILED'}`,
    );
  }
  const base = res.find((r) => r.emitter === 'redis-emitter');
  if (!base) return [];
  const ratios = [];
  for (const r of res) {
    if (r === base) continue;
    const c = r.cpuUsPerEmit;
    const b = base.cpuUsPerEmit;
    const x = {
      emitter: r.emitter,
      emitsPerSec: r.emitsPerSecMedian / base.emitsPerSecMedian,
      emitsPerSecPooled: r.emitsPerSec / base.emitsPerSec,
      emitterCpu: c.emitter / b.emitter,
      appCpu: c.app / b.app,
      serverCpu: c.server / b.server,
      emitterPlusServerCpu: (c.emitter + c.server) / (b.emitter + b.server),
    };
    ratios.push(x);
    console.log(
      `\n${r.emitter} ÷ redis-emitter: emits/s ${fmt(x.emitsPerSec, 2)}x (median rounds; pooled ${fmt(x.emitsPerSecPooled, 2)}x);  CPU per emit: emitter ${fmt(x.emitterCpu, 2)}x,` +
        ` server app ${fmt(x.appCpu, 2)}x, server total (app + sidecastd + redis) ${fmt(x.serverCpu, 2)}x, emitter + server ${fmt(x.emitterPlusServerCpu, 2)}x`,
    );
  }
  return ratios;
}

/* ---- main ------------------------------------------------------------------ */

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sidecast-ebench-'));
  console.log(
    `emitters to a socket.io 4.8 server: ${EMITTERS.join(', ')}; ${CLIENTS} clients in the room, ${PAYLOAD.length} B payload, ` +
      `window ${WINDOW}, ${ROUNDS} rounds x ${COUNT} emits each (after a warm-up round), ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)}`,
  );
  const redis = await startRedis(dir);
  const servers = {};
  const setups = [];
  let failed = false;
  try {
    for (const e of EMITTERS) {
      const adapter = e === 'redis-emitter' ? 'redis' : 'sidecast';
      if (!['redis-emitter', 'sidecast', 'python'].includes(e)) throw new Error(`unknown emitter ${e}`);
      servers[adapter] ||= await startServer(adapter, dir, redis);
    }
    for (const e of EMITTERS) {
      const server = servers[e === 'redis-emitter' ? 'redis' : 'sidecast'];
      const sender = await startSender(e, server, redis);
      const procs = [
        { role: 'emitter', pid: sender.pid },
        { role: 'app', pid: server.app.pid },
        ...(server.sidecastd ? [{ role: 'sidecastd', pid: server.sidecastd.pid }] : []),
        { role: 'redis', pid: redis.child.pid },
        { role: 'clients', pid: server.client.pid },
      ];
      setups.push({ emitter: e, server, sender, procs });
    }
    for (const s of setups) {
      const w = await runRound(s, Math.max(1, Math.floor(COUNT / 4)));
      console.log(`warm-up ${s.emitter.padEnd(13)} ${fmt(w.count / w.secs)} emits/s${w.ok ? '' : ' (check failed)'}`);
      failed ||= !w.ok;
    }
    const rounds = setups.map(() => []);
    for (let i = 0; i < ROUNDS; i++) {
      const line = [];
      for (let j = 0; j < setups.length; j++) {
        const k = (i + j) % setups.length; // who goes first rotates
        const r = await runRound(setups[k], COUNT);
        rounds[k].push(r);
        failed ||= !r.ok;
        line.push(`${setups[k].emitter} ${fmt(r.count / r.secs)}`);
      }
      console.log(`round ${i + 1}: ${line.join(', ')} emits/s`);
    }
    const res = setups.map((s, k) => pool(s, rounds[k]));
    const ratios = printResults(res);
    if (process.env.BENCH_JSON)
      fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify({ clients: CLIENTS, count: COUNT, rounds: ROUNDS, window: WINDOW, payload: PAYLOAD.length, results: res, ratios }, null, 2));
  } finally {
    for (const s of setups) {
      s.sender.say({ cmd: 'exit' });
      await stopChild(s.sender, 3000, 2000);
    }
    for (const srv of Object.values(servers)) {
      srv.client.send({ cmd: 'exit' });
      await stopChild(srv.client, 3000, 2000);
      srv.app.send({ cmd: 'exit' });
      await stopChild(srv.app, 3000, 3000);
      if (srv.sidecastd) await stopChild(srv.sidecastd);
    }
    await stopChild(redis.child);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (failed) throw new Error('a round failed its check (above)');
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`emitter bench: ${err.stack || err}`);
    process.exit(1);
  },
);
