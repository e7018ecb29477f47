'use strict';
// Test harness: a real redis-server on a free loopback port, real sidecastd
// processes (path from $SIDECASTD), socket.io servers on loopback and
// socket.io-client clients. Every process is started here and stopped by
// its pid; every wait is bounded.
//
// Deliveries are checked the same way everywhere: wait (bounded) for
// observable state that makes the delivery certain (roomReady: the sidecars'
// registries and Redis' subscriptions), send once, then count exactly
// (exactly: the expected number, and nothing more within a short drain). A
// send is never repeated until something arrives: that would hide a loss.
//
// TLS mode (SIDECAST_TEST_TLS set, not "0"; as IT_REDIS_TLS in
// tests/integration/harness.c): every redis-server started here also
// listens on a TLS port requiring a client certificate (a CA, a server and
// a client certificate made with the openssl CLI in its temp dir), and its
// `url` is the rediss:// URL of that port; a Sidecastd given that URL gets
// the CA, client certificate and key too. The harness's own Redis access
// (redisPing, redisCommand: the `port` of startRedis) stays on the plain port.
//
// Redis Cluster mode (SIDECAST_TEST_RCLUSTER set, not "0"; as rcluster_start
// in tests/integration/harness.c): startRedis() starts a Redis Cluster of
// three primaries and no replicas (three redis-servers with
// --cluster-enabled yes, each in its own subdirectory of `dir` and with its
// cluster bus on a free port of its own, tracked and stopped by pid like
// any child here; created with redis-cli --cluster create) and returns
// once every node answers cluster_state:ok and the same CLUSTER SLOTS.
// Its `url` is redis+cluster://127.0.0.1:p1,...:p3 (every node a seed),
// `ports` all three ports, `port` the first one (the harness's own
// commands). sidecastd keeps its keys and node/broadcast
// channels under one hash tag ({sidecast}:...) and the room channels
// (sidecast:room:<key>) spread over the slots, SSUBSCRIBEd on the primary
// serving each one's slot: subscribers() (roomReady's barrier) asks PUBSUB
// SHARDNUMSUB of every node and takes the answer of the slot's owner (a
// node counts only its own shard subscribers; PUBSUB NUMSUB counts none of
// them), and redisCommand() follows MOVED redirections as redis-cli -c
// does. A Redis Cluster keeps order per channel only: an emit to everyone
// (room "/") can overtake an emit to a room served by another primary, so
// it is no barrier for that room's deliveries; count with expectCounts()
// (wait for the counts, then a drain). A case that needs one Redis it can
// stop or restart would be skipped in this mode (none of cluster, dropin,
// emitter and restart does). Not combined with TLS mode.
const { spawn, execFile } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const net = require('net');
const tls = require('tls');
const http = require('http');
const { Server } = require('socket.io');
const ioc = require('socket.io-client');
const { createAdapter, SidecastClient } = require('..');

/** The version of the socket.io these tests run on (tests/compat-sio picks others). */
const SOCKET_IO_VERSION = JSON.parse(
  fs.readFileSync(path.join(path.dirname(require.resolve('socket.io')), '..', 'package.json'), 'utf8'),
).version;
const SIDECASTD = process.env.SIDECASTD || path.join(__dirname, '../../../build/broker/sidecastd');
const TLS = !!process.env.SIDECAST_TEST_TLS && process.env.SIDECAST_TEST_TLS !== '0';
const RCLUSTER = !!process.env.SIDECAST_TEST_RCLUSTER && process.env.SIDECAST_TEST_RCLUSTER !== '0';
/** Any port of a Redis Cluster started here -> every port of it. */
const clusterPorts = new Map();
/** rediss:// URL of a Redis started here -> {ca, cert, key} for sidecastd. */
const tlsFiles = new Map();
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

function openssl(dir, args) {
  return new Promise((resolve, reject) =>
    execFile('openssl', args, { cwd: dir, timeout: 30000 }, (err, _out, stderr) =>
      err ? reject(new Error(`openssl ${args.slice(0, 2).join(' ')} in ${dir}: ${err.message} ${stderr}`)) : resolve(),
    ),
  );
}

/**
 * In `dir`: a CA (ca.pem), a server certificate for localhost and
 * 127.0.0.1 (server.pem/key) and a client certificate (client.pem/key,
 * extendedKeyUsage=clientAuth), both signed by the CA; EC P-256 keys.
 */
async function tlsMakeCerts(dir) {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(dir, ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '3650', '-subj', '/CN=sidecast-test-ca']);
  const cert = async (name, cn, ext) => {
    fs.writeFileSync(path.join(dir, `${name}.ext`), `${ext}\n`);
    await openssl(dir, ['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
      '-out', `${name}.pem`, '-days', '3650', '-extfile', `${name}.ext`]);
  };
  await cert('server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1');
  await cert('client', 'sidecast-test', 'extendedKeyUsage=clientAuth');
  return { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'client.pem'), key: path.join(dir, 'client.key') };
}

/** PING over TLS (the client certificate, the server's checked against the CA and 127.0.0.1). */
function redisPingTls(port, files) {
  return new Promise((resolve) => {
    const s = tls.connect({
      host: '127.0.0.1',
      port,
      ca: fs.readFileSync(files.ca),
      cert: fs.readFileSync(files.cert),
      key: fs.readFileSync(files.key),
    });
    let got = '';
    const t = setTimeout(() => (s.destroy(), resolve(false)), 3000);
    s.on('secureConnect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      got += d;
      if (got.includes('\r\n')) {
        clearTimeout(t);
        s.destroy();
        resolve(got.startsWith('+PONG'));
      }
    });
    s.on('error', () => (clearTimeout(t), resolve(false)));
  });
}

/**
 * A redis-server on a free loopback port: {url, port, dir, stop}. `port` is
 * the plain port (the harness's own commands); `url` is what sidecastd is
 * given: redis://127.0.0.1:port, or in TLS mode rediss://127.0.0.1:tlsPort
 * (mutual TLS; plainUrl, tlsPort and tls {ca, cert, key} are set then).
 */
async function startRedis() {
  if (RCLUSTER) return startRedisCluster();
  const dir = tmpdir('sidecast-node-redis-');
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
    '--logfile', path.join(dir, 'redis.log'), '--daemonize', 'no'];
  let tlsPort = null;
  let files = null;
  if (TLS) {
    files = await tlsMakeCerts(dir);
    tlsPort = await freePort();
    args.push('--tls-port', String(tlsPort), '--tls-cert-file', path.join(dir, 'server.pem'),
      '--tls-key-file', path.join(dir, 'server.key'), '--tls-ca-cert-file', files.ca, '--tls-auth-clients', 'yes');
  }
  const child = track(spawn('redis-server', args, { stdio: 'ignore' }));
  const alive = (p) => (child.exitCode !== null ? Promise.reject(new Error(`redis-server exited with ${child.exitCode}`)) : p);
  await waitFor(() => alive(redisPing(port)), 10000, 'redis-server to answer PING');
  const plainUrl = `redis://127.0.0.1:${port}`;
  let url = plainUrl;
  if (TLS) {
    await waitFor(() => alive(redisPingTls(tlsPort, files)), 10000, 'redis-server to answer PING over TLS');
    url = `rediss://127.0.0.1:${tlsPort}`;
    tlsFiles.set(url, files);
  }
  return {
    url,
    plainUrl,
    port,
    tlsPort,
    tls: files,
    dir,
    stop: () => stopChild(child),
  };
}

/** CLUSTER INFO's fields of the node on port, or null if it does not answer. */
async function clusterInfo(port) {
  try {
    const r = await redisCommand(port, 'CLUSTER', 'INFO');
    return Object.fromEntries(
      String(r)
        .split('\r\n')
        .filter((l) => l.includes(':'))
        .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]),
    );
  } catch (_) {
    return null;
  }
}

/** CLUSTER SLOTS of the node on port as [[first, last, primaryPort], ...] sorted, or null. */
async function clusterSlots(port) {
  try {
    const r = await redisCommand(port, 'CLUSTER', 'SLOTS');
    return r.map((e) => [Number(e[0]), Number(e[1]), Number(e[2][1])]).sort((x, y) => x[0] - y[0]);
  } catch (_) {
    return null;
  }
}

/**
 * A Redis Cluster of three primaries, no replicas, on free loopback ports
 * (SIDECAST_TEST_RCLUSTER): {url, port, ports, dir, cluster: true, stop}.
 * Returned once every node says cluster_state:ok, knows the three and
 * answers the same CLUSTER SLOTS, covering all 16384 slots.
 */
async function startRedisCluster() {
  if (TLS) throw new Error('SIDECAST_TEST_RCLUSTER with SIDECAST_TEST_TLS: not supported by this harness');
  const dir = tmpdir('sidecast-node-rcluster-');
  const ports = [];
  const kids = [];
  const taken = new Set();
  const fresh = async () => {
    for (let i = 0; i < 100; i++) {
      const p = await freePort();
      if (!taken.has(p)) return taken.add(p), p;
    }
    throw new Error('no free port for the Redis Cluster');
  };
  const stop = async () => {
    const codes = await Promise.all(kids.map((c) => stopChild(c)));
    for (const p of ports) clusterPorts.delete(p);
    return codes;
  };
  try {
    for (let i = 0; i < 3; i++) {
      // the cluster bus on a free port of its own: port + 10000 may be
      // taken, or above 65535 (free ports come from 32768-60999)
      const port = await fresh();
      const bus = await fresh();
      ports.push(port);
      const ndir = path.join(dir, `node${i}`);
      fs.mkdirSync(ndir);
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
        '--cluster-port', String(bus), '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '1000',
        '--save', '', '--appendonly', 'no', '--dir', ndir, '--logfile', path.join(ndir, 'redis.log'),
        '--daemonize', 'no'];
      kids.push(track(spawn('redis-server', args, { stdio: 'ignore' })));
    }
    for (let i = 0; i < 3; i++) {
      const child = kids[i];
      const log = path.join(dir, `node${i}`, 'redis.log');
      const alive = (p) =>
        child.exitCode !== null
          ? Promise.reject(new Error(`redis-server :${ports[i]} exited with ${child.exitCode} (see ${log})`))
          : p;
      await waitFor(() => alive(redisPing(ports[i])), 10000, `redis-server :${ports[i]} to answer PING`);
    }
    const create = ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0',
      '--cluster-yes'];
    await new Promise((resolve, reject) =>
      execFile('redis-cli', create, { timeout: 30000 }, (err, out, stderr) =>
        err ? reject(new Error(`redis-cli --cluster create: ${err.message}\n${out}\n${stderr}`)) : resolve(),
      ),
    );
    let seen = '';
    await waitFor(async () => {
      const infos = await Promise.all(ports.map(clusterInfo));
      seen = infos
        .map((inf, i) => `:${ports[i]} ${inf ? `${inf.cluster_state}, ${inf.cluster_known_nodes} nodes` : 'no answer'}`)
        .join('; ');
      if (!infos.every((inf) => inf && inf.cluster_state === 'ok' && inf.cluster_known_nodes === '3')) return false;
      const maps = await Promise.all(ports.map(clusterSlots));
      const first = JSON.stringify(maps[0]);
      if (!maps.every((m) => m && JSON.stringify(m) === first)) {
        seen += '; their CLUSTER SLOTS differ';
        return false;
      }
      let next = 0; // all 16384 slots, each served by a node of ours
      for (const [a, b, p] of maps[0]) {
        if (a !== next || !ports.includes(p)) return false;
        next = b + 1;
      }
      return next === 16384;
    }, 30000, 'the Redis Cluster to be ok on every node').catch((e) => {
      throw new Error(`${e.message}; ${seen}`);
    });
  } catch (e) {
    await stop();
    throw e;
  }
  for (const p of ports) clusterPorts.set(p, ports);
  return {
    url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`,
    plainUrl: null,
    port: ports[0],
    ports,
    tlsPort: null,
    tls: null,
    dir,
    cluster: true,
    stop,
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
    const files = redisUrl && tlsFiles.get(redisUrl);
    if (files)
      this.args.push('--redis-tls-ca-file', files.ca, '--redis-tls-cert-file', files.cert, '--redis-tls-key-file', files.key);
    this.args.push(...extra);
    this.child = null;
    this._observer = null;
  }

  /**
   * Sizes of `names` in this sidecastd's own registry (RoomsRequest), asked
   * over a connection of the test's own that registers nothing. sidecastd
   * counts every app connection as a server: this one answers server-side
   * emits "namespace absent" (payload kind 4, as an adapter without the
   * namespace does), so serverSideEmit() and serverCount() of the apps do
   * not count it.
   * @returns {Promise<Array<{name, size}>>}
   */
  async rooms(names) {
    if (!this._observer) {
      const o = new SidecastClient({ path: this.sock, name: 'test-observer', reconnectMin: 30, reconnectMax: 300 });
      o.onServerMessage = (m) => m.ackId && o.ack(m.ackId, { payloads: [Buffer.from([4])], done: true });
      this._observer = o;
    }
    await this._observer.ready(15000);
    return this._observer.rooms(names);
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
    if (this._observer) {
      const o = this._observer;
      this._observer = null;
      await o.close();
    }
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

/**
 * Poll `check` (observable state: a registry, a count, a flag) until it is
 * truthy, like waitFor. Never wrap a send in it: a send repeated until it
 * arrives passes when the first one is lost.
 */
function eventually(check, ms = 15000, what = 'condition') {
  if (typeof ms !== 'number' || arguments.length > 3)
    throw new TypeError('eventually(send, sock, ev) is gone: wait for a barrier (roomReady), send once, count with exactly()');
  return waitFor(check, ms, what);
}

/**
 * One command to the Redis on 127.0.0.1:port; resolves with the reply
 * (RESP2: +, -, :, $, *). A MOVED answer (a Redis Cluster node not serving
 * the key's slot) is followed to the node it names, as redis-cli -c does,
 * at most 5 times.
 */
async function redisCommand(port, ...args) {
  for (let hops = 0; ; hops++) {
    try {
      return await redisCommandOnce(port, ...args);
    } catch (e) {
      const m = /^MOVED \d+ 127\.0\.0\.1:(\d+)$/.exec(e.message);
      if (!m || hops >= 5) throw e;
      port = Number(m[1]);
    }
  }
}

function redisCommandOnce(port, ...args) {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const t = setTimeout(() => (s.destroy(), reject(new Error(`redis ${args[0]}: no answer`))), 5000);
    // [value, next offset], or null while incomplete
    const parse = (at) => {
      const eol = buf.indexOf('\r\n', at);
      if (eol < 0) return null;
      const type = String.fromCharCode(buf[at]);
      const line = buf.toString('utf8', at + 1, eol);
      if (type === '+') return [line, eol + 2];
      if (type === '-') return [new Error(line), eol + 2];
      if (type === ':') return [Number(line), eol + 2];
      if (type === '$') {
        const n = Number(line);
        if (n < 0) return [null, eol + 2];
        return buf.length >= eol + 2 + n + 2 ? [buf.toString('utf8', eol + 2, eol + 2 + n), eol + 2 + n + 2] : null;
      }
      if (type === '*') {
        const out = [];
        let p = eol + 2;
        for (let i = 0; i < Number(line); i++) {
          const r = parse(p);
          if (!r) return null;
          out.push(r[0]);
          p = r[1];
        }
        return [out, p];
      }
      throw new Error(`redis: unexpected reply type ${type}`);
    };
    s.on('connect', () => {
      const parts = [`*${args.length}\r\n`];
      for (const a of args) parts.push(`$${Buffer.byteLength(String(a))}\r\n${a}\r\n`);
      s.write(parts.join(''));
    });
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      let r;
      try {
        r = parse(0);
      } catch (e) {
        r = [e];
      }
      if (!r) return;
      clearTimeout(t);
      s.destroy();
      r[0] instanceof Error ? reject(r[0]) : resolve(r[0]);
    });
    s.on('error', (e) => (clearTimeout(t), reject(e)));
  });
}

/**
 * A Redis Cluster's shard subscribers of `channel` (port: any node of a
 * cluster started here): {owner, counts}, owner the port of the primary
 * serving the channel's slot (CLUSTER KEYSLOT, CLUSTER SLOTS), counts each
 * node's own PUBSUB SHARDNUMSUB answer by port (a node counts only the
 * SSUBSCRIBEs it holds; Redis 7.0 answers 0, not MOVED, for a channel of
 * another node's slot; a MOVED answer would count as 0 too).
 */
async function shardSubscribers(port, channel) {
  const ports = clusterPorts.get(port);
  if (!ports) throw new Error(`no Redis Cluster started here on port ${port}`);
  const slot = Number(await redisCommand(port, 'CLUSTER', 'KEYSLOT', channel));
  const map = await clusterSlots(port);
  const range = map && map.find(([a, b]) => a <= slot && slot <= b);
  if (!range) throw new Error(`no node serves slot ${slot} of ${channel}`);
  const counts = {};
  await Promise.all(
    ports.map(async (p) => {
      try {
        counts[p] = Number((await redisCommand(p, 'PUBSUB', 'SHARDNUMSUB', channel))[1]);
      } catch (e) {
        if (!/^MOVED /.test(e.message)) throw e;
        counts[p] = 0;
      }
    }),
  );
  return { owner: range[2], counts };
}

/**
 * Subscribers Redis counts for `channel`: one per sidecastd subscribed.
 * PUBSUB NUMSUB; on a Redis Cluster started here (port any node of it) the
 * slot owner's PUBSUB SHARDNUMSUB (shardSubscribers), where sidecastd's
 * SSUBSCRIBEs are.
 */
async function subscribers(port, channel) {
  if (clusterPorts.has(port)) {
    const { owner, counts } = await shardSubscribers(port, channel);
    return counts[owner];
  }
  const r = await redisCommand(port, 'PUBSUB', 'NUMSUB', channel);
  return Number(r[1]);
}

/**
 * Barrier for a room emit: wait (bounded) until each sidecastd of `want`
 * holds exactly `size` members of the registry key `key` ("/" the
 * namespace's everyone room, "/,room" a room of "/"), and, with a Redis
 * port, until Redis counts exactly as many subscribers of the room's
 * channel ("<prefix>:room:<key>") as there are sidecastds with members —
 * linger subscriptions of nodes without members gone, every member node's
 * SUBSCRIBE processed. After it, one emit from any node reaches every member
 * once. On a Redis Cluster started here (redisPort any node of it) the
 * count is the shard subscribers (SSUBSCRIBE) on the primary serving the
 * channel's slot (shardSubscribers).
 * @param {number|null} redisPort null: standalone, the registry alone
 * @param {string} key
 * @param {Array<[{rooms(names): Promise}, number | (() => number)]>} want
 *   a SidecastClient or a Sidecastd, and the size wanted (a function: read on every poll)
 */
/** A room named like a socket.io socket's own (broker/core/registry.h: sc_private_room_id). */
const PRIVATE_ROOM = /,([A-Za-z0-9_-]{20})$/;

async function roomReady(redisPort, key, want, { prefix = 'sidecast', ms = 15000 } = {}) {
  let seen = '';
  await waitFor(
    async () => {
      const sizes = [];
      let members = 0;
      for (const [src, size] of want) {
        const [r] = await src.rooms([key]);
        const wanted = typeof size === 'function' ? size() : size;
        sizes.push(`${r.size}/${wanted}`);
        if (r.size !== wanted) {
          seen = `registries ${sizes.join(' ')}`;
          return false;
        }
        if (wanted > 0) members++;
      }
      if (redisPort == null) return true;
      const channel = `${prefix}:room:${key}`;
      if (clusterPorts.has(redisPort)) {
        const { owner, counts } = await shardSubscribers(redisPort, channel);
        const others = Object.entries(counts).filter(([p]) => Number(p) !== owner);
        seen = `registries ${sizes.join(' ')}, ${counts[owner]} shard subscribers on the slot's owner :${owner} ` +
          `(others: ${others.map(([p, n]) => `:${p} ${n}`).join(', ')}) for ${members} member nodes`;
        return counts[owner] === members;
      }
      const subs = await subscribers(redisPort, channel);
      seen = `registries ${sizes.join(' ')}, ${subs} subscribers for ${members} member nodes`;
      const own = PRIVATE_ROOM.exec(key);
      if (own && members > 0) {
        // A socket.io id room (proto/README.md, private rooms): its socket's
        // node may leave it unsubscribed, as emits reach it through the
        // directory, once the socket is there.
        const node = await redisCommand(redisPort, 'HGET', `${prefix}:sockets`, own[1]);
        seen += `; directory: ${node || 'no entry'}`;
        return node != null && node !== '' && (subs === members || subs === members - 1);
      }
      return subs === members;
    },
    ms,
    `room ${key} ready`,
  ).catch((e) => {
    throw new Error(`${e.message}; ${seen}`);
  });
}

/** Record every event socket `s` receives: [[event, ...args], ...]. */
function recorder(s) {
  const seen = [];
  s.onAny((ev, ...args) => seen.push([ev, ...args]));
  return seen;
}

/** How many of the recorded events are `ev` (and pass `pred`, if given). */
function count(seen, ev, pred) {
  return seen.filter((e) => e[0] === ev && (!pred || pred(e.slice(1)))).length;
}

/**
 * Wait (bounded) until `get()` reaches `n`, then `drain` ms more, and
 * assert it is exactly `n`: a missing delivery and an extra one both fail.
 * @param {() => number} get
 */
async function exactly(get, n, what, { ms = 10000, drain = 300 } = {}) {
  const end = Date.now() + ms;
  while (get() < n) {
    if (Date.now() > end) throw new Error(`${what}: ${get()} of ${n} within ${ms} ms`);
    await sleep(10);
  }
  await sleep(drain);
  const got = get();
  if (got !== n) throw new Error(`${what}: ${got}, want exactly ${n}`);
}

/**
 * Wait (bounded) until every [seen, ev, n] of `want` has at least n events
 * `ev` (seen: a recorder), then `drain` ms more, and assert each count is
 * exactly n (n = 0: nothing arrived in the drain either).
 */
async function expectCounts(want, what, { ms = 10000, drain = 300 } = {}) {
  const now = () => want.map(([seen, ev]) => count(seen, ev));
  const n = want.map((w) => w[2]);
  const show = (c) => want.map(([, ev], i) => `${ev}:${c[i]}/${n[i]}`).join(' ');
  const end = Date.now() + ms;
  while (!now().every((c, i) => c >= n[i])) {
    if (Date.now() > end) throw new Error(`${what}: not every delivery within ${ms} ms (${show(now())})`);
    await sleep(10);
  }
  await sleep(drain);
  const got = now();
  if (!got.every((c, i) => c === n[i])) throw new Error(`${what}: counts not exact (${show(got)})`);
}

module.exports = { SIDECASTD, SOCKET_IO_VERSION, TLS, RCLUSTER, eventually, roomReady, subscribers, shardSubscribers, redisCommand, recorder, count, exactly, expectCounts, sleep, waitFor, once, next, none, freePort, tmpdir, startRedis, Sidecastd, startIo, connect, settle, stopChild, track };
