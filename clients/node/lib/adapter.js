'use strict';
/**
 * socket.io 4 cluster adapter on sidecastd: `io.adapter(createAdapter())`.
 *
 * Every namespace gets a SidecastAdapter (the in-memory Adapter's rooms/sids
 * maps stay the local truth); all namespaces of one createAdapter() share one
 * SidecastClient through a Hub, which routes what sidecastd sends to the
 * right namespace.
 *
 * Names in sidecastd's registry: room R of namespace N is "N,R"; every
 * socket is also a member of "N" (no comma), the namespace's "everyone"
 * room. A namespace name received from a client never contains ','
 * (socket.io-parser ends the namespace at the first comma), so keys of two
 * namespaces never collide. Socket ids are registered as they are (socket.io
 * makes them unique), with the engine.io id (socket.conn.id) as session id.
 *
 * Payloads (opaque to sidecastd), byte 0 = kind:
 *   1 broadcast:  [1][flags][u32 timeout ms, if FLAG_ACK] then either the one
 *                 encoded string packet (utf8, rest of the payload) or, with
 *                 FLAG_PARTS, [u8 n] n x ([u8 0=string/1=binary][u32 len][bytes])
 *   2 server-side emit: [2][u16 nsp len][nsp][codec value: the args]
 *   3 server count probe: [3]
 *   4 "namespace absent" answer to a server-side emit: [4]
 */

// The socket.io-adapter / socket.io-parser that the app's socket.io uses.
function resolvePeer(name, from) {
  try {
    return require.resolve(name, { paths: [from] });
  } catch (_) {
    return require.resolve(name);
  }
}
const SOCKET_IO = require.resolve('socket.io');
function peer(name) {
  return require(resolvePeer(name, SOCKET_IO));
}
const { Adapter } = peer('socket.io-adapter');
const { Decoder } = peer('socket.io-parser');
const { Reader } = require('protobufjs/minimal');
const { SidecastClient, sel } = require('./client');
const codec = require('./codec');
const coalesce = require('./coalesce');
const { TimeoutError } = require('./errors');

const KIND_BROADCAST = 1;
const KIND_SERVER_EMIT = 2;
const KIND_PROBE = 3;
const KIND_ABSENT = 4;
const FLAG_COMPRESS = 1;
const FLAG_VOLATILE = 2;
const FLAG_ACK = 4;
const FLAG_PARTS = 8;
const ABSENT = Buffer.from([KIND_ABSENT]);
const PROBE = Buffer.from([KIND_PROBE]);
const NO_ONE = { rooms: [], socketIds: [], exceptRooms: [], exceptIds: [] };
const NO_EXCEPT = new Set(); // shared, never added to

// The same pre-encoded WebSocket frame the in-memory adapter builds, so a
// delivery to N websocket clients frames the message once, not N times. It
// is one Buffer (header and data), not ws.Sender.frame()'s [header, data]:
// ws's sendFrame() then writes it with one socket.write(), where a list of
// two costs a cork, two writes, an uncork and a writev. The bytes on the
// wire are the same. Only when the app's ws has the frame API engine.io uses.
let wsFrames = false;
try {
  const ws = require(resolvePeer('ws', resolvePeer('socket.io-adapter', SOCKET_IO)));
  wsFrames = !!(ws && ws.Sender && typeof ws.Sender.frame === 'function');
} catch (_) {
  wsFrames = false;
}
const { isUtf8 } = require('buffer');

/** Room for a text frame header (unmasked, FIN) and `n` data bytes, header written; data goes at .h */
function wsFrameHead(n) {
  const h = n < 126 ? 2 : n < 65536 ? 4 : 10; // as ws: 7-bit, 16-bit or 64-bit length
  const out = Buffer.allocUnsafe(h + n);
  out[0] = 0x81; // FIN, opcode 1 (text)
  if (h === 2) out[1] = n;
  else if (h === 4) {
    out[1] = 126;
    out[2] = n >>> 8;
    out[3] = n & 0xff;
  } else {
    out[1] = 127;
    out[2] = out[3] = 0;
    out.writeUIntBE(n, 4, 6);
  }
  return { out, h };
}

/** [the text frame of engine.io message '4' + str], what ws.Sender.frame() makes of Buffer.from('4' + str), in one Buffer. */
function wsFrame(str) {
  const n = 1 + Buffer.byteLength(str);
  const { out, h } = wsFrameHead(n);
  out[h] = 0x34; // '4', engine.io's message packet
  out.utf8Write(str, h + 1, n - 1);
  return [out];
}

/**
 * wsFrame() of the string whose UTF-8 bytes are bytes[start, end) (a
 * Deliver's payload), from the bytes: no encoding back. Bytes that are not
 * valid UTF-8 (a payload from something else than this adapter) would not
 * be what the string is: then from the string, like any other.
 */
function wsFrameOfBytes(bytes, start, end, str) {
  const text = bytes.subarray(start, end);
  if (!isUtf8(text)) return wsFrame(str);
  const { out, h } = wsFrameHead(1 + end - start);
  out[h] = 0x34;
  out.set(text, h + 1);
  return [out];
}

function isEmptyObject(v) {
  if (v === null || typeof v !== 'object' || Object.getPrototypeOf(v) !== Object.prototype) return false;
  for (const k in v) return false;
  return true;
}

/* ---- payloads ----------------------------------------------------------------- */

/*
 * Payloads of one-string packets are written into a slab, one after the
 * other, and handed on as Uint8Array views of it: one UTF-8 pass (utf8Write
 * says how many bytes it wrote, so no Buffer.byteLength first), no
 * allocation of their own, and a plain view (Buffer#subarray is JS that
 * reads .buffer / .byteOffset through getters). A slab region is never
 * written twice (a full slab is replaced, not reused), so a view stays
 * valid for as long as anyone holds it, like a Buffer.allocUnsafe() from
 * Node's pool; one held view keeps its slab alive.
 */
const SLAB_BYTES = 64 * 1024;
const SLAB_MAX = SLAB_BYTES / 8; // larger payloads get a buffer of their own
let slab = null; // Buffer, for utf8Write
let slabMemory = null; // its ArrayBuffer and offset, for the views
let slabOffset = 0;
let slabAt = SLAB_BYTES;

function newSlab() {
  slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
  slabMemory = slab.buffer;
  slabOffset = slab.byteOffset;
  slabAt = 0;
}

/** The broadcast payload (layout in the header comment) of socket.io-parser's encoded packet. */
function encodeBroadcast(encoded, flags, timeoutMs) {
  let f = 0;
  if (flags.compress) f |= FLAG_COMPRESS;
  if (flags.volatile) f |= FLAG_VOLATILE;
  const head = timeoutMs != null ? 6 : 2;
  if (timeoutMs != null) f |= FLAG_ACK;
  if (encoded.length === 1 && typeof encoded[0] === 'string') {
    const s = encoded[0];
    const max = head + s.length * 3; // UTF-8 bytes per UTF-16 unit: at most 3
    if (max > SLAB_MAX) {
      const out = Buffer.allocUnsafe(head + Buffer.byteLength(s));
      out[0] = KIND_BROADCAST;
      out[1] = f;
      if (timeoutMs != null) out.writeUInt32BE(timeoutMs >>> 0, 2);
      out.utf8Write(s, head); // Buffer#write without its argument checks
      return out;
    }
    if (SLAB_BYTES - slabAt < max) newSlab();
    const at = slabAt;
    slab[at] = KIND_BROADCAST;
    slab[at + 1] = f;
    if (timeoutMs != null) slab.writeUInt32BE(timeoutMs >>> 0, at + 2);
    const n = head + slab.utf8Write(s, at + head, max - head);
    slabAt = at + n;
    return new Uint8Array(slabMemory, slabOffset + at, n);
  }
  f |= FLAG_PARTS;
  const parts = encoded.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.isBuffer(p) ? p : Buffer.from(p)));
  let size = head + 1;
  for (const p of parts) size += 5 + p.length;
  const out = Buffer.allocUnsafe(size);
  out[0] = KIND_BROADCAST;
  out[1] = f;
  if (timeoutMs != null) out.writeUInt32BE(timeoutMs >>> 0, 2);
  out[head] = parts.length;
  let at = head + 1;
  for (let i = 0; i < parts.length; i++) {
    out[at] = typeof encoded[i] === 'string' ? 0 : 1;
    out.writeUInt32BE(parts[i].length, at + 1);
    parts[i].copy(out, at + 5);
    at += 5 + parts[i].length;
  }
  return out;
}

function decodeBroadcast(p) {
  const f = p[1];
  let at = 2;
  let timeoutMs = 0;
  if (f & FLAG_ACK) {
    timeoutMs = p.readUInt32BE(2);
    at = 6;
  }
  let packets;
  if (!(f & FLAG_PARTS)) {
    packets = [p.toString('utf8', at)];
  } else {
    const n = p[at++];
    packets = new Array(n);
    for (let i = 0; i < n; i++) {
      const type = p[at];
      const len = p.readUInt32BE(at + 1);
      const body = p.subarray(at + 5, at + 5 + len);
      packets[i] = type === 0 ? body.toString('utf8') : Buffer.from(body);
      at += 5 + len;
    }
  }
  return { flags: f, timeoutMs, packets };
}

function decodePackets(packets, parser) {
  let out = null;
  const d = parser && parser.Decoder ? new parser.Decoder() : new Decoder();
  d.on('decoded', (pk) => (out = pk));
  for (const p of packets) d.add(p);
  d.destroy();
  return out;
}

/* ---- fetchSockets entries ------------------------------------------------------ */

const entryReader = Reader.create(Buffer.alloc(0));
const roomScratch = []; // one entry's rooms while it is decoded (decodeEntry is synchronous)

/** Are a[ai, ai+n) and b[bi, bi+n) (DataViews) the same bytes? 4 at a time: several times faster than a byte loop. */
function bytesEqual(a, ai, b, bi, n) {
  let i = 0;
  for (; i + 4 <= n; i += 4) if (a.getUint32(ai + i, true) !== b.getUint32(bi + i, true)) return false;
  for (; i < n; i++) if (a.getUint8(ai + i) !== b.getUint8(bi + i)) return false;
  return true;
}

function viewOf(b) {
  return new DataView(b.buffer, b.byteOffset, b.length);
}

/*
 * Socket ids are kept from one fetchSockets() answer for the next: their
 * bytes in one buffer, and their strings. sidecastd answers in a stable
 * order, so the id at position k is most often the same as last time, and
 * then the old string is used again: no decoding, and socket.io, which puts
 * every id in Sets, finds its hash already computed.
 */
const ID_KEEP_MAX = 16384; // ids kept from one answer for the next

/**
 * The ids of one answer: count strings, ids[k] with its bytes at
 * offs[k] .. offs[k + 1] of bytes. Sized for `count` ids and `size` bytes
 * (the previous answer's): it grows if this one has more.
 */
function idStore(count, size) {
  const bytes = Buffer.allocUnsafe(size);
  const offs = new Array(count + 1);
  offs[0] = 0;
  return { count: 0, ids: new Array(count), offs, bytes, view: viewOf(bytes), at: 0 };
}

/** The previous answer's k-th id (k: ids met so far in this one) if its bytes are these, else null. */
function reuseId(ctx, view, at, n) {
  const prev = ctx.prev;
  const k = ctx.next.count;
  if (k >= prev.count) return null;
  const from = prev.offs[k];
  if (prev.offs[k + 1] - from !== n || !bytesEqual(view, at, prev.view, from, n)) return null;
  return prev.ids[k];
}

/** Append this id (bytes and string) to the store the next answer compares with. */
function keepId(ctx, view, at, n, id) {
  const next = ctx.next;
  const k = next.count;
  if (k >= ID_KEEP_MAX) return;
  if (next.at + n > next.bytes.length) {
    const grown = Buffer.allocUnsafe(Math.max(2 * next.bytes.length, next.at + n));
    next.bytes.copy(grown, 0, 0, next.at);
    next.bytes = grown;
    next.view = viewOf(grown);
  }
  const v = next.view;
  const to = next.at;
  let i = 0;
  for (; i + 4 <= n; i += 4) v.setUint32(to + i, view.getUint32(at + i, true), true);
  for (; i < n; i++) v.setUint8(to + i, view.getUint8(at + i));
  next.at = to + n;
  next.offs[k + 1] = to + n;
  next.ids[k] = id;
  next.count = k + 1;
}

/**
 * State of one fetchSockets() answer being decoded.
 * @param {Buffer} prefix this namespace's key prefix, "N,"
 * @param {object} prev the previous answer's ids (idStore)
 */
function fetchContext(prefix, prev) {
  return {
    prefix: viewOf(prefix),
    plen: prefix.length,
    cache: [], // {view, len, name} of rooms met in this answer, at most 8
    list: [],
    withData: 0,
    prev,
    next: idStore(prev.count, Math.max(256, prev.at)),
    buf: null, // the frame being decoded, and a DataView of it
    view: null,
  };
}

/**
 * One encoded SocketInfo -> {id, handshake, rooms (this namespace's, without
 * prefix), data (bytes, decoded later)} pushed on ctx.list: the object
 * fetchSockets() returns, built once. Other fields are skipped undecoded;
 * the id is the previous answer's string when the bytes match (reuseId),
 * the socket's own-id room reuses the id string, and other rooms (the same
 * few for most sockets) come from a small per-call cache. Bytes are
 * compared through DataViews (bytesEqual).
 */
function decodeEntry(buf, start, end, ctx) {
  const r = entryReader;
  r.buf = buf;
  r.len = end;
  if (ctx.buf !== buf) {
    ctx.buf = buf;
    ctx.view = viewOf(buf);
  }
  const view = ctx.view;
  const plen = ctx.plen;
  const cache = ctx.cache;
  const rooms = roomScratch;
  let nRooms = 0;
  let id = '';
  let idAt = 0;
  let idLen = -1;
  let data;
  let p = start;
  while (p < end) {
    // one-byte tags and lengths inline; longer varints through the Reader
    let tag = buf[p];
    if (tag < 0x80) p++;
    else {
      r.pos = p;
      tag = r.uint32();
      p = r.pos;
    }
    if (tag !== 0x0a && tag !== 0x2a && tag !== 0x22) {
      if ((tag & 7) === 2 && p < end && buf[p] < 0x80) {
        p += 1 + buf[p]; // a short string (session, user, node id)
        if (p > end) throw new RangeError('index out of range');
      } else {
        r.pos = p;
        r.skipType(tag & 7);
        p = r.pos;
      }
      continue;
    }
    let l = buf[p];
    if (l < 0x80) p++;
    else {
      r.pos = p;
      l = r.uint32();
      p = r.pos;
    }
    const at = p;
    p += l;
    if (p > end) throw new RangeError('index out of range');
    if (tag === 0x0a) {
      idAt = at;
      idLen = l;
      id = reuseId(ctx, view, at, l);
      if (id === null) id = buf.utf8Slice(at, p);
      keepId(ctx, view, at, l, id);
      continue;
    }
    if (tag === 0x22) {
      data = new Uint8Array(buf.buffer, buf.byteOffset + at, l);
      continue;
    }
    // a room: only this namespace's, without the prefix
    if (l <= plen || !bytesEqual(view, at, ctx.prefix, 0, plen)) continue;
    const s = at + plen;
    const n = l - plen;
    if (n === idLen && bytesEqual(view, s, view, idAt, n)) {
      rooms[nRooms++] = id; // its own room
      continue;
    }
    let name = null;
    for (let c = 0; c < cache.length; c++) {
      const e = cache[c];
      if (e.len === n && bytesEqual(view, s, e.view, 0, n)) {
        name = e.name;
        break;
      }
    }
    if (name === null) {
      name = buf.utf8Slice(s, p);
      if (cache.length < 8) cache.push({ view: viewOf(Buffer.from(buf.subarray(s, p))), len: n, name });
    }
    rooms[nRooms++] = name;
  }
  // an array of its own, exactly as long as needed ([] then push() reserves 17 slots)
  const own = nRooms === 1 ? [rooms[0]] : nRooms === 2 ? [rooms[0], rooms[1]] : rooms.slice(0, nRooms);
  // no data shipped (socket.data left at {}, no handshake option): final already
  if (data === undefined) ctx.list.push({ id, handshake: {}, rooms: own, data: {} });
  else {
    ctx.withData++;
    ctx.list.push({ id, handshake: undefined, rooms: own, data });
  }
}

/* ---- socket.data ----------------------------------------------------------------- */

/*
 * socket.data becomes an accessor (own, enumerable, as the property was)
 * whose setter tells the socket's adapter; the value lives in a
 * non-enumerable symbol property. Turning the socket's existing data
 * property into an accessor would put the socket object in V8's dictionary
 * mode: every property access on it, socket.io's and ours, then takes a
 * slow lookup (about a tenth of a delivery's JavaScript time). So once the
 * first socket of a socket.io Socket class is seen, that class's prototype
 * gets a 'data' setter that socket.io's constructor (`this.data = {}`)
 * runs into: it adds the accessor as a new property (sockets of a
 * namespace with another adapter get a plain data property, as before), in
 * the same place, so sockets keep fast properties and share their shape.
 * A socket made before that (the first one) is converted as before.
 */
const DATA = Symbol('sidecast.data');
const protosWithData = new WeakSet();

function dataGet() {
  return this[DATA];
}

function dataSet(v) {
  this[DATA] = v;
  const a = this.nsp && this.nsp.adapter;
  if (a instanceof SidecastAdapter) a._markDirty(this.id);
}

const DATA_ACCESSOR = { configurable: true, enumerable: true, get: dataGet, set: dataSet };

function addDataAccessor(socket, value) {
  Object.defineProperty(socket, DATA, { value, writable: true, enumerable: false, configurable: true });
  Object.defineProperty(socket, 'data', DATA_ACCESSOR);
}

/** The prototype setter: runs once per socket, for the constructor's first assignment. */
function protoDataSet(v) {
  const a = this.nsp && this.nsp.adapter;
  if (a instanceof SidecastAdapter) addDataAccessor(this, v);
  else Object.defineProperty(this, 'data', { value: v, writable: true, enumerable: true, configurable: true });
}

function protoDataGet() {
  return this[DATA];
}

function watchData(socket) {
  const own = Object.getOwnPropertyDescriptor(socket, 'data');
  if (!own || own.set !== dataSet) addDataAccessor(socket, socket.data); // made before the prototype had the setter
  const proto = Object.getPrototypeOf(socket);
  if (proto && proto !== Object.prototype && !protosWithData.has(proto)) {
    protosWithData.add(proto);
    const d = Object.getOwnPropertyDescriptor(proto, 'data');
    if (!d || d.configurable)
      Object.defineProperty(proto, 'data', { configurable: true, enumerable: false, get: protoDataGet, set: protoDataSet });
  }
}

/* ---- hub: one client, many namespaces -------------------------------------------- */

class Hub {
  constructor(opts) {
    this.opts = opts;
    this.ownClient = !opts.client;
    this.client =
      opts.client ||
      new SidecastClient(Object.assign({}, opts, { name: opts.name || `socket.io-${process.pid}` }));
    this.adapters = new Map(); // nsp name -> adapter
    this._last = null; // the adapter adapterOf() found last (a namespace without ',')
    this.client.onDeliver = (d, ackId) => this.onDeliver(d, ackId);
    this.client.onApply = (a) => this.onApply(a);
    this.client.onServerMessage = (m) => this.onServerMessage(m);
    // the Redis subscription was interrupted: cluster messages may be lost
    this.client.onGap = (g) => {
      for (const a of this.adapters.values()) a.emit('gap', g);
    };
    this.client.addProvider(this);
  }

  add(adapter) {
    this.adapters.set(adapter.nsp.name, adapter);
    this._last = null;
  }

  remove(adapter) {
    if (this.adapters.get(adapter.nsp.name) === adapter) this.adapters.delete(adapter.nsp.name);
    if (this._last === adapter) this._last = null;
    if (this.adapters.size === 0 && this.ownClient) {
      this.client.removeProvider(this);
      this.closing = true;
      this.closed = this.client.close();
    }
    return this.closed;
  }

  /** Re-registration after a reconnect. */
  snapshot(send) {
    for (const a of this.adapters.values()) a._snapshot(send);
  }

  adapterOf(to) {
    const key = to && to.rooms && to.rooms.length ? to.rooms[0] : null;
    if (key !== null) {
      // most often the namespace of the last one: no slice, no lookup
      const last = this._last;
      if (last !== null && (key === last._key || key.startsWith(last._prefix))) return last;
      const c = key.indexOf(',');
      const a = this.adapters.get(c < 0 ? key : key.slice(0, c));
      if (a !== undefined && a._key.indexOf(',') < 0) this._last = a;
      return a;
    }
    // selectors by socket id only (another app, sidecastctl): whose socket?
    const ids = (to && to.socketIds) || [];
    for (const a of this.adapters.values()) for (const id of ids) if (a.sids.has(id)) return a;
    return this.adapters.size === 1 ? this.adapters.values().next().value : undefined;
  }

  onDeliver(d, ackId) {
    const a = d.payload.length && d.payload[0] === KIND_BROADCAST ? this.adapterOf(d.to) : undefined;
    if (!a) {
      if (ackId) this.client.ack(ackId, { done: true });
      return true;
    }
    a._onDeliver(d, ackId);
    return true;
  }

  onApply(ap) {
    const a = this.adapterOf(ap.filter);
    if (a) a._onApply(ap);
    return true;
  }

  onServerMessage(m) {
    const p = m.payload;
    if (p.length && p[0] === KIND_PROBE) {
      if (m.ackId) this.client.ack(m.ackId, { payloads: [PROBE], done: true });
      return;
    }
    if (p.length < 3 || p[0] !== KIND_SERVER_EMIT) {
      if (m.ackId) this.client.ack(m.ackId, { done: true });
      return;
    }
    const nl = p.readUInt16BE(1);
    const nsp = p.toString('utf8', 3, 3 + nl);
    const a = this.adapters.get(nsp);
    if (!a) {
      if (m.ackId) this.client.ack(m.ackId, { payloads: [ABSENT], done: true });
      return;
    }
    a._onServerEmit(codec.decode(p.subarray(3 + nl)), m.ackId);
  }
}

/* ---- the adapter ---------------------------------------------------------------- */

class SidecastAdapter extends Adapter {
  /**
   * @param {import('socket.io').Namespace} nsp
   * @param {Hub} hub
   * @param {object} opts createAdapter options
   */
  constructor(nsp, hub, opts) {
    super(nsp);
    this.hub = hub;
    /** the SidecastClient this adapter talks through */
    this.client = hub.client;
    this.opts = opts;
    this.requestsTimeout = opts.requestsTimeout > 0 ? opts.requestsTimeout : 5000;
    this._key = nsp.name; // the namespace's "everyone" room
    this._prefix = nsp.name + ',';
    this._meta = new Map(); // socket id -> {sessionId, userId, data: Buffer}
    this._dirty = new Set();
    this._dirtyScheduled = false;
    this._ackCountOnce = false;
    this._fetchIds = idStore(0, 0); // socket ids of the last fetchSockets() answer, in order (see reuseId)
    this._onDirty = this._flushDirty.bind(this);
    /** corks a busy client's stream for the rest of the turn (see coalesce.js) */
    this._co = opts.coalesceWrites === false ? null : coalesce.shared;
    hub.add(this);
  }

  _k(room) {
    return this._prefix + room;
  }

  _local(key) {
    return key.length > this._prefix.length && key.startsWith(this._prefix) ? key.slice(this._prefix.length) : null;
  }

  _keys(rooms) {
    const out = [];
    if (rooms) for (const r of rooms) out.push(this._prefix + r);
    return out;
  }

  /** Selector for socket.io's {rooms, except}. */
  _selector(opts) {
    const rooms = opts.rooms && opts.rooms.size ? this._keys(opts.rooms) : [this._key];
    const except = opts.except && opts.except.size ? this._keys(opts.except) : undefined;
    return sel(rooms, undefined, undefined, except, undefined, undefined);
  }

  close() {
    return this.hub.remove(this);
  }

  /* ---- registration ---------------------------------------------------------- */

  addAll(id, rooms) {
    const meta = this._meta.get(id);
    if (meta && meta.up) {
      const had = this.sids.get(id);
      let fresh = null;
      for (const r of rooms) if (!had || !had.has(r)) (fresh || (fresh = [])).push(this._prefix + r);
      super.addAll(id, rooms);
      if (fresh) this.client.sendJoin(id, fresh);
      return;
    }
    super.addAll(id, rooms);
    // A recovered session joins its rooms before the socket is connected:
    // register it (with every room) once it is in nsp.sockets.
    const socket = this.nsp.sockets.get(id);
    if (socket) this._socketUp(id, socket);
    else if (!meta) this._meta.set(id, { up: false, sessionId: '', userId: '', data: undefined });
  }

  del(id, room) {
    const had = this.sids.get(id);
    const meta = this._meta.get(id);
    if (meta && meta.up && had && had.has(room)) this.client.sendLeave(id, [this._prefix + room]);
    super.del(id, room);
  }

  delAll(id) {
    const meta = this._meta.get(id);
    if (meta) {
      if (meta.up) this.client.sendSocketDown(id);
      this._meta.delete(id);
      this._dirty.delete(id);
    }
    super.delAll(id);
  }

  _socketUp(id, socket) {
    const meta = { up: true, sessionId: (socket.conn && socket.conn.id) || '', userId: '', data: undefined };
    if (typeof this.opts.userId === 'function') {
      const u = this.opts.userId(socket);
      if (u != null && u !== '') meta.userId = String(u);
    }
    meta.data = this._encodeData(socket, socket.data);
    this._watchData(socket);
    this._meta.set(id, meta);
    this.client.sendSocketUp(this._upMessage(id, meta));
  }

  _upMessage(id, meta) {
    const rooms = [this._key];
    const mine = this.sids.get(id);
    if (mine) for (const r of mine) rooms.push(this._prefix + r);
    const m = { socketId: id, rooms };
    if (meta.sessionId) m.sessionId = meta.sessionId;
    if (meta.userId) m.userId = meta.userId;
    if (meta.data) m.data = meta.data;
    return m;
  }

  _snapshot(send) {
    this._flushDirty();
    for (const [id, meta] of this._meta) if (meta.up && this.sids.has(id)) send(this._upMessage(id, meta));
  }

  _encodeData(socket, data) {
    const h = this.opts.handshake;
    // socket.io's default socket.data, {}: nothing to ship (fetch turns no data into {})
    if (!h) return data === undefined || isEmptyObject(data) ? undefined : codec.encode([data]);
    const hs = typeof h === 'function' ? h(socket) : socket.handshake;
    return codec.encode([data, hs]);
  }

  /**
   * socket.data is snapshotted at connection and whenever it is assigned
   * (`socket.data = {...}`), at most once per tick. In-place changes
   * (`socket.data.x = 1`) need `adapter.syncData(socket)`. See watchData().
   */
  _watchData(socket) {
    watchData(socket);
  }

  _markDirty(id) {
    this._dirty.add(id);
    if (!this._dirtyScheduled) {
      this._dirtyScheduled = true;
      process.nextTick(this._onDirty);
    }
  }

  _flushDirty() {
    this._dirtyScheduled = false;
    if (!this._dirty.size) return;
    for (const id of this._dirty) {
      const socket = this.nsp.sockets.get(id);
      const meta = this._meta.get(id);
      if (!socket || !meta) continue;
      meta.data = this._encodeData(socket, socket.data) || Buffer.alloc(0);
      this.client.sendSetData(id, meta.data);
    }
    this._dirty.clear();
  }

  /**
   * Send a socket's current `socket.data` to sidecastd now (after changing it
   * in place), so other nodes' fetchSockets() see it.
   * @param {import('socket.io').Socket|string} socketOrId
   */
  syncData(socketOrId) {
    const id = typeof socketOrId === 'string' ? socketOrId : socketOrId.id;
    if (this._meta.has(id)) this._markDirty(id);
  }

  /* ---- broadcast ----------------------------------------------------------- */

  broadcast(packet, opts) {
    const flags = opts.flags || {};
    const packetOpts = { preEncoded: true, volatile: flags.volatile, compress: flags.compress };
    packet.nsp = this.nsp.name;
    const encoded = this.encoder.encode(packet);
    const rooms = opts.rooms;
    if (rooms && rooms.size === 1 && !(opts.except && opts.except.size)) {
      // one room (a socket id, typically) and no except: no sets, no closure
      const members = this.rooms.get(rooms.values().next().value);
      if (members)
        for (const id of members) {
          const socket = this.nsp.sockets.get(id);
          if (socket) this._writeLocal(socket, packet, encoded, packetOpts);
        }
    } else {
      this.apply(opts, (socket) => this._writeLocal(socket, packet, encoded, packetOpts));
    }
    if (flags.local) return;
    this.client.broadcastRaw(
      this._selector(opts),
      encodeBroadcast(encoded, flags, null),
      flags.volatile ? { volatile: true } : undefined,
    );
  }

  _writeLocal(socket, packet, encoded, packetOpts) {
    // the WebSocket frame is built once, and only if a local socket gets it
    // (engine.io takes any wsPreEncodedFrame that is not undefined: never set it to null)
    if (!packetOpts.scFramed) {
      packetOpts.scFramed = true;
      if (wsFrames && encoded.length === 1 && typeof encoded[0] === 'string')
        packetOpts.wsPreEncodedFrame = wsFrame(encoded[0]);
    }
    if (typeof socket.notifyOutgoingListeners === 'function') socket.notifyOutgoingListeners(packet);
    const client = socket.client;
    if (this._co) this._co.beforeWriteConn(client.conn);
    client.writeToEngine(encoded, packetOpts);
  }

  _onDeliver(d, ackId) {
    const p = d.payload;
    const f = p[1];
    let packets;
    let packetOpts;
    if (!ackId && !(f & (FLAG_ACK | FLAG_PARTS)) && p.length >= 2) {
      // one string packet, no acks (decodeBroadcast's result, without its object)
      const text = p.utf8Slice(2, p.length); // p.toString('utf8', 2) without its argument checks
      packets = [text];
      packetOpts = { preEncoded: true, volatile: !!(f & FLAG_VOLATILE), compress: !!(f & FLAG_COMPRESS) };
      if (wsFrames) packetOpts.wsPreEncodedFrame = wsFrameOfBytes(p, 2, p.length, text);
    } else {
      const b = decodeBroadcast(p);
      packets = b.packets;
      packetOpts = { preEncoded: true, volatile: !!(b.flags & FLAG_VOLATILE), compress: !!(b.flags & FLAG_COMPRESS) };
      if (ackId) return this._deliverWithAck(this._localOpts(d.to || NO_ONE), packets, packetOpts, ackId, b.timeoutMs);
      if (wsFrames && packets.length === 1 && typeof packets[0] === 'string')
        packetOpts.wsPreEncodedFrame = wsFrame(packets[0]);
    }
    const to = d.to || NO_ONE;
    const ctx = { packets, packetOpts, packet: null };
    // the common cases, one room of ours or one socket id, no except: no sets
    if (to.rooms.length + to.socketIds.length === 1 && !to.all && !to.exceptRooms.length && !to.exceptIds.length) {
      const room = to.rooms.length ? (to.rooms[0] === this._key ? null : this._local(to.rooms[0])) : to.socketIds[0];
      if (room !== null) {
        const members = this.rooms.get(room);
        if (members)
          for (const id of members) {
            const socket = this.nsp.sockets.get(id);
            if (socket) this._deliverTo(socket, ctx);
          }
        return;
      }
    }
    const opts = this._localOpts(to);
    if (opts.rooms.size === 1 && opts.except.size === 0) {
      const members = this.rooms.get(opts.rooms.values().next().value);
      if (members)
        for (const id of members) {
          const socket = this.nsp.sockets.get(id);
          if (socket) this._deliverTo(socket, ctx);
        }
      return;
    }
    this.apply(opts, (socket) => this._deliverTo(socket, ctx));
  }

  _deliverTo(socket, ctx) {
    if (socket._anyOutgoingListeners && socket._anyOutgoingListeners.length) {
      if (!ctx.packet) ctx.packet = decodePackets(ctx.packets, this.nsp.server._parser);
      if (ctx.packet) socket.notifyOutgoingListeners(ctx.packet);
    }
    const client = socket.client;
    if (this._co) this._co.beforeWriteConn(client.conn);
    client.writeToEngine(ctx.packets, ctx.packetOpts);
  }

  /** sidecastd selector (keys) -> socket.io {rooms, except} of this namespace. */
  _localOpts(to) {
    const rooms = new Set();
    let everyone = false;
    for (const k of to.rooms) {
      if (k === this._key) everyone = true;
      else {
        const r = this._local(k);
        if (r !== null) rooms.add(r);
      }
    }
    for (const id of to.socketIds) rooms.add(id); // a socket is in its own room
    if (everyone) rooms.clear();
    let except = NO_EXCEPT;
    if (to.exceptRooms.length || to.exceptIds.length) {
      except = new Set();
      for (const k of to.exceptRooms) {
        const r = this._local(k);
        if (r !== null) except.add(r);
      }
      for (const id of to.exceptIds) except.add(id);
    }
    if (!everyone && rooms.size === 0 && !to.all) rooms.add('\0none'); // nothing of ours
    return { rooms, except };
  }

  broadcastWithAck(packet, opts, clientCountCallback, ack) {
    const flags = opts.flags || {};
    if (flags.local) {
      this._countOnce();
      return super.broadcastWithAck(packet, opts, clientCountCallback, ack);
    }
    const packetOpts = { preEncoded: true, volatile: flags.volatile, compress: flags.compress };
    packet.nsp = this.nsp.name;
    packet.id = this.nsp._ids++;
    const encoded = this._encode(packet, packetOpts);
    let count = 0;
    this.apply(opts, (socket) => {
      count++;
      socket.acks.set(packet.id, ack);
      if (typeof socket.notifyOutgoingListeners === 'function') socket.notifyOutgoingListeners(packet);
      socket.client.writeToEngine(encoded, packetOpts);
    });
    // We report every server's count at once (when sidecastd says all nodes
    // answered), so the serverCount() socket.io asks right after is 1.
    this._countOnce();
    const timeout = flags.timeout > 0 ? flags.timeout : this.requestsTimeout;
    this.client
      .broadcastWithAck(
        this._selector(opts),
        encodeBroadcast(encoded, flags, timeout),
        flags.volatile ? { volatile: true } : {},
        (p) => {
          count += p.expect;
          for (const pl of p.payloads) ack(codec.decode(pl)[0]);
          // timed out: socket.io's own timer reports the error
          if (p.done && !p.timedOut) clientCountCallback(count);
        },
        timeout + 10000,
      )
      .catch(() => {}); // socket.io's timer reports the failure
  }

  /** A Deliver that wants acks: deliver, then answer expect, answers, done. */
  _deliverWithAck(opts, packets, packetOpts, ackId, timeoutMs) {
    const packet = decodePackets(packets, this.nsp.server._parser);
    if (!packet) return this.client.ack(ackId, { done: true });
    let expect = 0;
    let got = 0;
    let finished = false;
    let timer = null;
    const finish = () => {
      finished = true;
      clearTimeout(timer);
      this.client.ack(ackId, { done: true });
    };
    super.broadcastWithAck(
      packet,
      { rooms: opts.rooms, except: opts.except, flags: { volatile: packetOpts.volatile, compress: packetOpts.compress } },
      (n) => (expect = n),
      (response) => {
        if (finished) return;
        got++;
        this.client.ack(ackId, { payloads: [codec.encode([response])], done: got >= expect });
        if (got >= expect) {
          finished = true;
          clearTimeout(timer);
        }
      },
    );
    if (expect === 0) return finish();
    this.client.ack(ackId, { expect });
    timer = setTimeout(finish, timeoutMs || this.requestsTimeout);
  }

  /* ---- cluster requests -------------------------------------------------------- */

  /** The serverCount() socket.io asks right after broadcastWithAck() is 1 (see there). */
  _countOnce() {
    this._ackCountOnce = true;
    process.nextTick(() => (this._ackCountOnce = false));
  }

  serverCount() {
    if (this._ackCountOnce) {
      this._ackCountOnce = false;
      return Promise.resolve(1);
    }
    let answers = 0;
    return this.client
      .serverEmit(PROBE, {
        onProgress: (p) => {
          for (const pl of p.payloads) if (pl.length === 1 && pl[0] === KIND_PROBE) answers++;
        },
        timeout: this.requestsTimeout + 5000,
      })
      .then(() => 1 + answers);
  }

  async fetchSockets(opts) {
    if (opts.flags && opts.flags.local) return super.fetchSockets(opts);
    // This process's sockets come from its own maps, live; sidecastd sends
    // everybody else's (exclude_self), so nothing is decoded twice. Entries
    // are decoded straight from the frame: only the id, the data and this
    // namespace's rooms become strings.
    const ctx = fetchContext(this._prefixBytes || (this._prefixBytes = Buffer.from(this._prefix)), this._fetchIds);
    const q = { withData: true, withRooms: true, excludeSelf: true };
    await this.client._fetchSocketsWith(this._selector(opts), q, (buf, start, end) => decodeEntry(buf, start, end, ctx));
    const out = this._localSockets(opts);
    const list = ctx.list;
    this._fetchIds = ctx.next;
    if (ctx.withData) {
      // all data of the answer parsed at once (codec.decodeMany)
      const withData = [];
      for (let i = 0; i < list.length; i++) if (list[i].handshake === undefined) withData.push(list[i]);
      const values = codec.decodeMany(withData.map((s) => s.data));
      for (let i = 0; i < withData.length; i++) {
        const s = withData[i];
        const v = values[i];
        const data = v ? v[0] : undefined;
        s.handshake = (v && v[1]) || {};
        s.data = data === undefined ? {} : data;
      }
    }
    for (let i = 0; i < list.length; i++) out.push(list[i]);
    return out;
  }

  /**
   * What super.fetchSockets(opts) resolves with, without the promise. That
   * is, for every socket (no rooms, no except: the common call), each id of
   * `sids` with a socket in `nsp.sockets`, in `sids` order: one Map lookup
   * per socket, each a few cache misses on a busy process. socket.io adds a
   * socket to nsp.sockets and then (joining its own room) to sids, and
   * removes it from both, so the two maps almost always hold the same ids in
   * the same order: then walking them side by side gives the same list with
   * no lookup. At the first difference, the lookups as before.
   */
  _localSockets(opts) {
    const out = [];
    if ((opts.rooms && opts.rooms.size) || (opts.except && opts.except.size)) {
      this.apply(opts, (socket) => out.push(socket));
      return out;
    }
    const sockets = this.nsp.sockets;
    if (sockets.size === this.sids.size) {
      const all = sockets.values();
      let same = true;
      for (const id of this.sids.keys()) {
        const socket = all.next().value;
        if (socket.id !== id) {
          same = false;
          break;
        }
        out.push(socket);
      }
      if (same) return out;
      out.length = 0;
    }
    for (const id of this.sids.keys()) {
      const socket = sockets.get(id);
      if (socket) out.push(socket);
    }
    return out;
  }

  async sockets(rooms) {
    const list = await this.client.fetchSockets(this._selector({ rooms }), { excludeSelf: true });
    const ids = await super.sockets(rooms);
    for (const s of list) ids.add(s.socketId);
    return ids;
  }

  addSockets(opts, rooms) {
    super.addSockets(opts, rooms);
    if (opts.flags && opts.flags.local) return;
    this._apply(opts, { join: this._keys(rooms) });
  }

  delSockets(opts, rooms) {
    super.delSockets(opts, rooms);
    if (opts.flags && opts.flags.local) return;
    this._apply(opts, { leave: this._keys(rooms) });
  }

  disconnectSockets(opts, close) {
    super.disconnectSockets(opts, close);
    if (opts.flags && opts.flags.local) return;
    this._apply(opts, { disconnect: true, close: !!close });
  }

  _apply(opts, what) {
    what.filter = this._selector(opts);
    this.client.apply(what).catch((err) => {
      // an 'error' event nobody listens to would throw: report it only if asked
      if (this.listenerCount('error')) this.emit('error', err);
    });
  }

  /** Apply forwarded by sidecastd (ours included: join/leave are idempotent). */
  _onApply(a) {
    const opts = this._localOpts(a.filter || NO_ONE);
    const join = [];
    for (const k of a.join) {
      const r = this._local(k);
      if (r !== null) join.push(r);
    }
    const leave = [];
    for (const k of a.leave) {
      const r = this._local(k);
      if (r !== null) leave.push(r);
    }
    const picked = [];
    this.apply(opts, (socket) => picked.push(socket));
    for (const socket of picked) {
      if (join.length) socket.join(join);
      for (const r of leave) socket.leave(r);
      if (a.disconnect) socket.disconnect(a.close);
    }
  }

  serverSideEmit(packet) {
    const withAck = typeof packet[packet.length - 1] === 'function';
    const ack = withAck ? packet.pop() : null;
    const nsp = Buffer.from(this.nsp.name);
    const body = codec.encode(packet);
    const payload = Buffer.allocUnsafe(3 + nsp.length + body.length);
    payload[0] = KIND_SERVER_EMIT;
    payload.writeUInt16BE(nsp.length, 1);
    nsp.copy(payload, 3);
    body.copy(payload, 3 + nsp.length);
    if (!withAck) {
      this.client.serverEmit(payload).catch((err) => {
        if (this.listenerCount('error')) this.emit('error', err);
      });
      return;
    }
    let expected = 0;
    const responses = [];
    let settled = false;
    const settle = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ack(err, responses);
    };
    const timer = setTimeout(
      () => settle(new TimeoutError(`timeout reached: only ${responses.length} responses received out of ${expected}`)),
      this.requestsTimeout,
    );
    this.client
      .serverEmit(payload, {
        onProgress: (p) => {
          expected += p.expect;
          for (const pl of p.payloads) {
            if (pl.length === 1 && pl[0] === KIND_ABSENT) expected--;
            else responses.push(codec.decode(pl)[0]);
          }
          if (p.done) {
            if (p.timedOut || responses.length < expected)
              settle(
                new TimeoutError(`timeout reached: only ${responses.length} responses received out of ${expected}`),
              );
            else settle(null);
          }
        },
        timeout: this.requestsTimeout + 5000,
      })
      .catch((err) => settle(err));
  }

  _onServerEmit(args, ackId) {
    if (!Array.isArray(args)) args = [];
    if (ackId) {
      let answered = false;
      args.push((response) => {
        if (answered) return;
        answered = true;
        this.client.ack(ackId, { payloads: [codec.encode([response])], done: true });
      });
    }
    this.nsp._onServerSideEmit(args);
  }

  /* ---- lookups ------------------------------------------------------------- */

  /**
   * Where is a session (engine.io id), socket or user, cluster-wide.
   * @param {{sessionId?: string, socketId?: string, userId?: string}} key
   */
  lookup(key, opts) {
    return this.client.lookup(key, opts);
  }

  /** Is user U online, with how many sockets on how many nodes (needs opts.userId). */
  presence(userId, opts) {
    return this.client.presence(userId, opts);
  }
}

/**
 * @param {object} [opts]
 * @param {string} [opts.path] sidecastd socket ($SIDECAST_SOCKET or /run/sidecast/sidecast.sock)
 * @param {SidecastClient} [opts.client] an existing client to use (not closed by the adapter)
 * @param {(socket) => string|undefined} [opts.userId] user id of a socket, registered for lookups / presence
 * @param {boolean|((socket) => object)} [opts.handshake=false] also ship socket.handshake (or this function's result) for other nodes' fetchSockets()
 * @param {number} [opts.requestsTimeout=5000] serverSideEmit-with-ack / broadcast-with-ack default timeout, ms
 * @param {boolean} [opts.coalesceWrites=true] write a client's messages of one event-loop turn with one system call (see lib/coalesce.js)
 * @returns {(nsp) => SidecastAdapter} for io.adapter()
 */
function createAdapter(opts = {}) {
  const o = Object.assign({}, opts);
  const hubs = new WeakMap(); // io Server -> Hub: one connection per server
  return function sidecastAdapter(nsp) {
    let hub = hubs.get(nsp.server);
    if (!hub || hub.closing) hubs.set(nsp.server, (hub = new Hub(o)));
    return new SidecastAdapter(nsp, hub, o);
  };
}

// internals, for the unit tests
const _internals = { encodeBroadcast, decodeBroadcast, decodeEntry, fetchContext, idStore, wsFrame, wsFrameOfBytes };

module.exports = { createAdapter, SidecastAdapter, _internals };
