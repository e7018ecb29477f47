'use strict';
// Test harness: a real redis-server on a free loopback port, real sidecastd
// processes (path from $SIDECASTD), socket.io servers on loopback and
// socket.io-client clients. Every process is started here and stopped by
// its pid; every wait is bounded.
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const net = require('net');
const http = require('http');
const { Server } = require('socket.io');
const ioc = require('socket.io-client');
const { createAdapter } = require('..');

const SIDECASTD = process.env.SIDECASTD || path.join(__dirname, '../../../build/broker/sidecastd');
const children = new Set();

process.on('exit', () => {
  for (const c of children) {
    try {
      process.kill(c.pid, 'SIGKILL');
    } catch (_) {}
  }
});

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll fn until it returns truthy (or resolves truthy); fail after ms. */
async function waitFor(fn, ms = 15000, what = 'condition') {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${last})`);
    await sleep(25);
  }
}

/** Resolve with the next event's args, or reject after ms. */
function once(emitter, event, ms = 10000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      emitter.off(event, h);
      reject(new Error(`no "${event}" within ${ms} ms`));
    }, ms);
    const h = (...args) => {
      clearTimeout(t);
      resolve(args);
    };
    emitter.once(event, h);
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

function tmpdir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function track(child) {
  children.add(child);
  child.exitPromise = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve(signal ? 128 + os.constants.signals[signal] : code);
    }),
  );
  return child;
}

async function stopChild(child, signal = 'SIGTERM', ms = 30000) {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitPromise;
  process.kill(child.pid, signal);
  const t = setTimeout(() => {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch (_) {}
  }, ms);
  const code = await child.exitPromise;
  clearTimeout(t);
  return code;
}

function redisPing(port) {
  return new Promise((resolve) => {
    const s = net.createConnection(port, '127.0.0.1');
    let got = '';
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      got += d;
      if (got.includes('\r\n')) {
        s.destroy();
        resolve(got.startsWith('+PONG'));
      }
    });
    s.on('error', () => resolve(false));
  });
}

async function startRedis() {
  const dir = tmpdir('sidecast-node-redis-');
  const port = await freePort();
  const child = track(
    spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
        '--logfile', path.join(dir, 'redis.log'), '--daemonize', 'no'],
      { stdio: 'ignore' },
    ),
  );
  await waitFor(() => redisPing(port), 10000, 'redis-server to answer PING');
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    stop: () => stopChild(child),
  };
}

/** sidecastd on its own socket path; cluster mode if redisUrl is given. */
class Sidecastd {
  constructor({ redisUrl, name = 'node', dir, extra = [] } = {}) {
    this.dir = dir || tmpdir('sidecast-node-');
    this.sock = path.join(this.dir, 'sidecast.sock');
    this.log = path.join(this.dir, 'sidecastd.log');
    this.args = ['--socket', this.sock, '--log-level', 'debug', '--node-name', name,
      '--http-listen', '127.0.0.1:0']; // any free port: several daemons run at once
    if (redisUrl)
      this.args.push('--redis-url', redisUrl, '--heartbeat-ms', '200', '--node-ttl-ms', '800',
        '--request-timeout-ms', '3000', '--room-linger-ms', '300', '--redis-command-timeout-ms', '1000',
        '--redis-reconnect-max-ms', '500');
    this.args.push(...extra);
    this.child = null;
  }

  async start() {
    const fd = fs.openSync(this.log, 'a');
    this.child = track(spawn(SIDECASTD, this.args, { stdio: ['ignore', fd, fd] }));
    fs.closeSync(fd);
    const child = this.child;
    await waitFor(
      () =>
        child.exitCode !== null
          ? Promise.reject(new Error(`sidecastd exited with ${child.exitCode}: ${this.tail()}`))
          : new Promise((resolve) => {
              const s = net.createConnection(this.sock);
              s.on('connect', () => {
                s.destroy();
                resolve(true);
              });
              s.on('error', () => resolve(false));
            }),
      20000,
      'sidecastd to listen',
    );
    return this;
  }

  tail(n = 4000) {
    try {
      const s = fs.readFileSync(this.log, 'utf8');
      return s.slice(-n);
    } catch (_) {
      return '';
    }
  }

  sanitizerReport() {
    try {
      const s = fs.readFileSync(this.log, 'utf8');
      return /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:/.test(s) ? s : null;
    } catch (_) {
      return null;
    }
  }

  /** SIGTERM (or signal); returns the exit code. Throws on a sanitizer report. */
  async stop(signal = 'SIGTERM') {
    if (!this.child) return 0;
    const code = await stopChild(this.child, signal);
    this.child = null;
    const rep = this.sanitizerReport();
    if (rep) throw new Error(`sanitizer report in sidecastd log:\n${rep}`);
    return code;
  }

  kill() {
    return this.stop('SIGKILL');
  }
}

/** A socket.io server on 127.0.0.1 with the sidecast adapter on `sock`. */
async function startIo(sock, adapterOpts = {}, ioOpts = {}) {
  const httpServer = http.createServer();
  const io = new Server(httpServer, ioOpts);
  io.adapter(
    createAdapter(Object.assign({ path: sock, reconnectMin: 30, reconnectMax: 300, timeout: 8000 }, adapterOpts)),
  );
  await new Promise((r) => httpServer.listen(0, '127.0.0.1', r));
  const port = httpServer.address().port;
  const client = io.of('/').adapter.client;
  await client.ready(15000);
  return {
    io,
    port,
    url: `http://127.0.0.1:${port}`,
    client,
    close: () =>
      new Promise((resolve) => {
        io.close(() => resolve());
      }),
  };
}

/** A connected socket.io-client socket; resolves once connected. */
async function connect(url, opts = {}) {
  const s = ioc(url, Object.assign({ transports: ['websocket'], forceNew: true, reconnection: false }, opts));
  await once(s, 'connect', 15000);
  return s;
}

/** Barrier on every given client: all they sent has been processed by their sidecastd. */
async function settle(...clients) {
  await Promise.all(clients.map((c) => c.ping()));
}

/** Resolve with the first `event` payload on socket s (args array), bounded. */
function next(s, event, ms = 10000) {
  return once(s, event, ms);
}

/** Resolve true if `event` does NOT arrive within ms (for negative checks after a barrier). */
function none(s, event, ms = 300) {
  return new Promise((resolve) => {
    const h = () => {
      clearTimeout(t);
      resolve(false);
    };
    const t = setTimeout(() => {
      s.off(event, h);
      resolve(true);
    }, ms);
    s.once(event, h);
  });
}

/** send() every 200 ms until `sock` gets `ev` (room subscriptions settle asynchronously). */
function eventually(send, sock, ev, ms = 20000) {
  return new Promise((resolve, reject) => {
    const hnd = (...args) => {
      done();
      resolve(args);
    };
    const iv = setInterval(send, 200);
    const t = setTimeout(() => {
      done();
      reject(new Error(`"${ev}" never arrived`));
    }, ms);
    function done() {
      sock.off(ev, hnd);
      clearInterval(iv);
      clearTimeout(t);
    }
    sock.on(ev, hnd);
    send();
  });
}

module.exports = { SIDECASTD, eventually, sleep, waitFor, once, next, none, freePort, tmpdir, startRedis, Sidecastd, startIo, connect, settle, stopChild, track };
