'use strict';
// A benchmark client process, forked by bench.js: BENCH_CLIENTS socket.io
// clients (websocket transport) to one node. Every message 'm' (seq, t0,
// payload) is counted and its latency (now - t0, both CLOCK_MONOTONIC, the
// same clock in every process) recorded. An emit is reported to bench.js
// ({acks:[seq...]}, batched per event-loop turn) once `need` of this
// process's sockets received it: all of them for room emits, one for
// targeted emits. The latency of the first of this process's sockets to get
// each emit is recorded too (`first`): on the other node, the first remote
// delivery.
const { io } = require('socket.io-client');
const { Hist, nowUs } = require('./hist');

const url = process.env.BENCH_URL;
const count = Number(process.env.BENCH_CLIENTS);
const sockets = [];
const hist = new Hist();
const first = new Hist();
let deliveries = 0;
let need = count;
const pending = new Map(); // seq -> sockets that got it so far
let acks = [];

function flush() {
  const a = acks;
  acks = [];
  process.send({ acks: a });
}

function onM(seq, t0) {
  deliveries++;
  const us = nowUs() - t0;
  hist.add(us);
  const got = (pending.get(seq) || 0) + 1;
  if (got === 1) first.add(us);
  if (got < need) {
    pending.set(seq, got);
    return;
  }
  pending.delete(seq);
  if (acks.length === 0) setImmediate(flush);
  acks.push(seq);
}

process.on('message', (m) => {
  if (m.cmd === 'need') {
    need = m.need === 'all' ? count : 1;
    pending.clear();
    process.send({ ok: true });
  } else if (m.cmd === 'stats') {
    process.send({ deliveries, hist: hist.sparse(), first: first.sparse() });
    if (m.reset) {
      hist.reset();
      first.reset();
    }
  } else if (m.cmd === 'exit') {
    for (const s of sockets) s.close();
    setTimeout(() => process.exit(0), 200);
  }
});

let connected = 0;
for (let i = 0; i < count; i++) {
  const s = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  s.on('m', onM);
  s.once('connect', () => {
    if (++connected === count) process.send({ connected: count });
  });
  s.on('connect_error', (err) => {
    console.error(`client: ${err.message}`);
    process.exit(1);
  });
  sockets.push(s);
}
