'use strict';
/**
 * Every use the adapter makes of socket.io, engine.io and ws internals, in
 * one place. Each is probed (once per socket.io copy, namespace or socket
 * class) and has a fallback on socket.io's public path, so the adapter runs
 * on any socket.io 4.x whose in-memory adapter it extends (4.6, 4.7, 4.8),
 * only faster where the internals are there:
 *
 *   internal                         used for                       fallback
 *   socket.client.writeToEngine()    write a pre-encoded packet     the in-memory Adapter's broadcast()
 *   socket.notifyOutgoingListeners() onAnyOutgoing on our writes    (the fallback above calls it itself)
 *   socket.acks, nsp._ids            broadcast with acks            the in-memory Adapter's broadcastWithAck()
 *   nsp._onServerSideEmit()          serverSideEmit arrivals        emitUntyped() / EventEmitter#emit
 *   server._parser                   decode a packet from another   socket.io-parser of the app's socket.io
 *                                    node for onAnyOutgoing / acks
 *   ws.Sender.frame (engine.io's ws) the WebSocket frame, once      none: engine.io frames each write
 *   conn.transport.socket._socket    cork a client's TCP stream     none: no write coalescing
 *   a 'data' accessor on the Socket  see a socket.data assignment   an accessor on each socket
 *   class's prototype                or read (in-place changes)     (slower property access)
 *   a 'handshake' accessor on        parse a remote socket's        every handshake parsed
 *   RemoteSocket's prototype         handshake when first read      in each fetchSockets()
 *   (socket.io/dist/broadcast-operator.js)
 *
 * socket.io, socket.io-adapter and socket.io-parser are the app's: found
 * from the app's own socket.io Server (the module whose `Server` is its
 * class), so one copy of each runs, whatever node_modules layout (a
 * symlinked `npm install ../sidecast` included) put a second one near us.
 */

const fs = require('fs');
const path = require('path');
const util = require('util');

function resolveFrom(name, file) {
  try {
    return require.resolve(name, { paths: [path.dirname(file)] });
  } catch (_) {
    return null;
  }
}

/** The file of the socket.io whose Server class `server` is an instance of, or null. */
function socketIoFileOf(server) {
  const ctor = server && server.constructor;
  if (typeof ctor !== 'function') return null;
  for (const file of Object.keys(require.cache)) {
    const m = require.cache[file];
    const e = m && m.exports;
    if (e && (e.Server === ctor || e === ctor) && file.includes(`${path.sep}socket.io${path.sep}`)) return file;
  }
  return null;
}

/** socket.io's entry file: the app's (require.main's, then the working directory's), else ours. */
function defaultSocketIoFile() {
  const from = [];
  if (require.main && require.main.filename) from.push(require.main.filename);
  from.push(path.join(process.cwd(), 'index.js'), __filename);
  for (const f of from) {
    const r = resolveFrom('socket.io', f);
    if (r) return r;
  }
  return require.resolve('socket.io'); // throws the usual "Cannot find module"
}

const peerCache = new Map(); // socket.io file -> peers

/**
 * The app's socket.io-adapter and socket.io-parser, and whether its ws
 * frames messages for engine.io's wsPreEncodedFrame.
 * @param {object} [server] the io Server; none: the default socket.io
 * @returns {{file: string, Adapter: Function, parser: object, wsFrames: boolean, lazyHandshake: boolean}}
 */
function peersOf(server) {
  const file = socketIoFileOf(server) || defaultSocketIoFile();
  let p = peerCache.get(file);
  if (p) return p;
  const adapterFile = resolveFrom('socket.io-adapter', file) || require.resolve('socket.io-adapter');
  const parserFile = resolveFrom('socket.io-parser', file) || require.resolve('socket.io-parser');
  let wsFrames = false;
  try {
    const eio = resolveFrom('engine.io', file);
    const ws = require(resolveFrom('ws', eio || file) || 'ws');
    wsFrames = !!(ws && ws.Sender && typeof ws.Sender.frame === 'function');
  } catch (_) {
    wsFrames = false;
  }
  p = { file, Adapter: require(adapterFile).Adapter, parser: require(parserFile), wsFrames, lazyHandshake: hookRemoteSocket(file) };
  peerCache.set(file, p);
  return p;
}

/**
 * What a namespace offers (probed when its adapter is made, and again at
 * its first socket, see probeSocket).
 */
function probeNamespace(nsp) {
  const server = nsp.server || {};
  return {
    /** nsp._ids: the packet id counter socket.io's acks use */
    ids: typeof nsp._ids === 'number',
    /** server._parser: the parser socket.io encodes with (custom parsers included) */
    parser: server._parser && typeof server._parser.Decoder === 'function' ? server._parser : null,
    /** per-socket fast paths, known at the first socket */
    write: null,
    notify: false,
    acks: false,
  };
}

/** Fill in the per-socket probes of `caps` from one socket (its class is every socket's). */
function probeSocket(caps, socket) {
  if (caps.write !== null) return;
  const client = socket.client;
  caps.write = !!(client && typeof client.writeToEngine === 'function');
  caps.notify = typeof socket.notifyOutgoingListeners === 'function';
  caps.acks = socket.acks instanceof Map;
}

/** Write socket.io-parser's encoded packet to one socket (caps.write must be true). */
function writeEncoded(socket, encoded, packetOpts, packet, notify) {
  if (notify && packet !== null) socket.notifyOutgoingListeners(packet);
  socket.client.writeToEngine(encoded, packetOpts);
}

/** Has this socket onAnyOutgoing listeners (then a packet from another node is decoded for them)? */
function hasOutgoingListeners(socket) {
  const l = socket._anyOutgoingListeners;
  return !!(l && l.length);
}

/** A serverSideEmit from another server, to this namespace's serverSideEmit listeners. */
function serverSideEmitArrived(nsp, args) {
  if (typeof nsp._onServerSideEmit === 'function') return nsp._onServerSideEmit(args);
  if (typeof nsp.emitUntyped === 'function') return nsp.emitUntyped(...args);
  return require('events').EventEmitter.prototype.emit.apply(nsp, args);
}

/** engine.io's WebSocket over a TCP stream that can be corked (coalesce.js), or null. */
function rawStreamOf(conn) {
  const t = conn && conn.transport;
  if (!t || t.writable) return null;
  const ws = t.socket;
  const raw = ws && ws._socket;
  if (!raw || raw.destroyed || typeof raw.cork !== 'function') return null;
  return raw;
}

/* ---- socket.data ------------------------------------------------------------------ */

/*
 * socket.data becomes an accessor (own, enumerable, as the property was):
 * its setter and its getter tell the socket's adapter (hooks[TOUCH]), so an
 * assignment and an in-place change (`socket.data.score = 7` reads
 * socket.data first) are both seen; the value lives in a non-enumerable
 * symbol property. Turning the socket's existing data property into an
 * accessor would put the socket object in V8's dictionary mode: every
 * property access on it, socket.io's and ours, then takes a slow lookup. So
 * once the first socket of a socket.io Socket class is seen, that class's
 * prototype gets a 'data' setter that socket.io's constructor
 * (`this.data = {}`) runs into: it adds the accessor as a new property
 * (sockets of a namespace with another adapter get a plain data property),
 * in the same place, so sockets keep fast properties and share their shape.
 * Where the prototype cannot take it (a non-configurable property), each
 * socket gets its accessor after construction: same behaviour, slower.
 */
const DATA = Symbol('sidecast.data');
/** adapter[TOUCH](socket): socket.data was read or assigned */
const TOUCH = Symbol('sidecast.touch');
/** adapter[SENDING](socket): a packet is about to be written to this socket's client (Socket#packet) */
const SENDING = Symbol('sidecast.sending');
const protosWithData = new WeakSet();

function dataGet() {
  const a = this.nsp && this.nsp.adapter;
  if (a && a[TOUCH]) a[TOUCH](this);
  return this[DATA];
}

function dataSet(v) {
  this[DATA] = v;
  const a = this.nsp && this.nsp.adapter;
  if (a && a[TOUCH]) a[TOUCH](this);
}

const DATA_ACCESSOR = { configurable: true, enumerable: true, get: dataGet, set: dataSet };

function addDataAccessor(socket, value) {
  Object.defineProperty(socket, DATA, { value, writable: true, enumerable: false, configurable: true });
  Object.defineProperty(socket, 'data', DATA_ACCESSOR);
}

/** The prototype setter: runs once per socket, for the constructor's first assignment. */
function protoDataSet(v) {
  const a = this.nsp && this.nsp.adapter;
  if (a && a[TOUCH]) addDataAccessor(this, v);
  else Object.defineProperty(this, 'data', { value: v, writable: true, enumerable: true, configurable: true });
}

function protoDataGet() {
  return this[DATA];
}

/** Make socket.data of this socket (and of later ones of its class) tell its adapter. */
function watchData(socket) {
  const own = Object.getOwnPropertyDescriptor(socket, 'data');
  if (!own || own.set !== dataSet) addDataAccessor(socket, socket.data); // made before the prototype had the setter
  const proto = Object.getPrototypeOf(socket);
  if (proto && proto !== Object.prototype && !protosWithData.has(proto)) {
    protosWithData.add(proto);
    const d = Object.getOwnPropertyDescriptor(proto, 'data');
    if (!d || d.configurable)
      Object.defineProperty(proto, 'data', { configurable: true, enumerable: false, get: protoDataGet, set: protoDataSet });
    watchPackets(proto);
  }
}

/**
 * Socket#packet (every emit and ack to one socket's client) tells the
 * socket's adapter first: a change to socket.data made after an await (the
 * read was in an earlier turn) is then sent before the app answers its
 * client. Absent (another socket.io): the adapter's 100 ms re-check alone.
 */
function watchPackets(proto) {
  const orig = proto.packet;
  if (typeof orig !== 'function' || orig[SENDING]) return;
  const packet = function packet(p, opts) {
    const a = this.nsp && this.nsp.adapter;
    if (a && a[SENDING]) a[SENDING](this);
    return orig.call(this, p, opts);
  };
  packet[SENDING] = true;
  Object.defineProperty(proto, 'packet', { value: packet, writable: true, configurable: true, enumerable: false });
}

/** socket.data without telling anybody (the adapter's own reads). */
function dataOf(socket) {
  return DATA in socket ? socket[DATA] : socket.data;
}

/* ---- RemoteSocket#handshake ------------------------------------------------------ */

/*
 * A remote socket's handshake (0.3-1 KiB of JSON with a browser's headers)
 * is most often never read: an app that fetches sockets reads their ids,
 * rooms or data. Parsing every handshake of every fetchSockets() answer
 * cost more than the rest of the call. So the adapter hands socket.io each
 * remote socket's handshake as a LazyHandshake (its JSON bytes, in the
 * answer's frame), and RemoteSocket's prototype gets a 'handshake' accessor
 * that socket.io's constructor (`this.handshake = details.handshake`) runs
 * into: the LazyHandshake is kept in a symbol property, parsed at the first
 * read of remoteSocket.handshake, which then becomes a plain own property
 * holding the parsed value (writable, enumerable, as before). Any other
 * value (another adapter's RemoteSockets) becomes the own property at once,
 * as without the accessor. Without the class (another socket.io layout) the
 * adapter parses every handshake in the call, as before.
 */
const HANDSHAKE = Symbol('sidecast.handshake');

class LazyHandshake {
  /** @param {Uint8Array} bytes the frame @param {number} start @param {number} end its JSON */
  constructor(bytes, start, end) {
    this.bytes = bytes;
    this.start = start;
    this.end = end;
  }

  /** A new parsed object at each call (`null` or no handshake: {}, as the eager decoding gives). */
  value() {
    const b = this.bytes;
    return JSON.parse(Buffer.from(b.buffer, b.byteOffset + this.start, this.end - this.start).toString('utf8')) || {};
  }

  toJSON() {
    return this.value();
  }

  [util.inspect.custom](depth, opts, inspect) {
    return inspect(this.value(), opts);
  }
}

function ownHandshake(rs, v) {
  Object.defineProperty(rs, 'handshake', { value: v, writable: true, enumerable: true, configurable: true });
}

function remoteHandshakeSet(v) {
  if (v instanceof LazyHandshake) this[HANDSHAKE] = v;
  else ownHandshake(this, v);
}

function remoteHandshakeGet() {
  const lazy = this[HANDSHAKE];
  if (!(lazy instanceof LazyHandshake)) return undefined;
  const v = lazy.value();
  this[HANDSHAKE] = undefined; // the frame is not kept for it any longer
  ownHandshake(this, v);
  return v;
}

const hookedRemote = new WeakSet();

/** Give RemoteSocket of the socket.io at `file` (its dist/index.js) the 'handshake' accessor; false if it cannot. */
function hookRemoteSocket(file) {
  try {
    const bo = path.join(path.dirname(file), 'broadcast-operator.js');
    if (!fs.existsSync(bo)) return false;
    const RS = require(bo).RemoteSocket;
    if (typeof RS !== 'function' || !RS.prototype) return false;
    if (hookedRemote.has(RS)) return true;
    const d = Object.getOwnPropertyDescriptor(RS.prototype, 'handshake');
    if (d && !d.configurable) return false;
    Object.defineProperty(RS.prototype, 'handshake', {
      configurable: true,
      enumerable: false,
      get: remoteHandshakeGet,
      set: remoteHandshakeSet,
    });
    hookedRemote.add(RS);
    return true;
  } catch (_) {
    return false;
  }
}

module.exports = {
  peersOf,
  LazyHandshake,
  probeNamespace,
  probeSocket,
  writeEncoded,
  hasOutgoingListeners,
  serverSideEmitArrived,
  rawStreamOf,
  watchData,
  dataOf,
  TOUCH,
  SENDING,
};
