'use strict';
/**
 * SidecastClient: one connection from this process to the node's sidecastd
 * over its Unix socket (see proto/README.md, "Protocol overview"; clients/c/client.c is
 * the reference). Frames are a 4-byte big-endian length + one protobuf
 * `Frame` encoded with the static protobufjs code in ./proto.js, into a
 * FrameWriter (./writer.js: protobufjs's Writer interface, writing straight
 * into the batch buffer).
 *
 * Writes are batched: every frame queued in one turn of the event loop (all
 * the I/O callbacks of one poll phase) goes out with one socket write. Reads
 * split the stream into frames and dispatch them; replies find their request
 * by id (multi-part replies end with more=false / done=true).
 *
 * The client is the source of truth for what it registered: after a
 * reconnect (sidecastd restarted or upgraded) it registers every socket with
 * its rooms and data again before anything else, so no client connection has
 * to drop. Registrations come from the built-in mirror (socketUp / join /
 * leave / setData / socketDown) and from providers (the socket.io adapter
 * keeps its own maps and registers itself as a provider).
 */

const net = require('net');
const { EventEmitter } = require('events');
const { Reader } = require('protobufjs/minimal');
const { FrameWriter } = require('./writer');
// the tags _rawSocketList() reads by hand (lib/wire.js owns them)
const {
  FRAME_ID,
  FRAME_SOCKET_LIST,
  SOCKET_LIST_SOCKETS,
  SOCKET_LIST_MORE,
  SOCKET_LIST_NODE_ID,
  SOCKET_LIST_ETAG,
  SOCKET_LIST_UNCHANGED,
} = require('./wire');
const { Frame, SocketInfo, Feature: ProtoFeature } = require('./proto').sidecast.v1;
const { SidecastError, TimeoutError, DisconnectedError, fromFrame } = require('./errors');

const PROTOCOL_VERSION = 1;
/**
 * Feature bits of proto/sidecast.proto (enum Feature), names without the
 * `FEATURE_` prefix. A bit's value is the enum value itself. Each side says
 * which it has (Hello, Welcome); one is used only when both have it, and a
 * sidecastd from before negotiation has none (0).
 */
const Feature = Object.freeze(
  Object.fromEntries(Object.entries(ProtoFeature).map(([k, v]) => [k.replace(/^FEATURE_/, ''), v])),
);
/** Every feature this client has (sent in its Hello). */
const CLIENT_FEATURES = Feature.NODE_VERSIONS | Feature.KEPT_ANSWERS;
const MAX_INBOUND_FRAME = 64 * 1024 * 1024;
const DEFAULT_SOCKET = '/run/sidecast/sidecast.sock';
const BATCH_BYTES = 1024 * 1024;
/** sidecastd's defaults, assumed until its Welcome says (max_frame_bytes 17m, max_payload_bytes 16m) */
const DEFAULT_MAX_FRAME = 17 * 1024 * 1024;
const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024;
/**
 * A cluster request (fetchSockets, apply, a server emit or broadcast with
 * acks) waits this much longer than its time limit: sidecastd's own answer
 * at its request_timeout_ms (which nodes answered, which did not) then
 * arrives before the client's timer fires.
 */
const CLUSTER_MARGIN_MS = 1000;

/** What to do about a failed connection to sidecastd, by errno. */
function hintFor(code, path) {
  switch (code) {
    case 'ENOENT':
      return `no socket at ${path}: start sidecastd (systemctl start sidecast), or point the adapter's path / $SIDECAST_SOCKET at its socket`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied on ${path}: add the app's user to the socket's group (usermod -aG sidecast <user>, then restart the app) or run the app with that group`;
    case 'ECONNREFUSED':
      return `nobody listens on ${path}: sidecastd is stopped or restarting; start it`;
    case 'ENOTSOCK':
    case 'ENOTDIR':
      return `${path} is not a Unix socket: point the adapter's path / $SIDECAST_SOCKET at sidecastd's socket`;
    default:
      return `check that sidecastd runs and listens on ${path}`;
  }
}

/** The logger option: an object with warn() (info() optional), or false for none. */
function loggerOf(l) {
  if (l === false || l === null) return { warn() {}, info() {} };
  if (!l) return { warn: (m) => console.warn(m), info: (m) => console.info(m) };
  const warn = typeof l.warn === 'function' ? l.warn.bind(l) : typeof l === 'function' ? l : () => {};
  const info = typeof l.info === 'function' ? l.info.bind(l) : warn;
  return { warn, info };
}
/** What _fetchSocketsWith's onMeta(kind, value) is told, per SocketList frame: start, its own fields, end. */
const META_START = 0;
const META_NODE = 1;
const META_ETAG = 2;
const META_UNCHANGED = 3;
const META_END = 4;

function num(v) {
  if (typeof v === 'number') return v;
  if (v == null) return 0;
  return v.low >>> 0 === v.low ? (v.high >>> 0) * 4294967296 + (v.low >>> 0) : Number(v);
}

function arr(v) {
  if (v == null) return [];
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v : Array.from(v);
}

/** Worst-case encoded size of a selector's string list (UTF-16 -> UTF-8: 3 bytes a unit). */
function keysRoom(list) {
  let n = 0;
  if (list) for (let i = 0; i < list.length; i++) n += list[i].length * 3 + 4;
  return n;
}

/*
 * Shapes. The generated encoders test every field of the message they are
 * given; fed objects of many shapes (a Frame with `emit`, one with `join`,
 * one with `id` and `ping` ...) those property loads go megamorphic, and in
 * an emit that costs more than the rest of its encoding. So every Frame is
 * encoded from one object with every Frame field (unset ones undefined,
 * which the encoders skip like absent ones), and Emits and Selectors are
 * built with all their fields. The encoders are the generated ones,
 * unchanged; what goes on the wire is the same.
 */
const FRAME_FIELDS = Object.keys(Frame.prototype);

/** An object with every Frame field, undefined (fast properties: built by fromEntries). */
function blankFrame() {
  return Object.fromEntries(FRAME_FIELDS.map((k) => [k, undefined]));
}

/** Selector with every field (unset: undefined). */
function sel(rooms, socketIds, all, exceptRooms, exceptIds, userIds) {
  return { rooms, socketIds, all, exceptRooms, exceptIds, userIds };
}

/** Emit with every field (unset: undefined). */
function emitMsg(to, payload) {
  return { to, payload, volatile: undefined, includeSelf: undefined, local: undefined, wantAck: undefined };
}

/** Plain selector object for the encoder. */
function selector(s) {
  if (!s) return sel(undefined, undefined, undefined, undefined, undefined, undefined);
  return sel(
    s.rooms ? arr(s.rooms) : undefined,
    s.socketIds ? arr(s.socketIds) : undefined,
    s.all ? true : undefined,
    s.exceptRooms ? arr(s.exceptRooms) : undefined,
    s.exceptIds ? arr(s.exceptIds) : undefined,
    s.userIds ? arr(s.userIds) : undefined,
  );
}

function bytes(v) {
  if (v == null) return undefined;
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return v;
  if (typeof v === 'string') return Buffer.from(v);
  throw new TypeError('sidecast: data and payloads must be Buffer, Uint8Array or string');
}

/** Registrations kept by the client itself (for apps not using a provider). */
class Mirror {
  constructor() {
    this.sockets = new Map(); // id -> {sessionId, userId, data, rooms:Set}
    this.rooms = new Map(); // room -> Set(id)
  }
  join(id, rooms) {
    const s = this.sockets.get(id);
    if (!s) return;
    for (const r of rooms) {
      s.rooms.add(r);
      let m = this.rooms.get(r);
      if (!m) this.rooms.set(r, (m = new Set()));
      m.add(id);
    }
  }
  leave(id, rooms) {
    const s = this.sockets.get(id);
    if (!s) return;
    for (const r of rooms.length ? rooms : Array.from(s.rooms)) {
      s.rooms.delete(r);
      const m = this.rooms.get(r);
      if (m && m.delete(id) && m.size === 0) this.rooms.delete(r);
    }
  }
  remove(id) {
    if (!this.sockets.has(id)) return;
    this.leave(id, []);
    this.sockets.delete(id);
  }
  /** ids of our sockets that `to` selects (rooms / socketIds / all, minus excepts) */
  resolve(to) {
    const out = new Set();
    if (!to) return [];
    if (to.all) for (const id of this.sockets.keys()) out.add(id);
    for (const r of to.rooms || []) for (const id of this.rooms.get(r) || []) out.add(id);
    for (const id of to.socketIds || []) if (this.sockets.has(id)) out.add(id);
    if (to.userIds && to.userIds.length) {
      const users = new Set(to.userIds);
      for (const [id, s] of this.sockets) if (s.userId && users.has(s.userId)) out.add(id);
    }
    for (const r of to.exceptRooms || []) for (const id of this.rooms.get(r) || []) out.delete(id);
    for (const id of to.exceptIds || []) out.delete(id);
    return Array.from(out);
  }
  snapshot(send) {
    for (const [id, s] of this.sockets)
      send({ socketId: id, sessionId: s.sessionId, userId: s.userId, data: s.data, rooms: Array.from(s.rooms) });
  }
}

/**
 * @typedef {object} ClientOptions
 * @property {string} [path] Unix socket of sidecastd ($SIDECAST_SOCKET or /run/sidecast/sidecast.sock)
 * @property {string} [name] name in sidecastd's logs
 * @property {number} [timeout=5000] default time limit of a call, ms
 * @property {number} [queueLimit=10000] frames kept while disconnected; more fail / are dropped
 * @property {number} [queueTimeout=timeout] a queued frame older than this is dropped at reconnect
 * @property {number} [reconnectMin=100] first reconnect delay, ms (doubles, ±25 % jitter)
 * @property {number} [reconnectMax=5000] largest reconnect delay, ms
 * @property {number} [maxOutputBytes=8388608] unsent bytes above which volatile emits are dropped
 * @property {number} [maxBufferedBytes=67108864] unsent bytes above which every emit is dropped (counted)
 * @property {boolean} [autoConnect=true] connect in the constructor
 * @property {{warn: Function, info?: Function}|false} [logger=console] where the first failure of an outage
 *   (and the recovery) is logged; false: nowhere (the 'unreachable' event still fires)
 */

class SidecastClient extends EventEmitter {
  /** @param {ClientOptions} [opts] */
  constructor(opts = {}) {
    super();
    this.path = opts.path || process.env.SIDECAST_SOCKET || DEFAULT_SOCKET;
    this.name = opts.name || `node-${process.pid}`;
    this.timeout = opts.timeout > 0 ? opts.timeout : 5000;
    this.queueLimit = opts.queueLimit >= 0 ? opts.queueLimit : 10000;
    this.queueTimeout = opts.queueTimeout > 0 ? opts.queueTimeout : this.timeout;
    this.reconnectMin = opts.reconnectMin > 0 ? opts.reconnectMin : 100;
    this.reconnectMax = opts.reconnectMax > 0 ? opts.reconnectMax : 5000;
    this.maxOutputBytes = opts.maxOutputBytes > 0 ? opts.maxOutputBytes : 8 * 1024 * 1024;
    this.maxBufferedBytes = opts.maxBufferedBytes > 0 ? opts.maxBufferedBytes : 64 * 1024 * 1024;
    /** node id / name / max frame size from the last Welcome */
    this.nodeId = '';
    this.nodeName = '';
    this.maxFrameBytes = DEFAULT_MAX_FRAME;
    /** largest emit / server emit payload sidecastd takes (its max_payload_bytes; 0: it did not say) */
    this.maxPayloadBytes = DEFAULT_MAX_PAYLOAD;
    this.logger = loggerOf(opts.logger);
    /**
     * From the last Welcome: sidecastd's Feature bits (0: it predates
     * negotiation, or not connected yet), its protocol version and the oldest
     * one it accepts (0: not said).
     */
    this.serverFeatures = 0;
    this.serverProtocolVersion = 0;
    this.minProtocolVersion = 0;
    /** counters of what the client dropped or retried */
    this.counters = { reconnects: 0, droppedDisconnected: 0, droppedVolatile: 0, droppedSlow: 0, refusedTooLarge: 0, refused: 0, queued: 0, unreadablePayload: 0, unknownNamespace: 0 };
    this.mirror = new Mirror();
    this._providers = new Set();
    this._sock = null;
    this._ready = false;
    this._closed = false;
    this._everConnected = false;
    this._delay = this.reconnectMin;
    this._retryTimer = null;
    this._nextId = 1;
    this._pending = new Map(); // id -> request
    this._queue = []; // [{frame, at, req}] while disconnected
    this._w = null; // Writer of the current batch
    this._out = blankFrame(); // what every frame is encoded from (see "Shapes")
    this._batchSize = 1024;
    this._marks = []; // [offset, length] of each frame in the batch
    this._flushScheduled = false;
    this._flush = this._flush.bind(this);
    this._chunks = [];
    this._inLen = 0;
    this._readyWaiters = [];
    this._rawLists = 0; // requests in flight that decode their SocketList frames themselves
    this._outage = null; // {since, reported, error}: not connected since (null: connected, or never tried)
    this._lastError = null;
    if (opts.autoConnect !== false) this._connect();
  }

  /** true while a handshaken connection to sidecastd is up */
  get connected() {
    return this._ready;
  }

  /**
   * Resolves once connected (immediately if already), rejects after `timeout` ms.
   * @param {number} [timeout]
   * @returns {Promise<void>}
   */
  ready(timeout = this.timeout) {
    if (this._ready) return Promise.resolve();
    if (this._closed) return Promise.reject(new DisconnectedError('client closed', 'CLOSED'));
    if (!this._sock && !this._retryTimer) this._connect();
    return new Promise((resolve, reject) => {
      const w = { resolve, reject, timer: null };
      w.timer = setTimeout(() => {
        this._readyWaiters = this._readyWaiters.filter((x) => x !== w);
        reject(this._notConnected(`not connected to sidecastd at ${this.path} within ${timeout} ms`));
      }, timeout);
      this._readyWaiters.push(w);
    });
  }

  /* ---- connection ---------------------------------------------------------- */

  _connect() {
    if (this._closed || this._sock) return;
    this._retryTimer = null;
    const sock = net.createConnection(this.path);
    this._sock = sock;
    sock.setNoDelay && sock.setNoDelay(true);
    sock.on('connect', () => {
      // the Hello goes first, straight past the queue
      const id = this._nextId++;
      const hello = {
        id,
        onFrame: (f) => {
          if (f.welcome) this._onWelcome(f.welcome);
          return true;
        },
        resolve: () => {},
        reject: (err) => {
          this.emit('warning', err);
          sock.destroy();
        },
        timer: setTimeout(() => {
          this._pending.delete(id);
          this.emit('warning', new TimeoutError(`sidecastd at ${this.path} did not answer Hello within ${this.timeout} ms`));
          sock.destroy();
        }, this.timeout),
      };
      this._pending.set(id, hello);
      this._writeFrame({ id, hello: { protocolVersion: PROTOCOL_VERSION, clientName: this.name, pid: process.pid, features: CLIENT_FEATURES } });
    });
    sock.on('data', (chunk) => this._onData(chunk));
    sock.on('error', (err) => {
      this._lastError = err;
    });
    if (!this._outage) this._outage = { since: Date.now(), reported: false, error: null };
    sock.on('close', () => this._onClose(sock));
  }

  _onWelcome(w) {
    this.nodeId = w.nodeId;
    this.nodeName = w.nodeName;
    if (w.maxFrameBytes) this.maxFrameBytes = w.maxFrameBytes;
    // 0: a sidecastd from before it said; only the frame size is then known
    this.maxPayloadBytes = w.maxPayloadBytes || 0;
    const outage = this._outage;
    this._outage = null;
    if (outage && outage.reported)
      this.logger.info(`sidecast: connected to sidecastd at ${this.path} after ${Date.now() - outage.since} ms unreachable`);
    // absent fields (a sidecastd from before negotiation) decode as 0
    this.serverFeatures = num(w.features);
    this.serverProtocolVersion = w.protocolVersion || 0;
    this.minProtocolVersion = w.minProtocolVersion || 0;
    const again = this._everConnected;
    this._everConnected = true;
    this._ready = true;
    this._delay = this.reconnectMin;
    this._lastError = null;
    // Registration first: everything this process holds, as it is now.
    const up = (m) => this._writeFrame({ socketUp: m });
    this.mirror.snapshot(up);
    for (const p of this._providers) p.snapshot(up);
    const now = Date.now();
    const queue = this._queue;
    this._queue = [];
    for (const q of queue) {
      if (now - q.at > this.queueTimeout) {
        this.counters.droppedDisconnected++;
        if (q.req) this._fail(q.req, new TimeoutError(`sidecastd was unreachable for ${now - q.at} ms`, { cause: outage && outage.error }));
        continue;
      }
      if (q.req && !this._pending.has(q.id)) continue; // timed out while queued
      if (q.req) q.req.queued = false;
      this._writeFrame(q.frame);
    }
    for (const w of this._readyWaiters.splice(0)) {
      clearTimeout(w.timer);
      w.resolve();
    }
    this.emit(again ? 'reconnect' : 'connect', { nodeId: this.nodeId, nodeName: this.nodeName });
  }

  _onClose(sock) {
    if (this._sock !== sock) return;
    const wasReady = this._ready;
    this._sock = null;
    this._ready = false;
    this._chunks = [];
    this._inLen = 0;
    this._w = null;
    this._marks = [];
    // requests in flight may or may not have been processed: fail them
    const err = this._closed
      ? new DisconnectedError('client closed', 'CLOSED')
      : new DisconnectedError(
          `connection to sidecastd at ${this.path} lost` + (this._lastError ? `: ${this._lastError.message}` : ''),
        );
    for (const [id, r] of this._pending) {
      if (r.queued) continue;
      this._pending.delete(id);
      clearTimeout(r.timer);
      r.reject(err);
    }
    if (wasReady) this.emit('disconnect', err);
    if (this._closed) return;
    if (!wasReady) this._failedAttempt(this._lastError);
    else this._outage = { since: Date.now(), reported: false, error: this._lastError };
    this.counters.reconnects += wasReady ? 1 : 0;
    const jitter = 0.75 + Math.random() * 0.5;
    const delay = Math.round(this._delay * jitter);
    this._delay = Math.min(this._delay * 2, this.reconnectMax);
    this._retryTimer = setTimeout(() => this._connect(), delay);
    this._retryTimer.unref && this._everConnected && this._retryTimer.unref();
  }

  /**
   * A connection attempt failed. The first failure of an outage is logged
   * (logger.warn) and emitted as 'unreachable' with its errno and a hint;
   * later ones only update the outage's error (what timeouts say).
   */
  _failedAttempt(err) {
    const outage = this._outage || (this._outage = { since: Date.now(), reported: false, error: null });
    if (err) outage.error = err;
    if (outage.reported) return;
    outage.reported = true;
    const e = outage.error || new Error('connection closed during the handshake');
    const code = e.code || 'EHANDSHAKE';
    const info = {
      path: this.path,
      code,
      errno: typeof e.errno === 'number' ? e.errno : null,
      syscall: e.syscall || null,
      hint: hintFor(code, this.path),
      error: e,
    };
    this.logger.warn(
      `sidecast: cannot reach sidecastd at ${this.path} (${code}): ${info.hint}. ` +
        `Retrying up to every ${this.reconnectMax} ms; emits wait (up to ${this.queueLimit}), requests fail after their timeout; local sockets are served`,
    );
    this.emit('unreachable', info);
  }

  /** A TimeoutError for a call that waited for a connection, with the outage's error as its cause. */
  _notConnected(msg) {
    const e = (this._outage && this._outage.error) || this._lastError;
    if (!e) return new TimeoutError(msg);
    const code = e.code || '';
    return new TimeoutError(`${msg}: ${e.message}${code ? ` (${hintFor(code, this.path)})` : ''}`, { cause: e });
  }

  /**
   * Close the connection (queued frames are written first) and stop
   * reconnecting. Pending calls fail with DisconnectedError('CLOSED').
   */
  close() {
    if (this._closed) return Promise.resolve();
    this._closed = true;
    clearTimeout(this._retryTimer);
    this._flush();
    const err = new DisconnectedError('client closed', 'CLOSED');
    for (const q of this._queue) if (q.req) this._fail(q.req, err);
    this._queue = [];
    for (const w of this._readyWaiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    const sock = this._sock;
    if (!sock) return Promise.resolve();
    return new Promise((resolve) => {
      sock.once('close', resolve);
      sock.end();
      setTimeout(() => sock.destroy(), this.timeout).unref();
    });
  }

  /** Register a registration provider: {snapshot(send)} called on every (re)connect. */
  addProvider(p) {
    this._providers.add(p);
  }
  removeProvider(p) {
    this._providers.delete(p);
  }

  /* ---- output -------------------------------------------------------------- */

  /** Append one frame to the current batch; the batch goes out after this loop turn's I/O callbacks. */
  _writeFrame(frame) {
    const out = this._out;
    try {
      for (const k in frame) out[k] = frame[k];
      this._encodeOut(out);
    } finally {
      for (const k in frame) out[k] = undefined;
    }
  }

  /** _writeFrame({emit: e}) without the copy: the emit hot path. */
  _writeEmit(e) {
    const out = this._out;
    out.emit = e;
    try {
      this._encodeOut(out);
    } finally {
      out.emit = undefined;
    }
  }

  _encodeOut(out) {
    let w = this._w;
    if (!w) {
      w = this._w = new FrameWriter(this._batchSize);
      if (!this._flushScheduled) {
        this._flushScheduled = true;
        setImmediate(this._flush);
      }
    }
    const start = w.len;
    w.fixed32(0); // length placeholder, patched big-endian in _flush
    try {
      Frame.encode(out, w);
    } catch (e) {
      w.truncate(start); // no half frame in the batch
      throw e;
    }
    this._marks.push(start, w.len - start - 4);
    if (w.len >= BATCH_BYTES) this._flush(); // a long synchronous burst: do not wait for the tick
  }

  _flush() {
    this._flushScheduled = false;
    const w = this._w;
    if (!w) return;
    const marks = this._marks;
    this._w = null;
    this._marks = [];
    const buf = w.finish();
    // the next batch's first size: twice this one, or most of the last guess (a high-water mark that
    // decays), so batches of a varying size seldom grow (and copy) the buffer
    this._batchSize = Math.min(Math.max(1024, 2 * buf.length, (3 * this._batchSize) >>> 2), 2 * BATCH_BYTES);
    for (let i = 0; i < marks.length; i += 2) {
      // big-endian length prefix; plain stores (writeUInt32BE checks its arguments)
      const at = marks[i];
      const n = marks[i + 1];
      buf[at] = n >>> 24;
      buf[at + 1] = (n >>> 16) & 0xff;
      buf[at + 2] = (n >>> 8) & 0xff;
      buf[at + 3] = n & 0xff;
    }
    if (this._sock) this._sock.write(buf);
  }

  /**
   * Send a fire-and-forget frame, or queue it while disconnected.
   * @returns {boolean} false if it was dropped
   */
  _send(frame, isVolatile) {
    if (this._ready) {
      const queued = this._sock.writableLength;
      if (queued > this.maxOutputBytes && (isVolatile || queued > this.maxBufferedBytes)) {
        // sidecastd does not keep up: bounded, counted, reported
        if (isVolatile) this.counters.droppedVolatile++;
        else this.counters.droppedSlow++;
        this.emit('dropped', frame);
        return false;
      }
      this._writeFrame(frame);
      return true;
    }
    if (this._closed || isVolatile || this._queue.length >= this.queueLimit) {
      this.counters.droppedDisconnected++;
      this.emit('dropped', frame);
      return false;
    }
    this.counters.queued++;
    this._queue.push({ frame, at: Date.now(), req: null });
    return true;
  }

  /**
   * Send a request and collect its reply frames. `onFrame(frame)` returns
   * true when the reply is complete; the promise resolves with `result()`.
   */
  _request(frame, onFrame, result, timeout, onEntry, onMeta) {
    return new Promise((resolve, reject) => {
      if (this._closed) return reject(new DisconnectedError('client closed', 'CLOSED'));
      const id = this._nextId++;
      frame.id = id;
      const ms = timeout > 0 ? timeout : this.timeout;
      const req = { id, onFrame, onEntry, onMeta, resolve: () => resolve(result()), reject, timer: null, queued: !this._ready };
      req.timer = setTimeout(() => {
        this._pending.delete(id);
        if (req.queued) {
          const at = this._queue.findIndex((q) => q.req === req);
          if (at >= 0) this._queue.splice(at, 1);
          return reject(this._notConnected(`not connected to sidecastd at ${this.path} for ${ms} ms`));
        }
        reject(new TimeoutError(`no answer from sidecastd within ${ms} ms`));
      }, ms);
      if (!this._ready) {
        if (this._queue.length >= this.queueLimit) {
          clearTimeout(req.timer);
          return reject(
            new DisconnectedError(`not connected to sidecastd and ${this._queue.length} calls already wait`, 'QUEUE_FULL'),
          );
        }
        this._queue.push({ frame, at: Date.now(), req, id });
        this._pending.set(id, req);
        return;
      }
      this._pending.set(id, req);
      this._writeFrame(frame);
    });
  }

  _fail(req, err) {
    this._pending.delete(req.id);
    clearTimeout(req.timer);
    req.reject(err);
  }

  /* ---- input --------------------------------------------------------------- */

  _onData(chunk) {
    if (this._inLen) {
      this._chunks.push(chunk);
      this._inLen += chunk.length;
      if (this._inLen < 4) return;
      const need = this._chunks[0].length >= 4 ? this._chunks[0].readUInt32BE(0) + 4 : 0;
      if (need && this._inLen < need) return;
      chunk = Buffer.concat(this._chunks, this._inLen);
      this._chunks = [];
      this._inLen = 0;
    }
    let off = 0;
    const n = chunk.length;
    while (n - off >= 4) {
      const len = chunk.readUInt32BE(off);
      if (len > MAX_INBOUND_FRAME) {
        this.emit('warning', new SidecastError('MALFORMED', `sidecastd sent a frame of ${len} bytes`));
        this._sock && this._sock.destroy();
        return;
      }
      if (n - off - 4 < len) break;
      if (this._rawLists && this._rawSocketList(chunk, off + 4, off + 4 + len)) {
        off += 4 + len;
        continue;
      }
      let f;
      try {
        f = Frame.decode(chunk.subarray(off + 4, off + 4 + len));
      } catch (e) {
        this.emit('warning', new SidecastError('MALFORMED', `sidecastd sent a malformed frame: ${e.message}`));
        this._sock && this._sock.destroy();
        return;
      }
      off += 4 + len;
      this._dispatch(f);
    }
    if (off < n) {
      const rest = chunk.subarray(off);
      this._chunks.push(rest);
      this._inLen = rest.length;
    }
  }

  /**
   * Fast path for the SocketList replies of _fetchSocketsWith(): when the
   * frame is exactly {id, socket_list} and its request decodes entries
   * itself, each SocketInfo goes to the request's decoder as a byte range
   * (no SocketInfo objects, no strings nobody reads). Anything else: false,
   * and the frame takes the generic path.
   */
  _rawSocketList(buf, start, end) {
    if (end - start < 4 || buf[start] !== FRAME_ID) return false;
    const r = Reader.create(buf);
    r.pos = start + 1;
    r.len = end;
    let req;
    let more = false;
    try {
      const id = num(r.uint64());
      if (r.uint32() !== FRAME_SOCKET_LIST) return false;
      const l = r.uint32();
      if (r.pos + l !== end) return false;
      req = this._pending.get(id);
      if (!req || !req.onEntry) return false;
      const meta = req.onMeta;
      if (meta) meta(META_START);
      while (r.pos < end) {
        // an entry with a one- or two-byte length (most of them) without the Reader
        const p = r.pos;
        const b1 = buf[p + 1];
        if (buf[p] === SOCKET_LIST_SOCKETS && b1 < 0x80) {
          if (p + 2 + b1 > end) throw new RangeError('index out of range');
          r.pos = p + 2 + b1;
          req.onEntry(buf, p + 2, p + 2 + b1);
          continue;
        }
        const b2 = buf[p + 2];
        if (buf[p] === SOCKET_LIST_SOCKETS && b1 >= 0x80 && b2 < 0x80) {
          const el = (b1 & 0x7f) | (b2 << 7);
          if (p + 3 + el > end) throw new RangeError('index out of range');
          r.pos = p + 3 + el;
          req.onEntry(buf, p + 3, p + 3 + el);
          continue;
        }
        const tag = r.uint32();
        if (tag === SOCKET_LIST_SOCKETS) {
          const el = r.uint32();
          const at = r.pos;
          if (at + el > end) throw new RangeError('index out of range');
          r.pos = at + el;
          req.onEntry(buf, at, at + el);
        } else if (tag === SOCKET_LIST_MORE) more = r.bool();
        else if (meta && tag === SOCKET_LIST_NODE_ID) meta(META_NODE, r.string());
        else if (meta && tag === SOCKET_LIST_ETAG) meta(META_ETAG, r.string());
        else if (meta && tag === SOCKET_LIST_UNCHANGED) meta(META_UNCHANGED, r.bool());
        else r.skipType(tag & 7);
      }
      if (meta) meta(META_END);
    } catch (e) {
      if (!req) return false; // not ours: the generic decoder reports it
      this._fail(req, new SidecastError('MALFORMED', `sidecastd sent a malformed SocketList: ${e.message}`));
      return true;
    }
    if (!more) {
      this._pending.delete(req.id);
      clearTimeout(req.timer);
      req.resolve();
    }
    return true;
  }

  _dispatch(f) {
    if (f.deliver) return this._onDeliver(f.deliver);
    const id = num(f.id);
    if (id) {
      const req = this._pending.get(id);
      if (!req) return; // answered after its timeout
      if (f.error) return this._fail(req, fromFrame(f.error));
      let done;
      try {
        done = req.onFrame(f);
      } catch (e) {
        return this._fail(req, e);
      }
      if (done) {
        this._pending.delete(id);
        clearTimeout(req.timer);
        req.resolve();
      }
      return;
    }
    if (f.serverMessage) {
      const m = f.serverMessage;
      const msg = { payload: m.payload, ackId: num(m.ackId), originNode: m.originNode };
      if (this.onServerMessage) return this.onServerMessage(msg);
      if (this.listenerCount('serverMessage')) return this.emit('serverMessage', msg);
      if (msg.ackId) this.ack(msg.ackId, { done: true }); // nobody answers: say so
      return;
    }
    if (f.apply) return this._onApply(f.apply);
    if (f.error) return this._onAsyncError(f.error);
    if (f.gap) {
      const g = { from: num(f.gap.fromUnixMs), to: num(f.gap.toUnixMs), reason: f.gap.reason };
      if (this.onGap) this.onGap(g);
      this.emit('gap', g);
    }
  }

  _onDeliver(d) {
    const ackId = num(d.ackId);
    if (this.onDeliver && this.onDeliver(d, ackId) !== false) return;
    if (this.listenerCount('deliver')) {
      this.emit('deliver', { to: d.to, payload: d.payload, volatile: d.volatile, ackId, socketIds: this.mirror.resolve(d.to) });
    } else if (ackId) {
      this.ack(ackId, { done: true });
    }
  }

  _onApply(a) {
    if (this.onApply && this.onApply(a) !== false) return;
    // built-in mirror: apply to our registrations and report back, like the C client
    const ids = this.mirror.resolve(a.filter);
    for (const id of ids) {
      if (a.join.length) this.join(id, a.join);
      if (a.leave.length) this.leave(id, a.leave);
      this.emit('apply', { socketId: id, join: a.join, leave: a.leave, disconnect: a.disconnect, close: a.close });
      if (a.disconnect && this.mirror.sockets.has(id)) this.socketDown(id);
    }
  }

  _onAsyncError(e) {
    const err = fromFrame(e);
    this.counters.refused++;
    // a refused socket up must not be re-registered after a reconnect
    if (err.code === 'DUPLICATE' && err.ref) this.mirror.remove(err.ref);
    if (this.onRefused) this.onRefused(err);
    this.emit('refused', err);
  }

  /* ---- registration (fire-and-forget; kept in the mirror) ------------------ */

  /**
   * Register a socket (mirrored: re-registered after a reconnect).
   * @param {string} socketId
   * @param {{sessionId?: string, userId?: string, data?: Buffer|string, rooms?: string[]}} [info]
   */
  socketUp(socketId, info = {}) {
    if (this.mirror.sockets.has(socketId)) throw new SidecastError('DUPLICATE', `socket ${socketId} is already registered`);
    const data = bytes(info.data);
    this.mirror.sockets.set(socketId, { sessionId: info.sessionId || '', userId: info.userId || '', data, rooms: new Set() });
    this.mirror.join(socketId, arr(info.rooms));
    this.sendSocketUp({ socketId, sessionId: info.sessionId, userId: info.userId, data, rooms: arr(info.rooms) });
  }
  socketDown(socketId) {
    this.mirror.remove(socketId);
    this.sendSocketDown(socketId);
  }
  join(socketId, rooms) {
    rooms = arr(rooms);
    this.mirror.join(socketId, rooms);
    this.sendJoin(socketId, rooms);
  }
  /** @param {string[]} [rooms] none: leave every room */
  leave(socketId, rooms) {
    rooms = arr(rooms);
    this.mirror.leave(socketId, rooms);
    this.sendLeave(socketId, rooms);
  }
  setData(socketId, data) {
    const s = this.mirror.sockets.get(socketId);
    if (s) s.data = bytes(data);
    this.sendSetData(socketId, data);
  }

  // Unmirrored senders, for providers that keep their own state. While
  // disconnected they send nothing: the provider's snapshot covers it.
  sendSocketUp(m) {
    if (this._ready) this._writeFrame({ socketUp: m });
  }
  sendSocketDown(socketId) {
    if (this._ready) this._writeFrame({ socketDown: { socketId } });
  }
  sendJoin(socketId, rooms) {
    if (this._ready && rooms.length) this._writeFrame({ join: { socketId, rooms } });
  }
  sendLeave(socketId, rooms) {
    if (this._ready) this._writeFrame({ leave: { socketId, rooms } });
  }
  sendSetData(socketId, data) {
    if (this._ready) this._writeFrame({ setData: { socketId, data: bytes(data) } });
  }

  /** ids of this client's mirrored sockets that a selector picks */
  resolve(to) {
    return this.mirror.resolve(selector(to));
  }

  /* ---- emits ---------------------------------------------------------------- */

  /**
   * Send `payload` to the sockets `to` selects (fire-and-forget). While
   * disconnected it waits in the queue (volatile emits are dropped).
   * @param {{rooms?, socketIds?, all?, exceptRooms?, exceptIds?, userIds?}} to
   * @param {Buffer|Uint8Array|string} payload
   * @param {{volatile?: boolean, includeSelf?: boolean, local?: boolean}} [flags]
   * @returns {boolean} false if dropped
   */
  broadcast(to, payload, flags) {
    return this.broadcastRaw(selector(to), bytes(payload), flags);
  }

  /** broadcast() without argument normalisation: `to` must already be a plain selector. */
  broadcastRaw(to, payload, flags) {
    const tooLarge = this.payloadError(to, payload);
    if (tooLarge !== null) {
      this.counters.refusedTooLarge++;
      this.emit('dropped', { emit: { to, payload } }, tooLarge);
      return false;
    }
    const e = emitMsg(to, payload);
    let v = false;
    if (flags) {
      if (flags.volatile) e.volatile = v = true;
      if (flags.includeSelf) e.includeSelf = true;
      if (flags.local) e.local = true;
    }
    // the common case straight to the batch; limits, queueing, drops in _send
    if (this._ready && this._sock.writableLength <= this.maxOutputBytes) {
      this._writeEmit(e);
      return true;
    }
    return this._send({ emit: e }, v);
  }

  /**
   * Broadcast and collect acks: `onProgress({expect, payloads, done, timedOut,
   * nodesExpected, nodesAnswered})` is called for every Progress frame.
   * Resolves with the last Progress.
   */
  broadcastWithAck(to, payload, flags = {}, onProgress, timeout) {
    const e = emitMsg(selector(to), bytes(payload));
    e.wantAck = true;
    if (flags.volatile) e.volatile = true;
    if (flags.includeSelf) e.includeSelf = true;
    if (flags.local) e.local = true;
    return this._progressRequest({ emit: e }, onProgress, timeout);
  }

  /** Largest payload that fits in one frame with this selector (sidecastd's max_frame_bytes). */
  _payloadRoom(to) {
    let n = 256;
    if (to)
      n +=
        keysRoom(to.rooms) + keysRoom(to.socketIds) + keysRoom(to.exceptRooms) + keysRoom(to.exceptIds) + keysRoom(to.userIds);
    return this.maxFrameBytes - n;
  }

  /**
   * Would sidecastd refuse this payload with this selector (over its
   * max_payload_bytes, or a frame over its max_frame_bytes)? The error
   * (code TOO_LARGE, with `size` and `limit`) if so, else null. Counts
   * nothing: callers that refuse count it (counters.refusedTooLarge).
   * @param {object|null} to a selector
   * @param {Uint8Array} payload
   */
  payloadError(to, payload) {
    const n = payload ? payload.length : 0;
    const max = this.maxPayloadBytes;
    if (max > 0 && n > max) return this._tooLarge(n, max, `sidecastd's max_payload_bytes ${max}`);
    const room = this._payloadRoom(to);
    if (n > room) return this._tooLarge(n, room, `a frame of sidecastd's max_frame_bytes ${this.maxFrameBytes}`);
    return null;
  }

  _tooLarge(n, limit, what) {
    const e = new SidecastError('TOO_LARGE', `payload of ${n} bytes is over ${what}: sent to nobody`);
    e.size = n;
    e.limit = limit;
    return e;
  }

  /** Write what is queued in this turn's batch now (not at the end of the turn). */
  flush() {
    if (this._w !== null && this._ready) this._flush();
  }

  _progressRequest(frame, onProgress, timeout) {
    const m = frame.emit || frame.serverEmit;
    const tooLarge = this.payloadError(m.to || null, m.payload);
    if (tooLarge !== null) {
      this.counters.refusedTooLarge++;
      return Promise.reject(tooLarge);
    }
    let last = null;
    return this._request(
      frame,
      (f) => {
        if (f.ok) return true;
        if (!f.progress) return false;
        const p = f.progress;
        last = {
          expect: p.expect,
          payloads: p.payloads,
          done: p.done,
          timedOut: p.timedOut,
          nodesExpected: p.nodesExpected,
          nodesAnswered: p.nodesAnswered,
          nodesMissing: p.nodesMissing || [],
        };
        if (onProgress) onProgress(last);
        return p.done;
      },
      () => last,
      timeout > 0 ? timeout : this.timeout + CLUSTER_MARGIN_MS,
    );
  }

  /**
   * serverSideEmit: `payload` to every other app connection of the cluster.
   * Without onProgress it is fire-and-forget (returns a resolved promise);
   * with it, answers arrive as Progress (see broadcastWithAck).
   */
  serverEmit(payload, { local = false, onProgress, wantAck = !!onProgress, timeout } = {}) {
    const m = { payload: bytes(payload) };
    if (local) m.local = true;
    if (!wantAck) {
      const tooLarge = this.payloadError(null, m.payload);
      if (tooLarge !== null) {
        this.counters.refusedTooLarge++;
        return Promise.reject(tooLarge);
      }
      this._send({ serverEmit: m }, false);
      return Promise.resolve(null);
    }
    m.wantAck = true;
    return this._progressRequest({ serverEmit: m }, onProgress, timeout);
  }

  /** Answer a Deliver / ServerMessage that carried an ack id. */
  ack(ackId, { expect = 0, payloads = [], done = false } = {}) {
    const a = { ackId, payloads: payloads.map(bytes) };
    if (expect) a.expect = expect;
    if (done) a.done = true;
    this._send({ ack: a }, false);
  }

  /* ---- requests -------------------------------------------------------------- */

  /** Barrier: resolves when sidecastd processed everything sent before. */
  ping(timeout) {
    return this._request({ ping: { nonce: Date.now() } }, (f) => !!f.pong || !!f.ok, () => undefined, timeout);
  }

  /**
   * @param {{rooms?, socketIds?, all?, exceptRooms?, exceptIds?, userIds?}} [filter] empty: every socket
   * @param {{withData?: boolean, withRooms?: boolean, local?: boolean, excludeSelf?: boolean, timeout?: number}} [opts]
   *   excludeSelf: leave out the sockets this client registered
   * @returns {Promise<Array<{socketId, sessionId, userId, data, rooms, nodeId}>>}
   */
  fetchSockets(filter, opts = {}) {
    const out = [];
    const q = { filter: selector(filter) };
    if (opts.withData) q.withData = true;
    if (opts.withRooms) q.withRooms = true;
    if (opts.local) q.local = true;
    if (opts.excludeSelf) q.excludeSelf = true;
    return this._request(
      { fetchSockets: q },
      (f) => {
        if (!f.socketList) return false;
        for (const s of f.socketList.sockets) out.push(s);
        return !f.socketList.more;
      },
      () => out,
      opts.timeout > 0 ? opts.timeout : this.timeout + CLUSTER_MARGIN_MS,
    );
  }

  /**
   * fetchSockets() for the socket.io adapter: `onEntry(buf, start, end)` gets
   * each SocketInfo's encoded bytes instead of a decoded object (the buffer is
   * never reused, so slices of it may be kept). Resolves when the last
   * SocketList arrived. With `onMeta(kind, value)`, answers are cached
   * (FetchSockets.cache_answers, opts.known: [{nodeId, etag}]): for each
   * SocketList frame it gets META_START, the list's node, etag and
   * unchanged (META_NODE, ...), then the frame's entries go to onEntry, then
   * META_END.
   */
  _fetchSocketsWith(filter, opts, onEntry, onMeta) {
    const q = { filter: selector(filter) };
    if (opts.withData) q.withData = true;
    if (opts.withRooms) q.withRooms = true;
    if (opts.local) q.local = true;
    if (opts.excludeSelf) q.excludeSelf = true;
    if (onMeta) {
      q.cacheAnswers = true;
      q.known = opts.known || [];
    }
    const p = this._request(
      { fetchSockets: q },
      (f) => {
        // a frame the fast path did not take (another field order): same result
        const l = f.socketList;
        if (!l) return false;
        if (onMeta) {
          onMeta(META_START);
          if (l.nodeId) onMeta(META_NODE, l.nodeId);
          if (l.etag) onMeta(META_ETAG, l.etag);
          if (l.unchanged) onMeta(META_UNCHANGED, true);
        }
        for (const s of l.sockets) {
          const b = SocketInfo.encode(s).finish();
          onEntry(b, 0, b.length);
        }
        if (onMeta) onMeta(META_END);
        return !l.more;
      },
      () => undefined,
      opts.timeout > 0 ? opts.timeout : this.timeout + CLUSTER_MARGIN_MS,
      onEntry,
      onMeta,
    );
    this._rawLists++;
    const done = () => this._rawLists--;
    p.then(done, done);
    return p;
  }

  /** @param {string[]} [names] none: every room @returns {Promise<Array<{name, size}>>} */
  rooms(names, timeout) {
    const out = [];
    return this._request(
      { rooms: { names: arr(names) } },
      (f) => {
        if (!f.roomList) return false;
        for (const r of f.roomList.rooms) out.push({ name: r.name, size: num(r.size) });
        return !f.roomList.more;
      },
      () => out,
      timeout,
    );
  }

  /** @returns {Promise<Object<string, number>>} counters and gauges */
  stats(timeout) {
    let out = {};
    return this._request(
      { stats: {} },
      (f) => {
        if (!f.statsReply) return false;
        for (const s of f.statsReply.stats) out[s.name] = num(s.value);
        return true;
      },
      () => out,
      timeout,
    );
  }

  /**
   * Whether every bit of `features` (Feature) is usable on the current
   * connection: both sidecastd and this client have it.
   * @param {number} features
   */
  hasFeatures(features) {
    // bit operations are 32-bit: every Feature value so far fits
    return (this.serverFeatures & CLIENT_FEATURES & features) === features;
  }

  /**
   * Live nodes. `version` is the node's cluster protocol version (0: from
   * before versioning), `features` its cluster feature bits (ClusterFeature
   * of proto/cluster.proto); both null when sidecastd predates version
   * reporting (Feature.NODE_VERSIONS).
   * @returns {Promise<Array<{nodeId, nodeName, self, version, features}>>}
   */
  nodes(timeout) {
    let out = [];
    return this._request(
      { nodes: {} },
      (f) => {
        if (!f.nodeList) return false;
        // without the feature on both sides the fields mean nothing, whatever they hold
        const versioned = this.hasFeatures(Feature.NODE_VERSIONS);
        out = f.nodeList.nodes.map((n) => ({
          nodeId: n.nodeId,
          nodeName: n.nodeName,
          self: !!n.self,
          version: versioned ? n.version || 0 : null,
          features: versioned ? num(n.features) : null,
        }));
        return true;
      },
      () => out,
      timeout,
    );
  }

  /**
   * socketsJoin / socketsLeave / disconnectSockets on every node (or `local`).
   * @param {{filter?, join?: string[], leave?: string[], disconnect?: boolean, close?: boolean, local?: boolean}} a
   */
  apply(a, timeout) {
    const m = { filter: selector(a.filter || { all: true }) };
    if (a.join) m.join = arr(a.join);
    if (a.leave) m.leave = arr(a.leave);
    if (a.disconnect) m.disconnect = true;
    if (a.close) m.close = true;
    if (a.local) m.local = true;
    return this._request({ apply: m }, (f) => !!f.ok, () => undefined, timeout > 0 ? timeout : this.timeout + CLUSTER_MARGIN_MS);
  }

  /**
   * Where is a session / socket / user?
   * @param {{sessionId?: string, socketId?: string, userId?: string}} key
   * @param {{local?: boolean, timeout?: number}} [opts]
   * @returns {Promise<{sockets: Array<{socketId, sessionId, userId, nodeId, nodeName, address, local}>, nodes: number}>}
   */
  lookup(key, opts = {}) {
    const q = {};
    if (key.sessionId != null) q.sessionId = key.sessionId;
    else if (key.socketId != null) q.socketId = key.socketId;
    else if (key.userId != null) q.userId = key.userId;
    else throw new TypeError('lookup needs sessionId, socketId or userId');
    if (opts.local) q.local = true;
    let out = null;
    return this._request(
      { lookup: q },
      (f) => {
        if (!f.lookupResult) return false;
        out = {
          sockets: f.lookupResult.sockets.map((l) => ({
            socketId: l.socketId,
            sessionId: l.sessionId,
            userId: l.userId,
            nodeId: l.nodeId,
            nodeName: l.nodeName,
            address: l.address,
            local: !!l.local,
          })),
          nodes: f.lookupResult.nodes,
        };
        return true;
      },
      () => out,
      opts.timeout,
    );
  }

  /** @returns {Promise<{online: boolean, sockets: number, nodes: number}>} */
  async presence(userId, opts) {
    const r = await this.lookup({ userId }, opts);
    return { online: r.sockets.length > 0, sockets: r.sockets.length, nodes: r.nodes };
  }

  /** @returns {Promise<{found: boolean, connected: boolean, entries: Object<string, Buffer>}>} */
  sessionGet(sessionId, timeout) {
    let out = null;
    return this._request(
      { sessionGet: { sessionId } },
      (f) => {
        if (!f.sessionData) return false;
        const entries = {};
        for (const e of f.sessionData.entries) entries[e.key] = e.value;
        out = { found: !!f.sessionData.found, connected: !!f.sessionData.connected, entries };
        return true;
      },
      () => out,
      timeout,
    );
  }

  /**
   * @param {string} sessionId
   * @param {Object<string, Buffer|string>} [set]
   * @param {string[]} [del] deleted first
   */
  sessionSet(sessionId, set = {}, del = [], timeout) {
    const entries = Object.entries(set).map(([key, value]) => ({ key, value: bytes(value) }));
    return this._request(
      { sessionSet: { sessionId, set: entries, delete: arr(del) } },
      (f) => !!f.ok,
      () => undefined,
      timeout,
    );
  }
}

module.exports = { SidecastClient, META_START, META_NODE, META_ETAG, META_UNCHANGED, META_END, PROTOCOL_VERSION, Feature, CLIENT_FEATURES, CLUSTER_MARGIN_MS, num, sel, hintFor };
