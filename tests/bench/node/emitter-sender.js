'use strict';
// The emitting process of the emitter benchmark (emitter.js starts it): a
// process with no socket.io server that emits to room "bench" through
//   BENCH_EMITTER=redis     @socket.io/redis-emitter on a node-redis 4 client (REDIS_URL)
//   BENCH_EMITTER=sidecast  the sidecast Node Emitter, its own connection to
//                           the server node's sidecastd (SIDECAST_SOCKET)
// each the way its README shows: emitter.to('bench').emit('m', round, seq, payload).
// Control is JSON lines on stdin / stdout (the same protocol as
// emitter_sender.py):
//   <- {"ready":true}                                once connected
//   -> {"cmd":"round","round":R,"count":N,"window":W,"payload":"..."}
//        emits seq 1..N, never more than W past the last `ack`
//   -> {"cmd":"ack","round":R,"done":D}              every client has 1..D
//   <- {"sent":N,"round":R}                          the round's last emit is out
//   -> {"cmd":"exit"}
const readline = require('node:readline');

const kind = process.env.BENCH_EMITTER;
let emitter = null;
let closeAll = () => {};
let run = null;

function out(m) {
  process.stdout.write(JSON.stringify(m) + '\n');
}

function pump() {
  const r = run;
  if (!r) return;
  const upTo = Math.min(r.count, r.done + r.window);
  while (r.next <= upTo) emitter.to('bench').emit('m', r.round, r.next++, r.payload);
  if (r.next > r.count && !r.reported) {
    r.reported = true;
    out({ sent: r.count, round: r.round });
  }
}

async function connect() {
  if (kind === 'redis') {
    const { Emitter } = require('@socket.io/redis-emitter');
    const { createClient } = require('redis');
    const client = createClient({ url: process.env.REDIS_URL });
    client.on('error', (err) => console.error(`emitter-sender (redis): ${err.message}`));
    await client.connect();
    emitter = new Emitter(client);
    closeAll = () => client.quit();
  } else if (kind === 'sidecast') {
    const { Emitter } = require('sidecast');
    emitter = new Emitter({ path: process.env.SIDECAST_SOCKET, name: `bench-emitter-${process.pid}` });
    await emitter.client.ready(10000);
    closeAll = () => emitter.close();
  } else {
    throw new Error(`BENCH_EMITTER must be redis or sidecast, not ${kind}`);
  }
}

connect().then(
  () => {
    const rl = readline.createInterface({ input: process.stdin });
    rl.on('line', (line) => {
      const m = JSON.parse(line);
      if (m.cmd === 'round') {
        run = { round: m.round, count: m.count, window: m.window, payload: m.payload, next: 1, done: 0, reported: false };
        pump();
      } else if (m.cmd === 'ack') {
        if (run && m.round === run.round && m.done > run.done) {
          run.done = m.done;
          pump();
        }
      } else if (m.cmd === 'exit') {
        Promise.resolve(closeAll())
          .catch(() => {})
          .finally(() => setTimeout(() => process.exit(0), 100));
      }
    });
    rl.on('close', () => process.exit(0)); // the bench went away
    out({ ready: true, pid: process.pid });
  },
  (err) => {
    console.error(`emitter-sender (${kind}): ${err.stack || err}`);
    process.exit(1);
  },
);
