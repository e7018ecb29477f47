'use strict';
// bench.py's clients: N socket.io-client (WebSocket) clients of one server,
// reporting to the emitting app by UDP ("round room target": the number every
// client has got of the round's room emits, the targeted emits got in total).
//   node client.js URL N UDP_PORT
const path = require('path');
const dgram = require('dgram');
const { createRequire } = require('module');

const req = createRequire(path.join(process.env.SIDECAST_NODE_DIR || path.join(__dirname, '../../../clients/node'), 'index.js'));
const ioc = req('socket.io-client');
const [url, n, udpPort] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];

const udp = dgram.createSocket('udp4');
let round = 0;
let target = 0; // targeted emits got this round, all clients
const last = new Array(n).fill(0); // per client: the last room emit got this round
let room = 0; // min(last): room emits every client got
let sent = '';
let pending = false;
// One datagram per change of what the emitter waits for (once per room emit,
// when its last client got it; once per targeted emit), coalesced per turn;
// at a fixed rate (m.w 0) at most one per 20 ms, so that the reports do not
// add a wakeup per emit to the emitting app's CPU.
function report() {
  pending = false;
  const m = `${round} ${room} ${target}`;
  if (m !== sent) udp.send(m, udpPort, '127.0.0.1');
  sent = m;
}

let connected = 0;
for (let i = 0; i < n; i++) {
  const s = ioc(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  s.on('connect', () => {
    if (++connected === n) process.stdout.write('ready\n');
  });
  s.on('connect_error', (e) => {
    process.stderr.write(`client ${i}: ${e.message}\n`);
    process.exit(1);
  });
  s.on('m', (m) => {
    if (m.r !== round) {
      round = m.r;
      target = 0;
      room = 0;
      last.fill(0);
    }
    if (m.k === 't') target++;
    else if (m.s > last[i]) {
      const was = last[i];
      last[i] = m.s;
      if (was === room) room = Math.min(...last);
    }
    if (!pending && `${round} ${room} ${target}` !== sent) {
      pending = true;
      if (m.w) setImmediate(report); // flow: the emitter waits for it
      else setTimeout(report, 20); // fixed rate: only the round's end matters
    }
  });
}
process.stdin.on('end', () => process.exit(0)).resume(); // bench.py closes our stdin
