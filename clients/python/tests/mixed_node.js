'use strict';
// The Node half of test_mixed.py: a socket.io 4 server with the sidecast
// adapter (clients/node) on the sidecastd socket given as argv[2], and
// socket.io-client clients, driven by the Python test over stdin/stdout.
//
// Protocol: one JSON object per line each way. Requests {id, op, ...};
// answers {id, ok: true, result} or {id, ok: false, error}. Values carry
// binary as {"$bin": base64} both ways. Nothing here waits for a delivery:
// the test polls observable state (`seen`, `serverEvents`, `rooms`...) with
// bounded waits and counts exactly.
//
// socket.io, socket.io-client and the adapter come from clients/node (its
// node_modules, as clients/node/test uses them): $SIDECAST_NODE_DIR or
// ../../node from here.
const path = require('path');
const readline = require('readline');
const { createRequire } = require('module');
const http = require('http');

const NODE_DIR = process.env.SIDECAST_NODE_DIR || path.join(__dirname, '../../node');
const req = createRequire(path.join(NODE_DIR, 'index.js'));
const { Server } = req('socket.io');
const ioc = req('socket.io-client');
const { createAdapter, Emitter } = require(NODE_DIR);

const SOCK = process.argv[2];
const NAMESPACES = ['/', '/chat'];

function dec(v) {
  if (Array.isArray(v)) return v.map(dec);
  if (v && typeof v === 'object') {
    if (typeof v.$bin === 'string' && Object.keys(v).length === 1) return Buffer.from(v.$bin, 'base64');
    const o = {};
    for (const k of Object.keys(v)) o[k] = dec(v[k]);
    return o;
  }
  return v;
}

function enc(v) {
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return { $bin: Buffer.from(v).toString('base64') };
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString('base64') };
  if (Array.isArray(v)) return v.map(enc);
  if (v instanceof Set) return [...v].map(enc);
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v)) o[k] = enc(v[k]);
    return o;
  }
  return v === undefined ? null : v;
}

let io = null;
let httpServer = null;
let url = null;
let emitter = null;
const clients = new Map(); // name -> {s, seen: [[nsp, event, args]], disconnects}
const serverEvents = []; // [event, args] of server-side emits received
const serverDisconnects = []; // [nsp, socket id]

function onConnection(nsp) {
  return (socket) => {
    socket.on('join', (room, cb) => {
      socket.join(room);
      if (typeof cb === 'function') cb('joined');
    });
    socket.on('disconnect', () => serverDisconnects.push([nsp, socket.id]));
  };
}

function serverEvent(event) {
  io.on(event, (...args) => {
    const cb = typeof args[args.length - 1] === 'function' ? args.pop() : null;
    serverEvents.push([event, args]);
    if (cb) cb({ node: 'node', event, first: args[0] === undefined ? null : args[0] });
  });
}

async function start() {
  httpServer = http.createServer();
  io = new Server(httpServer);
  io.adapter(createAdapter({ path: SOCK, reconnectMin: 30, reconnectMax: 300, timeout: 8000, logger: false }));
  for (const n of NAMESPACES) io.of(n).on('connection', onConnection(n));
  for (const e of ['hello', 'hello-ack']) serverEvent(e);
  await new Promise((r) => httpServer.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${httpServer.address().port}`;
  await io.of('/').adapter.client.ready(15000);
  return { url };
}

function connect(target, name, namespaces) {
  const c = { seen: [], disconnects: 0, sockets: {} };
  clients.set(name, c);
  return Promise.all(
    (namespaces || ['/']).map(
      (n) =>
        new Promise((resolve, reject) => {
          const s = ioc(target + (n === '/' ? '' : n), {
            transports: ['websocket'],
            forceNew: true,
            reconnection: false,
          });
          c.sockets[n] = s;
          const t = setTimeout(() => reject(new Error(`client ${name} ${n}: no connect within 15 s`)), 15000);
          s.on('connect', () => {
            clearTimeout(t);
            resolve();
          });
          s.on('connect_error', (e) => {
            clearTimeout(t);
            reject(e);
          });
          s.onAny((event, ...args) => {
            if (typeof args[args.length - 1] === 'function') args.pop();
            c.seen.push([n, event, args]);
          });
          // Answers a broadcast with acks: "<client>:<question>".
          s.on('ask', (q, cb) => {
            if (typeof cb === 'function') cb(`${name}:${q}`);
          });
          s.on('disconnect', () => c.disconnects++);
        }),
    ),
  ).then(() => {
    const sids = {};
    for (const n of Object.keys(c.sockets)) sids[n] = c.sockets[n].id;
    return { sids, session: c.sockets['/'] ? c.sockets['/'].io.engine.id : null };
  });
}

function target(m) {
  let op = io.of(m.nsp || '/');
  if (m.to) op = op.to(m.to);
  if (m.except) op = op.except(m.except);
  return op;
}

const ops = {
  start,
  connect: (m) => connect(m.url || url, m.name, m.namespaces),
  clientCall: (m) => clients.get(m.name).sockets[m.nsp || '/'].timeout(m.timeout || 10000).emitWithAck(m.event, ...dec(m.args || [])),
  clientClose: (m) => {
    for (const s of Object.values(clients.get(m.name).sockets)) s.disconnect();
    return null;
  },
  seen: (m) => {
    const c = clients.get(m.name);
    return { seen: enc(c.seen), disconnects: c.disconnects };
  },
  emit: (m) => {
    target(m).emit(m.event, ...dec(m.args || []));
    return null;
  },
  emitWithAck: (m) => target(m).timeout(m.timeout || 10000).emitWithAck(m.event, ...dec(m.args || [])).then(enc),
  serverSideEmit: (m) => {
    io.serverSideEmit(m.event, ...dec(m.args || []));
    return null;
  },
  serverSideEmitWithAck: (m) => io.serverSideEmitWithAck(m.event, ...dec(m.args || [])).then(enc),
  serverEvents: () => enc(serverEvents),
  serverDisconnects: () => serverDisconnects,
  serverCount: () => io.of('/').adapter.serverCount(),
  rooms: (m) => {
    const s = io.of(m.nsp || '/').sockets.get(m.sid);
    return s ? [...s.rooms] : null;
  },
  setData: (m) => {
    io.of('/').sockets.get(m.sid).data = dec(m.data);
    return null;
  },
  fetchSockets: (m) => {
    let op = io.of(m.nsp || '/');
    if (m.in) op = op.in(m.in);
    return op.fetchSockets().then((socks) =>
      socks.map((s) => enc({ id: s.id, rooms: [...s.rooms].sort(), data: s.data, local: !!s.conn })),
    );
  },
  socketsJoin: (m) => (target(m).socketsJoin(m.rooms), null),
  socketsLeave: (m) => (target(m).socketsLeave(m.rooms), null),
  disconnectSockets: (m) => (target(m).disconnectSockets(!!m.close), null),
  emitterEmit: (m) => {
    if (!emitter) emitter = new Emitter({ path: SOCK });
    let e = emitter.of(m.nsp || '/');
    for (const r of m.to || []) e = e.to(r);
    e.emit(m.event, ...dec(m.args || []));
    return null;
  },
  close: async () => {
    if (emitter) emitter.close();
    for (const c of clients.values()) for (const s of Object.values(c.sockets)) s.disconnect();
    if (io) await new Promise((r) => io.close(() => r()));
    return null;
  },
};

function reply(o) {
  process.stdout.write(JSON.stringify(o) + '\n');
}

readline.createInterface({ input: process.stdin }).on('line', async (line) => {
  let m;
  try {
    m = JSON.parse(line);
  } catch (e) {
    reply({ id: null, ok: false, error: `bad request: ${e.message}` });
    return;
  }
  try {
    const fn = ops[m.op];
    if (!fn) throw new Error(`unknown op ${m.op}`);
    const result = await fn(m);
    reply({ id: m.id, ok: true, result: result === undefined ? null : result });
    if (m.op === 'close') setImmediate(() => process.exit(0));
  } catch (e) {
    reply({ id: m.id, ok: false, error: String((e && e.message) || e) });
  }
}).on('close', () => process.exit(0)); // the test went away: stdin closed
