'use strict';
// One socket.io node of the benchmark, forked by bench.js with an IPC
// channel. The same app runs with either adapter (BENCH_ADAPTER = redis |
// sidecast | sidecast-alt, the last from BENCH_SIDECAST_MODULE). Every
// client socket joins room "bench" on connection. Commands
// from bench.js (process.send):
//   {cmd:'sockets'}                         -> {sockets:[ids]}
//   {cmd:'start', kind, mode, window, rate, targets, payload}
//        kind 'room'   : io.to('bench').emit(...)
//        kind 'target' : io.to(<socket on the other node>).emit(...)
//        kind 'fetch'  : await io.fetchSockets(), or with `one`
//                        await io.in(<socket on the other node>).fetchSockets()
//        mode 'flow' keeps at most `window` in flight (emits are acknowledged
//        by bench.js once the receiving clients reported them), mode 'rate'
//        sends `rate` per second (for latency).
//   {cmd:'acks', n}                         n emits completed
//   {cmd:'stats', reset}                    -> {sent, calls, bad, hist}
//   {cmd:'stop'}                            -> {stopped, inflight}
const http = require('node:http');
const { Server } = require('socket.io');
const { Hist, nowUs } = require('./hist');

const name = process.env.BENCH_NODE;
const adapterKind = process.env.BENCH_ADAPTER;

async function makeAdapter() {
  if (adapterKind === 'redis') {
    const { createAdapter } = require('@socket.io/redis-adapter');
    const { createClient } = require('redis');
    const pub = createClient({ url: process.env.REDIS_URL });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    return createAdapter(pub, sub);
  }
  // sidecast, or sidecast-alt: another copy of clients/node (bench.js BENCH_SIDECAST_ALT)
  const { createAdapter } = require(process.env.BENCH_SIDECAST_MODULE || 'sidecast');
  return createAdapter({ path: process.env.SIDECAST_SOCKET });
}

const server = http.createServer();
let io;
const fetchHist = new Hist();
let run = null; // the running case
let sent = 0;
let calls = 0;
let bad = 0;
let churnTimer = null;

function emitOne() {
  const seq = ++sent;
  if (run.kind === 'room') {
    io.to('bench').emit('m', seq, nowUs(), run.payload);
  } else {
    const id = run.targets[seq % run.targets.length];
    io.to(id).emit('m', seq, nowUs(), run.payload);
  }
}

async function fetchOne() {
  const t0 = nowUs();
  const sockets = run.one ? await io.in(run.targets[calls % run.targets.length]).fetchSockets() : await io.fetchSockets();
  fetchHist.add(nowUs() - t0);
  calls++;
  if (sockets.length !== (run.one ? 1 : run.expect)) bad++;
}

function pump() {
  if (!run || run.stopped) return;
  if (run.kind === 'fetch') {
    while (run.inflight < run.window) {
      run.inflight++;
      fetchOne()
        .catch(() => bad++)
        .finally(() => {
          run.inflight--;
          if (run.stopped && run.inflight === 0) run.onDrain?.();
          setImmediate(pump);
        });
    }
    return;
  }
  while (run.inflight < run.window) {
    run.inflight++;
    emitOne();
  }
}

function startRate() {
  const t0 = Date.now();
  let due0 = sent;
  run.timer = setInterval(() => {
    const due = Math.floor(((Date.now() - t0) * run.rate) / 1000) - (sent - due0);
    // Bounded even if the receivers stall: never more than `window` unacked.
    for (let i = 0; i < due && run.inflight < run.window; i++) {
      run.inflight++;
      emitOne();
    }
  }, 5);
}

function onMessage(m) {
  switch (m.cmd) {
    case 'sockets':
      process.send({ sockets: [...io.of('/').sockets.keys()] });
      break;
    case 'start':
      run = { ...m, inflight: 0, stopped: false };
      if (m.mode === 'rate') startRate();
      else pump();
      process.send({ started: true });
      break;
    case 'acks':
      if (!run) break;
      run.inflight -= m.n;
      if (run.stopped && run.inflight <= 0) run.onDrain?.();
      else if (run.mode === 'flow') pump();
      break;
    case 'churn': {
      // one socket's data assigned anew every m.ms (0: stop), in turn over this node's sockets
      clearInterval(churnTimer);
      churnTimer = null;
      if (m.ms > 0) {
        let k = 0;
        churnTimer = setInterval(() => {
          const all = [...io.of('/').sockets.values()];
          if (all.length) all[k++ % all.length].data = { churn: k };
        }, m.ms);
      }
      process.send({ churning: m.ms > 0 });
      break;
    }
    case 'stats':
      process.send({ sent, calls, bad, hist: fetchHist.sparse() });
      if (m.reset) fetchHist.reset();
      break;
    case 'stop': {
      const r = run;
      r.stopped = true;
      clearInterval(r.timer);
      const reply = () => {
        if (r.replied) return;
        r.replied = true;
        process.send({ stopped: true, inflight: r.inflight });
      };
      r.onDrain = reply;
      if (r.inflight <= 0) reply();
      setTimeout(reply, 10000).unref(); // bounded: report what never came back
      break;
    }
    case 'exit':
      io.close();
      setTimeout(() => process.exit(0), 200);
      break;
  }
}

async function main() {
  // engine.io heartbeats every 20 min, not 25 s: a node's 500 clients
  // connect together, so their pings came as one burst every 25 s that fell
  // into whichever round ran then, swinging app CPU at 100/s by ±40%
  io = new Server(server, { transports: ['websocket'], serveClient: false, pingInterval: 20 * 60 * 1000, pingTimeout: 60 * 1000 });
  io.adapter(await makeAdapter());
  io.on('connection', (socket) => socket.join('bench'));
  process.on('message', onMessage);
  server.listen(Number(process.env.PORT), '127.0.0.1', () => process.send({ ready: true, name }));
}

main().catch((err) => {
  console.error(`${name}: ${err.stack || err}`);
  process.exit(1);
});
