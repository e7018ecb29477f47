'use strict';
// Clients of the emitter benchmark, forked by emitter.js: BENCH_CLIENTS
// socket.io clients (websocket transport) to one server node, all in its room
// "bench". Every event 'm' (round, seq, payload) is checked per client: in a
// round, each client must get seq 1, 2, ... N, each once and in order. A
// message of another round is a stray, a seq at or below the client's last
// one a duplicate (or reordering), one past last + 1 a gap (what it skipped
// is lost). `done` is the highest seq that every client has received with
// all before it; it goes to emitter.js ({done, round}) once per event-loop
// turn in which it moved, and is the emitter's flow control.
// Commands from emitter.js (process.send):
//   {cmd:'round', round, count}  -> {ok}     start counting a new round
//   {cmd:'stats'}                -> {stats}  per-client counters of the round
//   {cmd:'exit'}
const { io } = require('socket.io-client');

const url = process.env.BENCH_URL;
const count = Number(process.env.BENCH_CLIENTS);
const sockets = [];
let round = 0;
let total = 0; // emits in this round
let got = null; // got[seq]: clients that have seq (Uint8Array, count <= 255)
let done = 0;
let reported = 0;
let reportScheduled = false;

function report() {
  reportScheduled = false;
  if (done === reported) return;
  reported = done;
  process.send({ done, round });
}

function makeClient(i) {
  const st = { last: 0, received: 0, dups: 0, gaps: 0, lost: 0, strays: 0 };
  const s = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  s.on('m', (r, seq) => {
    if (r !== round) {
      st.strays++;
      return;
    }
    st.received++;
    if (seq <= st.last || seq > total) {
      st.dups++;
      return;
    }
    if (seq !== st.last + 1) {
      st.gaps++;
      st.lost += seq - st.last - 1;
    }
    st.last = seq;
    if (++got[seq] === count && seq === done + 1) {
      while (done < total && got[done + 1] === count) done++;
      if (!reportScheduled) {
        reportScheduled = true;
        setImmediate(report);
      }
    }
  });
  s.once('connect', () => {
    if (++connected === count) process.send({ connected: count });
  });
  s.on('connect_error', (err) => {
    console.error(`emitter-client: ${err.message}`);
    process.exit(1);
  });
  s.on('disconnect', (why) => {
    if (!exiting) console.error(`emitter-client: client ${i} disconnected: ${why}`);
  });
  sockets.push({ s, st });
}

let connected = 0;
let exiting = false;
process.on('message', (m) => {
  if (m.cmd === 'round') {
    round = m.round;
    total = m.count;
    got = new Uint8Array(total + 1);
    done = reported = 0;
    for (const { st } of sockets) Object.assign(st, { last: 0, received: 0, dups: 0, gaps: 0, lost: 0, strays: 0 });
    process.send({ ok: true });
  } else if (m.cmd === 'stats') {
    process.send({ stats: sockets.map(({ st }) => ({ ...st })), done });
  } else if (m.cmd === 'exit') {
    exiting = true;
    for (const { s } of sockets) s.close();
    setTimeout(() => process.exit(0), 200);
  }
});

if (count < 1 || count > 255) {
  console.error('emitter-client: BENCH_CLIENTS must be 1..255');
  process.exit(1);
}
for (let i = 0; i < count; i++) makeClient(i);
