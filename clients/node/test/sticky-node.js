'use strict';
// One socket.io node for sticky.test.js, run as its own process so the test
// can kill it. HTTP on $HOST:$PORT ($HOST: 127.0.0.1 unless set), the
// sidecast adapter on $SIDECAST_SOCKET, forwarding of foreign sessions on
// when $FORWARD=1.
// Test hooks on the same server (never behind a real balancer):
//   GET  /_t/stats        {node, unknownSid, engineClients, forward}
//   POST /_t/forward?on=1 turn forwarding on (on=0: off; cacheMs, maxInFlight,
//                         timeout, missRetries: ForwardOptions)
// socket.io events: join(room) -> ack {node}; say({room, n}) -> room gets
// said({from, n}); whoami() -> ack node name; echo(x) -> echo(x) back.
// Namespace /other: whoami only.
// Also the server of tests/bench/sticky ($PING_INTERVAL: engine.io's, ms).
const http = require('node:http');
const { Server } = require('socket.io');
const { createAdapter, enableForwarding } = require('..');

const port = Number(process.env.PORT);
const host = process.env.HOST || '127.0.0.1';
const node = process.env.NODE_NAME;
const transports = (process.env.TRANSPORTS || 'polling,websocket').split(',');

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/_t/stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(
      JSON.stringify({
        node,
        unknownSid,
        engineClients: io.engine.clientsCount,
        forward: forwarder ? forwarder.stats() : null,
        metrics: forwarder ? forwarder.metrics() : '',
      }),
    );
  }
  if (url.pathname === '/_t/forward' && req.method === 'POST') {
    const on = url.searchParams.get('on') === '1';
    const opts = { log: (l) => console.log(l) };
    let tuned = false;
    for (const k of ['cacheMs', 'maxInFlight', 'timeout', 'missRetries']) {
      const v = url.searchParams.get(k);
      if (v !== null) ((opts[k] = Number(v)), (tuned = true));
    }
    const keep = on && forwarder && !tuned; // already on: leave forwards in flight alone
    if (forwarder && !keep) forwarder.close();
    if (!keep) forwarder = null;
    if (on && !forwarder) forwarder = enableForwarding(io, opts);
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ node, forward: !!forwarder }));
  }
  res.writeHead(404).end();
});

const pingInterval = Number(process.env.PING_INTERVAL || 5000);
const io = new Server(server, { transports, pingInterval, pingTimeout: 10000 });
io.adapter(createAdapter({ path: process.env.SIDECAST_SOCKET, name: node }));
let forwarder = process.env.FORWARD === '1' ? enableForwarding(io, { log: (l) => console.log(l) }) : null;
let unknownSid = 0;
io.engine.on('connection_error', (err) => {
  if (err.code === 1) unknownSid++; // engine.io's "Session ID unknown"
  const r = err.req || {};
  console.log(
    `${node}: connection_error ${err.code} ${err.message} ${r.method} ${r.url} fwd=${r.headers && r.headers['x-sidecast-forwarded']} upgrade=${r.headers && r.headers.upgrade}`,
  );
});

io.of('/other').on('connection', (socket) => {
  socket.on('whoami', (ack) => typeof ack === 'function' && ack(node));
});
io.on('connection', (socket) => {
  socket.on('join', (room, ack) => {
    socket.join(String(room));
    if (typeof ack === 'function') ack({ node });
  });
  socket.on('say', (m) => {
    if (m && typeof m.room === 'string') io.to(m.room).emit('said', { from: socket.id, n: m.n, node });
  });
  socket.on('whoami', (ack) => typeof ack === 'function' && ack(node));
  socket.on('echo', (x) => socket.emit('echo', x));
});

io.of('/')
  .adapter.client.ready(15000)
  .then(
    () => server.listen(port, host, () => console.log(`${node} listening on ${host}:${port}`)),
    (err) => {
      console.error(`${node}: ${err.message}`);
      process.exit(1);
    },
  );
process.on('SIGTERM', () => {
  io.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
});
