'use strict';
/**
 * Sticky-free long-polling: any node serves any engine.io session.
 *
 * Behind a round-robin balancer the requests of one polling session land on
 * every node, and a node that did not create the session would answer
 * "Session ID unknown". enableForwarding(io) wraps the http server's
 * `request` and `upgrade` listeners that engine.io installed: a request for
 * a sid this node holds goes straight to engine.io (one property lookup, no
 * extra cost); a request for a foreign sid is looked up in the sidecast
 * directory (the owning node's `advertise_address`), and proxied there as
 * plain HTTP — streamed both ways, so a long-poll GET held by the owner stays
 * held and a POST carries its body; a websocket upgrade is piped as raw TCP
 * to the owner, so the session upgrades where it lives.
 *
 * Safety: the target is only ever an address the directory returned for a
 * live node (never anything from the request); only sids the directory knows
 * are forwarded; a forwarded request carries `x-sidecast-forwarded` and a
 * node never forwards such a request again (no loops). Bounded: requests
 * and tunnels in flight are capped, every forward has a connect timeout and
 * an overall timeout, the sid cache is bounded in size and age. Every
 * failure is counted (stats(), metrics()) and logged at most once per
 * reason per logIntervalMs.
 *
 * Registration race: engine.io hands out the sid at handshake, but socket.io
 * registers the socket with the adapter only after the CONNECT packet — which
 * the client may well send through another node. So the forwarder registers
 * every engine.io connection itself as socket `eio:<sid>` (no rooms, session
 * id = sid) at engine `connection` time, and a lookup that misses is retried
 * a few times over a few hundred ms before the request is left to engine.io.
 */
const http = require('node:http');
const net = require('node:net');
const { render } = require('./prom');

const HEADER = 'x-sidecast-forwarded';
const SID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
]);
const REASONS = [
  'unknown_sid',
  'lookup_error',
  'bad_address',
  'unreachable',
  'timeout',
  'limit',
  'upstream_error',
  'client_aborted',
];
const NET_UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ETIMEDOUT']);

/** The forwarder's Prometheus families (lib/prom.js), read from a Forwarder. */
const FAMILIES = [
  {
    name: 'sidecast_forward_requests_total',
    type: 'counter',
    help: "Requests for another node's session forwarded to it, by kind.",
    labelNames: ['kind'],
    samples: (f) => [
      [{ kind: 'poll' }, f.counters.forwardedPoll],
      [{ kind: 'post' }, f.counters.forwardedPost],
      [{ kind: 'upgrade' }, f.counters.forwardedUpgrade],
    ],
  },
  {
    name: 'sidecast_forward_failures_total',
    type: 'counter',
    help: 'Forwards that failed or were refused, by reason.',
    labelNames: ['reason'],
    samples: (f) => REASONS.map((r) => [{ reason: r }, f.failures[r]]),
  },
  ...[
    ['served', 'Requests other nodes forwarded to this node.', 'served'],
    ['lookups', "Directory lookups made to find a session's owner.", 'lookups'],
    ['lookup_retries', 'Lookups repeated because the session was not (yet) in the directory.', 'lookupRetries'],
    ['cache_hits', 'Owners found in the sid cache without a lookup.', 'cacheHits'],
  ].map(([name, help, key]) => ({
    name: `sidecast_forward_${name}_total`,
    type: 'counter',
    help,
    labelNames: [],
    samples: (f) => [[null, f.counters[key]]],
  })),
  {
    name: 'sidecast_forward_in_flight',
    type: 'gauge',
    help: 'Forwarded HTTP requests in flight.',
    labelNames: [],
    samples: (f) => [[null, f.inFlight]],
  },
  {
    name: 'sidecast_forward_tunnels',
    type: 'gauge',
    help: 'Forwarded websocket connections open.',
    labelNames: [],
    samples: (f) => [[null, f.tunnels]],
  },
];

/** io Server -> its Forwarder (the app's metrics(io) include the forwarder's). */
const forwarders = new WeakMap();


/** "host:port", "[v6]:port" or "http://host:port[/]" -> {host, port}, else null. */
function parseAddress(a) {
  let s = String(a || '').trim();
  if (s.startsWith('http://')) s = s.slice(7);
  if (s.endsWith('/')) s = s.slice(0, -1);
  const m = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(s) || /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(s);
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1], port };
}

/** The sid query parameter of an engine.io URL, or null (none / malformed). */
function sidOf(url) {
  const q = url.indexOf('?');
  if (q < 0) return null;
  const sid = new URLSearchParams(url.slice(q + 1)).get('sid');
  return sid !== null && SID_RE.test(sid) ? sid : null;
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function errorReply(res, status, message) {
  if (res.headersSent) return res.destroy();
  const body = JSON.stringify({ code: status, message });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

class Forwarder {
  /**
   * @param {import('socket.io').Server} io attached to its http server already
   * @param {import('./forward').ForwardOptions} [opts]
   */
  constructor(io, opts = {}) {
    const server = io.httpServer;
    const engine = io.engine;
    if (!server || !engine) throw new TypeError('enableForwarding: attach socket.io to its http server first');
    this.io = io;
    this.engine = engine;
    this.server = server;
    this.client = opts.client || (io.of('/').adapter && io.of('/').adapter.client);
    if (!this.client || typeof this.client.lookup !== 'function')
      throw new TypeError('enableForwarding: no SidecastClient (use the sidecast adapter or pass opts.client)');
    const eo = engine.opts || {};
    this.timeout = opts.timeout > 0 ? opts.timeout : (eo.pingInterval || 25000) + (eo.pingTimeout || 20000);
    this.connectTimeout = opts.connectTimeout > 0 ? opts.connectTimeout : 3000;
    this.lookupTimeout = opts.lookupTimeout > 0 ? opts.lookupTimeout : 2000;
    this.missRetries = opts.missRetries >= 0 ? opts.missRetries : 5;
    this.missRetryMs = opts.missRetryMs > 0 ? opts.missRetryMs : 25;
    this.maxInFlight = opts.maxInFlight > 0 ? opts.maxInFlight : 1024;
    this.maxTunnels = opts.maxTunnels > 0 ? opts.maxTunnels : 4096;
    this.maxLookups = opts.maxLookups > 0 ? opts.maxLookups : 256;
    this.cacheMs = opts.cacheMs >= 0 ? opts.cacheMs : 2000;
    this.cacheMax = opts.cacheMax > 0 ? opts.cacheMax : 10000;
    this.logIntervalMs = opts.logIntervalMs >= 0 ? opts.logIntervalMs : 10000;
    this.logger = opts.log === false ? null : typeof opts.log === 'function' ? opts.log : (l) => console.warn(l);
    this.register = opts.register !== false;
    let path = (eo.path || io.path() || '/engine.io').replace(/\/$/, '');
    if (eo.addTrailingSlash !== false) path += '/';
    this.path = path;
    this.agent = new http.Agent({
      keepAlive: true,
      noDelay: true,
      maxSockets: this.maxInFlight,
      maxFreeSockets: this.maxInFlight,
    });
    this.counters = {
      forwardedPoll: 0,
      forwardedPost: 0,
      forwardedUpgrade: 0,
      served: 0,
      lookups: 0,
      lookupRetries: 0,
      cacheHits: 0,
    };
    this.failures = Object.fromEntries(REASONS.map((r) => [r, 0]));
    this.inFlight = 0;
    this.tunnels = 0;
    this._cache = new Map(); // sid -> {host, port, node, expires}
    this._pendingLookups = new Map(); // sid -> Promise
    this._logState = new Map(); // reason -> {at, suppressed}
    this._registered = new Set();
    this._open = new Set(); // live upstream requests / sockets, destroyed by close()
    /**
     * This node's advertise_address as its sidecastd reports it: undefined
     * until known (checked at the first session this node holds), '' when
     * unset, null in standalone mode (nothing forwards here).
     */
    this.advertiseAddress = undefined;
    this._advertiseCheck = 'todo'; // 'todo' | 'running' | 'done'
    this._install();
    forwarders.set(io, this);
  }

  /* ---- installation --------------------------------------------------------- */

  _install() {
    const s = this.server;
    this._origRequest = s.listeners('request').slice();
    this._origUpgrade = s.listeners('upgrade').slice();
    this._onRequest = (req, res) => this._request(req, res);
    this._onUpgrade = (req, socket, head) => this._upgrade(req, socket, head);
    s.removeAllListeners('request');
    s.on('request', this._onRequest);
    if (this._origUpgrade.length) {
      s.removeAllListeners('upgrade');
      s.on('upgrade', this._onUpgrade);
    }
    if (!this.register) {
      // sessions are in the directory once socket.io registered their sockets
      this._onSocket = (socket) => this._checkAdvertise(socket.conn && socket.conn.id);
      this.io.of('/').on('connection', this._onSocket);
      for (const socket of this.io.of('/').sockets.values()) return this._onSocket(socket);
      return;
    }
    this._onConnection = (conn) => {
      this._registerConn(conn);
      this._checkAdvertise(conn.id);
    };
    this.engine.on('connection', this._onConnection);
    // The sid stays in the directory while this registration or any
    // namespace socket with it does (sidecastd keeps a session until its
    // last socket goes), so a namespace leaving does not lose it.
    for (const id of Object.keys(this.engine.clients)) this._registerConn(this.engine.clients[id]);
    const first = Object.keys(this.engine.clients)[0];
    if (first !== undefined) this._checkAdvertise(first);
  }

  /**
   * Once, at the first session this node holds (so before any other node
   * can have one of its requests to forward here): is sidecastd in cluster
   * mode (its stats have cluster gauges) without an advertise_address (the
   * address a lookup of that session reports)? Then other nodes answer 502
   * to the polling requests of this node's sessions that reach them: said
   * once through the client's logger (the adapter's `logger` option), as
   * sidecastd says in its log. Checked again at a later session if the
   * lookup could not tell (sidecastd unreachable, session already gone).
   */
  async _checkAdvertise(sid) {
    if (this._advertiseCheck !== 'todo' || !sid || this._closed) return;
    this._advertiseCheck = 'running';
    let state = 'todo';
    try {
      const stats = await this.client.stats(this.lookupTimeout);
      if (!('cluster_nodes' in stats)) {
        this.advertiseAddress = null;
        state = 'done';
        return;
      }
      const r = await this.client.lookup({ sessionId: sid }, { local: true, timeout: this.lookupTimeout });
      const hit = r.sockets.find((x) => x.sessionId === sid);
      if (!hit) return;
      state = 'done';
      this.advertiseAddress = hit.address || '';
      if (parseAddress(hit.address) || this._closed) return;
      const node = hit.nodeName || hit.nodeId || 'this node';
      this.client.logger.warn(
        `sidecast forward: the sidecastd of node ${node} runs in cluster mode ` +
          (hit.address ? `with an unusable advertise_address ${JSON.stringify(hit.address)}` : 'without advertise_address') +
          `: forwarded polls to this node will fail with 502 (other nodes cannot forward the long-polling ` +
          `requests of its sessions without sticky sessions); set advertise_address = host:port, the address ` +
          `other nodes reach this app server at (e.g. 10.0.0.5:3000), in its sidecast.conf`,
      );
    } catch (_) {
      // sidecastd unreachable or too old: the next session tries again
    } finally {
      this._advertiseCheck = state;
    }
  }

  _registerConn(conn) {
    const id = 'eio:' + conn.id;
    if (this._registered.has(id)) return;
    this._registered.add(id);
    try {
      this.client.socketUp(id, { sessionId: conn.id });
    } catch (_) {
      // already registered by an earlier forwarder on the same client
    }
    conn.once('close', () => {
      if (!this._registered.delete(id)) return;
      this.client.socketDown(id);
    });
  }

  /**
   * Put engine.io's own listeners back, unregister the engine.io sids, end
   * forwards in flight. Idempotent.
   */
  close() {
    if (this._closed) return;
    this._closed = true;
    if (forwarders.get(this.io) === this) forwarders.delete(this.io);
    const s = this.server;
    s.removeListener('request', this._onRequest);
    for (const l of this._origRequest) s.on('request', l);
    if (this._origUpgrade.length) {
      s.removeListener('upgrade', this._onUpgrade);
      for (const l of this._origUpgrade) s.on('upgrade', l);
    }
    if (this._onConnection) {
      this.engine.removeListener('connection', this._onConnection);
    }
    if (this._onSocket) this.io.of('/').removeListener('connection', this._onSocket);
    for (const id of this._registered) this.client.socketDown(id);
    this._registered.clear();
    for (const o of this._open) o.destroy();
    this._open.clear();
    this._cache.clear();
    this.agent.destroy();
  }

  /* ---- routing ------------------------------------------------------------- */

  _mine(req) {
    return this.path === req.url.slice(0, this.path.length);
  }

  /** The sid of a request to forward, or null: let engine.io (or the app) have it. */
  _foreignSid(req) {
    if (this._closed || !this._mine(req)) return null;
    if (req.headers[HEADER] !== undefined) {
      this.counters.served++;
      return null; // forwarded to us: never again
    }
    const sid = sidOf(req.url);
    if (sid === null || this.engine.clients[sid]) return null;
    return sid;
  }

  _pass(req, res) {
    for (const l of this._origRequest) l.call(this.server, req, res);
  }

  _passUpgrade(req, socket, head) {
    for (const l of this._origUpgrade) l.call(this.server, req, socket, head);
  }

  /** Owner {host, port, node} of a foreign sid; null: unknown, local or unusable. */
  _owner(sid) {
    const c = this._cache.get(sid);
    if (c) {
      if (c.expires > Date.now()) {
        this.counters.cacheHits++;
        return Promise.resolve(c);
      }
      this._cache.delete(sid);
    }
    let p = this._pendingLookups.get(sid);
    if (!p) {
      // Unauthenticated requests cause lookups (and retries): cap them.
      if (this._pendingLookups.size >= this.maxLookups) {
        this._fail(
          'limit',
          `${this._pendingLookups.size} lookups in flight (maxLookups); session ${sid} left to engine.io`,
        );
        return Promise.resolve(null);
      }
      p = this._lookup(sid).finally(() => this._pendingLookups.delete(sid));
      this._pendingLookups.set(sid, p);
    }
    return p;
  }

  async _lookup(sid) {
    let delay = this.missRetryMs;
    for (let attempt = 0; ; attempt++) {
      let r;
      this.counters.lookups++;
      try {
        r = await this.client.lookup({ sessionId: sid }, { timeout: this.lookupTimeout });
      } catch (err) {
        this._fail('lookup_error', `lookup of session ${sid} failed (${err.message}); is sidecastd up?`);
        return { error: 'lookup_error' };
      }
      const hit = r.sockets.find((s) => s.sessionId === sid) || r.sockets[0];
      if (hit) return this._resolved(sid, hit);
      // Maybe the owner's registration is still on its way: retry briefly.
      if (attempt >= this.missRetries || this._closed || this.engine.clients[sid]) break;
      this.counters.lookupRetries++;
      await sleep(delay);
      delay *= 2;
      if (this.engine.clients[sid]) return null;
    }
    this._fail('unknown_sid', `session ${sid} is in no node's directory; left to engine.io`);
    return null;
  }

  _resolved(sid, hit) {
    if (hit.local) return null; // ours but gone from engine.io: engine.io answers
    const a = parseAddress(hit.address);
    if (!a) {
      this._fail(
        'bad_address',
        `node ${hit.nodeName || hit.nodeId} owns session ${sid} but advertises no usable address ` +
          `(${JSON.stringify(hit.address || '')}); set advertise_address = host:port in its sidecast.conf`,
      );
      return { error: 'bad_address' };
    }
    const owner = { host: a.host, port: a.port, node: hit.nodeName || hit.nodeId, expires: Date.now() + this.cacheMs };
    if (this.cacheMs > 0) {
      if (this._cache.size >= this.cacheMax) this._cache.delete(this._cache.keys().next().value);
      this._cache.set(sid, owner);
    }
    return owner;
  }

  /* ---- HTTP forwarding ------------------------------------------------------ */

  _request(req, res) {
    const sid = this._foreignSid(req);
    if (sid === null) return this._pass(req, res);
    this._owner(sid).then(
      (owner) => {
        if (owner === null) return this._pass(req, res);
        if (owner.error) return errorReply(res, owner.error === 'bad_address' ? 502 : 503, `sidecast: ${owner.error}`);
        this._proxy(req, res, sid, owner);
      },
      (err) => {
        this._fail('upstream_error', `forwarding session ${sid}: ${err.message}`);
        errorReply(res, 500, 'sidecast: forward failed');
      },
    );
  }

  _headersFor(req) {
    const h = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k) && k !== HEADER) h[k] = v;
    h[HEADER] = this.client.nodeName || this.client.nodeId || '1';
    const ra = req.socket.remoteAddress;
    if (ra) h['x-forwarded-for'] = req.headers['x-forwarded-for'] ? `${req.headers['x-forwarded-for']}, ${ra}` : ra;
    return h;
  }

  _proxy(req, res, sid, owner) {
    if (req.socket.destroyed || res.writableEnded) {
      this._fail('client_aborted', `session ${sid}: the client went away during the lookup`);
      return;
    }
    if (this.inFlight >= this.maxInFlight) {
      this._fail('limit', `${this.inFlight} forwarded requests in flight (maxInFlight); refusing session ${sid}`);
      return errorReply(res, 503, 'sidecast: forward limit reached');
    }
    if (req.method === 'POST') this.counters.forwardedPost++;
    else this.counters.forwardedPoll++;
    this.inFlight++;
    const up = http.request({
      host: owner.host,
      port: owner.port,
      method: req.method,
      path: req.url,
      headers: this._headersFor(req),
      agent: this.agent,
    });
    this._open.add(up);
    let done = false;
    const finish = (reason, msg) => {
      if (done) return false;
      done = true;
      clearTimeout(timer);
      clearTimeout(connectTimer);
      this._open.delete(up);
      this.inFlight--;
      if (reason) {
        if (reason !== 'client_aborted') this._cache.delete(sid);
        this._fail(reason, msg);
      }
      return true;
    };
    const timer = setTimeout(() => {
      if (finish('timeout', `session ${sid} at ${owner.node}: no answer within ${this.timeout} ms`)) {
        up.destroy();
        errorReply(res, 504, 'sidecast: owner timed out');
      }
    }, this.timeout);
    let connectTimer = null;
    up.on('socket', (s) => {
      if (!s.connecting) return;
      connectTimer = setTimeout(() => {
        if (finish('unreachable', `session ${sid}: no connection to ${owner.node} within ${this.connectTimeout} ms`)) {
          up.destroy();
          errorReply(res, 502, 'sidecast: owner unreachable');
        }
      }, this.connectTimeout);
      s.once('connect', () => clearTimeout(connectTimer));
    });
    up.on('error', (err) => {
      const reason = NET_UNREACHABLE.has(err.code) && !up.res ? 'unreachable' : 'upstream_error';
      if (finish(reason, `session ${sid} at ${owner.node} (${owner.host}:${owner.port}): ${err.code || err.message}`))
        errorReply(res, 502, 'sidecast: owner unreachable');
    });
    up.on('response', (ures) => {
      const h = {};
      for (const [k, v] of Object.entries(ures.headers)) if (!HOP.has(k)) h[k] = v;
      res.writeHead(ures.statusCode, h);
      ures.pipe(res);
      ures.on('end', () => finish(null));
      const cut = () => {
        if (finish('upstream_error', `session ${sid}: ${owner.node} cut the answer short`)) res.destroy();
      };
      ures.on('aborted', cut);
      ures.on('error', cut);
    });
    req.on('error', () => {}); // a client gone mid-body: handled by res 'close'
    res.on('close', () => {
      // the whole answer already passed through: not an abort
      if (res.writableFinished || (up.res && up.res.complete)) return finish(null);
      if (finish('client_aborted', `session ${sid}: the client went away before ${owner.node} answered`)) up.destroy();
    });
    // engine.io's GETs carry no body: send them at once, not on the request's 'end'
    if (
      (req.method === 'GET' || req.method === 'HEAD') &&
      !req.headers['content-length'] &&
      !req.headers['transfer-encoding']
    ) {
      req.resume();
      up.end();
    } else req.pipe(up);
  }

  /* ---- websocket upgrade: a raw TCP tunnel to the owner ------------------------- */

  _upgrade(req, socket, head) {
    const sid = this._foreignSid(req);
    if (sid === null) return this._passUpgrade(req, socket, head);
    socket.pause();
    socket.on('error', () => {});
    this._owner(sid).then(
      (owner) => {
        if (owner === null) return this._passUpgrade(req, socket, head);
        if (owner.error) return socket.end(`HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n`);
        this._tunnel(req, socket, head, sid, owner);
      },
      () => socket.destroy(),
    );
  }

  _tunnel(req, socket, head, sid, owner) {
    if (socket.destroyed) {
      this._fail('client_aborted', `websocket of session ${sid}: the client went away during the lookup`);
      return;
    }
    if (this.tunnels >= this.maxTunnels) {
      this._fail('limit', `${this.tunnels} forwarded websockets open (maxTunnels); refusing session ${sid}`);
      return socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
    }
    this.counters.forwardedUpgrade++;
    this.tunnels++;
    const up = net.connect(owner.port, owner.host);
    this._open.add(up);
    this._open.add(socket);
    let connected = false;
    let closed = false;
    const close = (reason, msg) => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      this.tunnels--;
      this._open.delete(up);
      this._open.delete(socket);
      if (reason) {
        this._cache.delete(sid);
        this._fail(reason, msg);
      }
      if (!connected && socket.writable) socket.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n');
      else socket.destroy();
      up.destroy();
    };
    const timer = setTimeout(
      () =>
        close(
          'unreachable',
          `websocket of session ${sid}: no connection to ${owner.node} within ${this.connectTimeout} ms`,
        ),
      this.connectTimeout,
    );
    up.on('error', (err) =>
      close(
        connected ? null : 'unreachable',
        `websocket of session ${sid} at ${owner.node}: ${err.code || err.message}`,
      ),
    );
    up.on('connect', () => {
      connected = true;
      clearTimeout(timer);
      up.setNoDelay(true);
      let head0 = `${req.method} ${req.url} HTTP/1.1\r\n`;
      const raw = req.rawHeaders;
      for (let i = 0; i + 1 < raw.length; i += 2)
        if (raw[i].toLowerCase() !== HEADER) head0 += `${raw[i]}: ${raw[i + 1]}\r\n`;
      head0 += `${HEADER}: ${this.client.nodeName || this.client.nodeId || '1'}\r\n\r\n`;
      up.write(head0);
      if (head && head.length) up.write(head);
      socket.pipe(up);
      up.pipe(socket);
    });
    up.on('close', () => close(null));
    socket.on('close', () => close(null));
  }

  /* ---- accounting ----------------------------------------------------------- */

  _fail(reason, msg) {
    this.failures[reason]++;
    if (!this.logger) return;
    const now = Date.now();
    let st = this._logState.get(reason);
    if (!st) this._logState.set(reason, (st = { at: -Infinity, suppressed: 0 }));
    if (now - st.at < this.logIntervalMs) {
      st.suppressed++;
      return;
    }
    const more = st.suppressed ? ` (${st.suppressed} more "${reason}" since the last report)` : '';
    st.at = now;
    st.suppressed = 0;
    this.logger(`sidecast forward: ${reason}: ${msg}${more}`);
  }

  /** @returns {import('./forward').ForwardStats} */
  stats() {
    return Object.assign(
      {},
      this.counters,
      { failures: Object.assign({}, this.failures) },
      {
        inFlight: this.inFlight,
        tunnels: this.tunnels,
        cached: this._cache.size,
      },
    );
  }

  /** Prometheus text exposition of stats(), for the app's /metrics. */
  metrics() {
    return render(FAMILIES, this);
  }
}

/**
 * Serve polling requests and websocket upgrades for sessions owned by other
 * nodes by forwarding them to the owner. Call after socket.io is attached to
 * its http server (`new Server(httpServer)`, `io.attach()` or `io.listen()`).
 * Every node must run sidecastd with `advertise_address` = the host:port its
 * peers reach this http server on.
 * @returns {Forwarder}
 */
function enableForwarding(io, opts) {
  return new Forwarder(io, opts);
}

/** The open Forwarder enableForwarding(io) made, or null. */
function forwarderOf(io) {
  return forwarders.get(io) || null;
}

module.exports = { enableForwarding, Forwarder, parseAddress, forwarderOf, FAMILIES, FORWARDED_HEADER: HEADER };
