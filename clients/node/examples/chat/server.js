'use strict';
// One chat node: an HTTP server that serves the page and socket.io, with the
// sidecast adapter talking to this node's own sidecastd. Configured by
// environment (start.sh / cluster.js set it):
//   PORT             port to listen on (127.0.0.1)
//   CHAT_NODE        name shown to users ("node-1")
//   SIDECAST_SOCKET  this node's sidecastd Unix socket
//   CHAT_TRANSPORTS  comma list for the page, e.g. "websocket"
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { Server } = require('socket.io');
const { createAdapter, enableForwarding } = require('sidecast');

const port = Number(process.env.PORT || 3000);
const nodeName = process.env.CHAT_NODE || `node-${port}`;
const transports = (process.env.CHAT_TRANSPORTS || 'websocket').split(',');

const page = path.join(__dirname, 'public');
const files = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/chat.js': ['chat.js', 'text/javascript; charset=utf-8'],
  '/chat.css': ['chat.css', 'text/css; charset=utf-8'],
};

let io;
let forwarder = null; // sticky-free polling: serves other nodes' sessions
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/config.js') {
    res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
    res.end(`window.CHAT_CONFIG = ${JSON.stringify({ transports })};\n`);
  } else if (url.pathname === '/node') {
    // Which sockets this node holds: lets a test (or you, with curl) check
    // where the balancer put each browser.
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ node: nodeName, lang: 'node', sockets: [...io.of('/').sockets.keys()], forward: forwarder && forwarder.stats() }));
  } else if (files[url.pathname]) {
    const [file, type] = files[url.pathname];
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
    fs.createReadStream(path.join(page, file)).pipe(res);
  } else {
    res.writeHead(404).end('not found\n');
  }
});

function clean(s, max) {
  return String(s ?? '').trim().slice(0, max);
}

function onConnection(socket) {
  socket.data = { node: nodeName };
  socket.emit('welcome', { id: socket.id, node: nodeName });

  // join: leave the previous room, join the new one, tell the room (on every
  // node), and answer with the room's members from every node.
  socket.on('join', async (msg, ack) => {
    const name = clean(msg && msg.name, 32) || 'anonymous';
    const room = clean(msg && msg.room, 32) || 'lobby';
    const prev = socket.data.room;
    if (prev && prev !== room) {
      socket.leave(prev);
      io.to(prev).emit('left', { id: socket.id, name: socket.data.name, room: prev });
    }
    socket.data = { node: nodeName, name, room };
    socket.join(room);
    io.to(room).emit('joined', { id: socket.id, name, room, node: nodeName });
    try {
      const members = await io.in(room).fetchSockets();
      if (typeof ack === 'function')
        ack({ ok: true, room, members: members.map((s) => ({ id: s.id, ...s.data })) });
    } catch (err) {
      if (typeof ack === 'function') ack({ ok: false, error: String(err && err.message) });
    }
  });

  socket.on('say', (msg) => {
    const room = socket.data.room;
    const text = clean(msg && msg.text, 500);
    if (!room || !text) return;
    io.to(room).emit('message', { id: socket.id, name: socket.data.name, node: nodeName, text });
  });

  socket.on('disconnecting', () => {
    const room = socket.data.room;
    if (room) io.to(room).emit('left', { id: socket.id, name: socket.data.name, room });
  });
}

function main() {
  io = new Server(server, { transports, serveClient: true });
  // The only cluster setup the app needs: its own sidecastd's socket. Redis
  // is sidecastd's business.
  io.adapter(createAdapter({ path: process.env.SIDECAST_SOCKET, name: nodeName }));
  // Polling requests of a session owned by another node are forwarded there
  // (sidecastd's advertise_address), so the balancer needs no stickiness.
  if (process.env.CHAT_FORWARD !== '0') forwarder = enableForwarding(io);
  io.on('connection', onConnection);
  server.listen(port, '127.0.0.1', () => console.log(`${nodeName} listening on 127.0.0.1:${port}`));
}

function stop() {
  io.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

main();
