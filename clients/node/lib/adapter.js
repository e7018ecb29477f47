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
 * Payloads (opaque to sidecastd) are lib/mapping.js's.
 */

// socket.io-adapter, socket.io-parser and ws are the app's (see internals.js)
const I = require('./internals');
const { Reader } = require('protobufjs/minimal');
// the SocketInfo fields decodeEntry reads by hand (lib/wire.js owns them)
const { SOCKET_INFO_SOCKET_ID, SOCKET_INFO_DATA, SOCKET_INFO_ROOMS, WIRE_LEN } = require('./wire');
const { SidecastClient, sel } = require('./client');
const C = require('./client');
const KEPT_ANSWERS = C.Feature.KEPT_ANSWERS;
const codec = require('./codec');
const coalesce = require('./coalesce');
const { TimeoutError } = require('./errors');
const { CLUSTER_MARGIN_MS } = require('./client');

// the payloads of the socket.io mapping (lib/mapping.js, proto/README.md)
const {
  KIND_BROADCAST,
  KIND_SERVER_EMIT,
  KIND_PROBE,
  KIND_ABSENT,
  FLAG_COMPRESS,
  FLAG_VOLATILE,
  FLAG_ACK,
  FLAG_PARTS,
  encodeBroadcast,
  decodeBroadcast,
  encodeServerEmit,
} = require('./mapping');
const ABSENT = Buffer.from([KIND_ABSENT]);
const PROBE = Buffer.from([KIND_PROBE]);
const NO_ONE = { rooms: [], socketIds: [], exceptRooms: [], exceptIds: [] };
const NO_EXCEPT = new Set(); // shared, never added to
const VOLATILE = { volatile: true };
/**
 * A broadcast with at least this many local recipients goes to sidecastd at
 * once (its own write) before the local writes, so other nodes start while
 * this one writes to its sockets; smaller ones ride in the turn's batch.
 */
const FLUSH_FIRST = 16;
/**
 * socket.data with the handshake over this is shipped without the handshake
 * (sidecastd's max_socket_data_bytes is 64 KiB by default, and a refused
 * SocketUp would leave the socket unregistered).
 */
const HANDSHAKE_DATA_MAX = 48 * 1024;

// The same pre-encoded WebSocket frame the in-memory adapter builds, so a
// delivery to N websocket clients frames the message once, not N times. It
// is one Buffer (header and data), not ws.Sender.frame()'s [header, data]:
// ws's sendFrame() then writes it with one socket.write(), where a list of
// two costs a cork, two writes, an uncork and a writev. The bytes on the
// wire are the same. Only when the app's ws has the frame API engine.io
// uses (peers.wsFrames).
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

function decodePackets(packets, parser) {
  let out = null;
  const d = new parser.Decoder();
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
    if (tag !== SOCKET_INFO_SOCKET_ID && tag !== SOCKET_INFO_ROOMS && tag !== SOCKET_INFO_DATA) {
      if ((tag & 7) === WIRE_LEN && p < end && buf[p] < 0x80) {
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
    if (tag === SOCKET_INFO_SOCKET_ID) {
      idAt = at;
      idLen = l;
      id = reuseId(ctx, view, at, l);
      if (id === null) id = buf.utf8Slice(at, p);
      keepId(ctx, view, at, l, id);
      continue;
    }
    if (tag === SOCKET_INFO_DATA) {
      data = new Uint8Array(buf.buffer, buf.byteOffset + at, l);
      continue;
    }
    // SOCKET_INFO_ROOMS, a room: only this namespace's, without the prefix
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

/* ---- kept fetchSockets() answers ----------------------------------------------
 * Each other node's answer is kept (per filter, FETCH_KEEP_FILTERS filters):
 * its entries as decodeEntry made them, before their data is parsed, and
 * its etag, which names the node's registry at that time. The next fetch
 * with the same filter names them (FetchSockets.known); a node whose
 * registry has not changed since answers "unchanged" and nothing else, and
 * its kept entries are used again: the handshakes and data do not cross
 * Redis and both sidecars again, nor are they decoded. Any change on that
 * node (a socket, a room, data) gives a new etag and a full answer, so
 * what fetchSockets() returns is the same as without keeping. */
const FETCH_KEEP_FILTERS = 4;

/** The start of one fetch's keeping: `kept` the answers kept for its filter (or undefined). */
function keepContext(ctx, kept) {
  ctx.kept = kept || null;
  ctx.answers = new Map(); // node -> {etag, entries} of this fetch
  ctx.miss = false;
  ctx.fStart = 0;
  ctx.fNode = null;
  ctx.fEtag = null;
  ctx.fUnchanged = false;
}

/** One kept entry back into this fetch's list, as decodeEntry would have put it. */
function pushKept(ctx, e) {
  if (e.data === null) ctx.list.push({ id: e.id, handshake: {}, rooms: e.rooms.slice(), data: {} });
  else {
    ctx.withData++;
    ctx.list.push({ id: e.id, handshake: undefined, rooms: e.rooms.slice(), data: e.data });
  }
}

/** client._fetchSocketsWith's onMeta: which node each SocketList frame is, and what it says. */
function onFetchMeta(ctx, kind, v) {
  switch (kind) {
    case C.META_START:
      ctx.fStart = ctx.list.length;
      ctx.fNode = ctx.fEtag = null;
      ctx.fUnchanged = false;
      return;
    case C.META_NODE:
      ctx.fNode = v;
      return;
    case C.META_ETAG:
      ctx.fEtag = v;
      return;
    case C.META_UNCHANGED:
      ctx.fUnchanged = v;
      return;
  }
  const node = ctx.fNode; // META_END
  if (!node) return; // this node's other apps, or a node from before keeping
  if (ctx.fUnchanged) {
    const k = ctx.kept && ctx.kept.get(node);
    if (!k || k.etag !== ctx.fEtag) {
      ctx.miss = true; // never named that etag: ask again in full (fetchSockets)
      return;
    }
    for (let i = 0; i < k.entries.length; i++) pushKept(ctx, k.entries[i]);
    ctx.answers.set(node, k);
    return;
  }
  let a = ctx.answers.get(node);
  if (!a) ctx.answers.set(node, (a = { etag: null, entries: [] }));
  for (let i = ctx.fStart; i < ctx.list.length; i++) {
    const s = ctx.list[i];
    a.entries.push({ id: s.id, rooms: s.rooms, data: s.handshake === undefined ? s.data : null });
  }
  if (ctx.fEtag) a.etag = ctx.fEtag; // its last chunk: complete
}

/**
 * Is answer `a` whole? Its etag is "<gen>-<entries>": a chunk lost on the
 * way (the answering node's outbox drops volatile chunks when full) leaves
 * fewer entries than it says, and such an answer is not kept.
 */
function wholeAnswer(a) {
  const dash = a.etag.lastIndexOf('-');
  const n = dash < 0 ? NaN : Number(a.etag.slice(dash + 1));
  return Number.isInteger(n) && n === a.entries.length;
}

/** Keep this fetch's complete answers for its filter (the oldest filter goes past FETCH_KEEP_FILTERS). */
function keepAnswers(store, key, ctx) {
  const m = new Map();
  for (const [node, a] of ctx.answers) if (a.etag && wholeAnswer(a)) m.set(node, a);
  store.delete(key);
  if (m.size === 0) return;
  store.set(key, m);
  if (store.size > FETCH_KEEP_FILTERS) store.delete(store.keys().next().value);
}

/**
 * The data bytes of the answer's entries (those with handshake undefined)
 * -> data and handshake, every one parsed: all with one JSON.parse
 * (codec.decodeMany). Used where RemoteSocket could not take the lazy
 * handshake accessor (internals.js).
 */
function decodeDataAll(list) {
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

/**
 * The same, with each handshake left unparsed: socket.data as codec
 * [data, handshake] JSON is split where data ends (codec.jsonValueEnd, a scan
 * of data's bytes only); data is parsed (`{}`, socket.io's default, without
 * JSON.parse; the others all with one JSON.parse), the handshake becomes an
 * internals.LazyHandshake over its bytes in the frame, parsed only if the
 * app reads remoteSocket.handshake. Same values as decodeDataAll; entries
 * with binary data are decoded whole, as there.
 */
function decodeDataLazy(list, n) {
  const batch = []; // entries whose data is parsed together: entry, bytes, start, end
  let size = 2;
  for (let i = 0; i < list.length && n > 0; i++) {
    const s = list[i];
    if (s.handshake !== undefined) continue;
    n--;
    const b = s.data;
    const len = b.length;
    const e = len > 3 && b[0] === codec.PLAIN && b[1] === 0x5b && b[len - 1] === 0x5d ? codec.jsonValueEnd(b, 2, len) : -1;
    if (e <= 2 || (e !== len - 1 && b[e] !== 0x2c)) {
      const v = codec.decode(b); // binary parts, no data, or not [data, handshake]
      const data = v ? v[0] : undefined;
      s.handshake = (v && v[1]) || {};
      s.data = data === undefined ? {} : data;
      continue;
    }
    s.handshake = e === len - 1 ? {} : new I.LazyHandshake(b, e + 1, len - 1);
    if (e === 4 && b[2] === 0x7b && b[3] === 0x7d) s.data = {};
    else {
      batch.push(s, b, 2, e);
      size += e - 1; // the comma after it included
    }
  }
  if (batch.length === 0) return;
  if (batch.length === 4) {
    const b = batch[1];
    batch[0].data = JSON.parse(Buffer.from(b.buffer, b.byteOffset + 2, batch[3] - 2).toString('utf8'));
    return;
  }
  const all = Buffer.allocUnsafe(size);
  let at = 0;
  all[at++] = 0x5b; // [
  for (let k = 0; k < batch.length; k += 4) {
    if (k > 0) all[at++] = 0x2c; // ,
    const b = batch[k + 1];
    all.set(b.subarray(batch[k + 2], batch[k + 3]), at);
    at += batch[k + 3] - batch[k + 2];
  }
  all[at++] = 0x5d; // ]
  const values = JSON.parse(all.toString('utf8', 0, at));
  for (let k = 0; k < batch.length; k += 4) batch[k].data = values[k >> 2];
}

/* ---- hub: one client, many namespaces -------------------------------------------- */

const UNREADABLE_LOG_MS = 10000;

/** A selector in a log line: its rooms and socket ids, cut short. */
function describeTo(to) {
  if (!to) return 'everyone';
  const names = [].concat((to.rooms || []).map((r) => `room "${r}"`), (to.socketIds || []).map((s) => `socket ${s}`));
  if (to.all) names.unshift('everyone');
  const s = names.slice(0, 3).join(', ') + (names.length > 3 ? `, ... (${names.length})` : '');
  return s.length > 200 ? s.slice(0, 200) + '...' : s || 'nobody';
}

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
    // sidecastd cannot be reached (logged once by the client): to every namespace
    this._onUnreachable = (info) => {
      for (const a of this.adapters.values()) a.emit('unreachable', info);
    };
    this.client.on('unreachable', this._onUnreachable);
    this.client.addProvider(this);
  }

  add(adapter) {
    this.adapters.set(adapter.nsp.name, adapter);
    this._last = null;
  }

  remove(adapter) {
    if (this.adapters.get(adapter.nsp.name) === adapter) this.adapters.delete(adapter.nsp.name);
    if (this._last === adapter) this._last = null;
    if (this.adapters.size === 0) this.client.off('unreachable', this._onUnreachable);
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

  /**
   * A message this app cannot use: counted (sidecast_app_unreadable_total)
   * and logged, at most once every UNREADABLE_LOG_MS with the count since,
   * never dropped without a word.
   */
  _unreadable(reason, what) {
    const c = this.client.counters;
    if (reason === 'payload') c.unreadablePayload++;
    else c.unknownNamespace++;
    this._unread = (this._unread || 0) + 1;
    const now = Date.now();
    if (this._unreadAt && now - this._unreadAt < UNREADABLE_LOG_MS) return;
    this._unreadAt = now;
    this.client.logger.warn(
      `sidecast: ${this._unread} message(s) from sidecastd this app could not use since the last report; ` +
        `last: ${what} (counted in sidecast_app_unreadable_total)`,
    );
    this._unread = 0;
  }

  onDeliver(d, ackId) {
    const readable = d.payload.length && d.payload[0] === KIND_BROADCAST;
    const a = readable ? this.adapterOf(d.to) : undefined;
    if (!a) {
      if (readable) this._unreadable('namespace', `an emit to ${describeTo(d.to)} of no namespace this app serves`);
      else this._unreadable('payload', `an emit to ${describeTo(d.to)} whose ${d.payload.length}-byte payload is not in the socket.io mapping (kind ${d.payload.length ? d.payload[0] : 'none'})`);
      if (ackId) this.client.ack(ackId, { done: true });
      return true;
    }
    a._onDeliver(d, ackId);
    return true;
  }

  onApply(ap) {
    const a = this.adapterOf(ap.filter);
    if (a) a._onApply(ap);
    else this._unreadable('namespace', `an apply to ${describeTo(ap.filter)} of no namespace this app serves`);
    return true;
  }

  onServerMessage(m) {
    const p = m.payload;
    if (p.length && p[0] === KIND_PROBE) {
      if (m.ackId) this.client.ack(m.ackId, { payloads: [PROBE], done: true });
      return;
    }
    if (p.length < 3 || p[0] !== KIND_SERVER_EMIT) {
      this._unreadable('payload', `a server message from node ${m.originNode || '?'} not in the socket.io mapping`);
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

const classes = new Map(); // the app's socket.io-adapter Adapter -> our class extending it

/**
 * The adapter class on the app's in-memory Adapter (socket.io-adapter is a
 * peer dependency: the copy the app's socket.io uses, see internals.js).
 * @param {Function} Base socket.io-adapter's Adapter
 */
function adapterClass(Base) {
  let C = classes.get(Base);
  if (C) return C;
  class SidecastAdapter extends Base {
    /**
     * @param {import('socket.io').Namespace} nsp
     * @param {Hub} hub
     * @param {object} opts createAdapter options
     */
    constructor(nsp, hub, opts, peers) {
      super(nsp);
      this.hub = hub;
      /** the app's socket.io-adapter / -parser / ws (internals.peersOf) and what this namespace offers */
      this._peers = peers;
      this._caps = I.probeNamespace(nsp);
      this._parser = this._caps.parser || peers.parser;
      this._wsFrames = peers.wsFrames;
      /** socket.handshake shipped for other nodes' fetchSockets(): true (default), false, or (socket) => object */
      this._handshake = opts.handshake === undefined ? true : opts.handshake;
      /** what this adapter refused or sent (client-side; sidecastd counts its own refusals) */
      this.stats = { refusedTooLarge: 0, dataSent: 0, dataChecked: 0 };
      /** the SidecastClient this adapter talks through */
      this.client = hub.client;
      this.opts = opts;
      this.requestsTimeout = opts.requestsTimeout > 0 ? opts.requestsTimeout : 5000;
      this._key = nsp.name; // the namespace's "everyone" room
      this._prefix = nsp.name + ',';
      this._meta = new Map(); // socket id -> {sessionId, userId, data: Buffer}
      this._dirty = new Set(); // ids whose socket.data was read or assigned since the last flush
      this._recent = new Set(); // ids checked at the last flush: checked once more (a change after an await)
      // ids whose socket.data was read or assigned since their last packet:
      // the next packet to the socket's client checks them again, however
      // long the await between the read and the change took
      this._touched = new Set();
      this._dirtyScheduled = false;
      this._recentTimer = null;
      this._ackCountOnce = false;
      this._fetchIds = idStore(0, 0); // socket ids of the last fetchSockets() answer, in order (see reuseId)
      /** other nodes' fetchSockets() answers kept for the next fetch (see keepContext); opts.keepFetches false: none */
      this._fetchKept = opts.keepFetches === false ? null : new Map();
      this._onDirty = this._flushDirty.bind(this);
      this._onRecent = () => {
        this._recentTimer = null;
        if (this._recent.size) this._flushDirty();
      };
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
      clearTimeout(this._recentTimer);
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
        this._recent.delete(id);
        this._touched.delete(id);
      }
      super.delAll(id);
    }

    _socketUp(id, socket) {
      I.probeSocket(this._caps, socket);
      const meta = { up: true, sessionId: (socket.conn && socket.conn.id) || '', userId: '', data: undefined, hs: undefined };
      if (typeof this.opts.userId === 'function') {
        const u = this.opts.userId(socket);
        if (u != null && u !== '') meta.userId = String(u);
      }
      meta.data = this._encodeData(socket, meta);
      I.watchData(socket);
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
      this._flushDirty(false); // meta.data brought up to date; the SocketUps carry it
      for (const [id, meta] of this._meta) if (meta.up && this.sids.has(id)) send(this._upMessage(id, meta));
    }

    /**
     * socket.data (and, unless the handshake option is false, the handshake)
     * as sidecastd holds it: codec [data, handshake]. The handshake does not
     * change: its JSON is made once per socket (meta.hs) and spliced in.
     * undefined: nothing to ship.
     */
    _encodeData(socket, meta) {
      const data = I.dataOf(socket);
      const h = this._handshake;
      // no handshake and socket.io's default socket.data, {}: nothing to ship (fetch turns no data into {})
      if (!h) return data === undefined || isEmptyObject(data) ? undefined : codec.encode([data]);
      if (meta.hs === undefined) {
        const hs = typeof h === 'function' ? h(socket) : socket.handshake;
        meta.hs = { value: hs, json: codec.hasBinary(hs, 0) ? null : JSON.stringify(hs === undefined ? null : hs) };
      }
      let out;
      if (meta.hs.json !== null && !codec.hasBinary(data, 0)) {
        const dj = JSON.stringify(data);
        const json = '[' + (dj === undefined ? 'null' : dj) + ',' + meta.hs.json + ']';
        out = Buffer.allocUnsafe(1 + Buffer.byteLength(json));
        out[0] = 0; // codec's plain JSON
        out.utf8Write(json, 1);
      } else out = codec.encode([data, meta.hs.value]);
      if (out.length > HANDSHAKE_DATA_MAX) {
        // the handshake (large headers, say) would make sidecastd refuse the socket: without it
        if (!this._warnedHandshake) {
          this._warnedHandshake = true;
          this.client.logger.warn(
            `sidecast: socket.data with the handshake of socket ${socket.id} is ${out.length} bytes; ` +
              `shipping such sockets without their handshake (pick fields with the adapter's handshake option)`,
          );
        }
        return data === undefined || isEmptyObject(data) ? undefined : codec.encode([data]);
      }
      return out;
    }

    /** socket.data was read or assigned (internals' accessor): compare it at the end of this turn. */
    [I.TOUCH](socket) {
      this._touched.add(socket.id);
      this._markDirty(socket.id);
    }

    /**
     * A packet to this socket's client (internals' Socket#packet hook). A
     * socket whose data was read since its last packet is checked now, and
     * a change written to sidecastd before the packet leaves: whoever the
     * packet reaches and then asks sees it (socket.data.x = await f(); cb()).
     */
    [I.SENDING](socket) {
      if (this._touched.delete(socket.id)) {
        const sent = this.stats.dataSent;
        this._checkData(socket.id, true);
        if (this.stats.dataSent !== sent) this.client.flush();
      } else if (this._recent.has(socket.id)) {
        this._markDirty(socket.id);
      }
    }

    _markDirty(id) {
      this._dirty.add(id);
      if (!this._dirtyScheduled) {
        this._dirtyScheduled = true;
        setImmediate(this._onDirty);
      }
    }

    /**
     * Send the data of every socket whose socket.data was read or assigned
     * since the last flush, if its encoding changed. Runs at the end of the
     * turn of the read (setImmediate), and before this adapter sends an emit
     * or a server emit, so a change made before is seen by whoever the emit
     * makes ask. Each socket is checked once more at the next flush (at most
     * 100 ms later): a change made after an await of the turn that read
     * socket.data (`socket.data.x = await f()`).
     */
    _flushDirty(send = true) {
      this._dirtyScheduled = false;
      const recent = this._recent;
      const dirty = this._dirty;
      if (!dirty.size && !recent.size) return;
      for (const id of recent) if (!dirty.has(id)) this._checkData(id, send);
      for (const id of dirty) this._checkData(id, send);
      recent.clear();
      this._recent = dirty;
      this._dirty = recent;
      if (this._recent.size && this._recentTimer === null) {
        this._recentTimer = setTimeout(this._onRecent, 100);
        this._recentTimer.unref();
      }
    }

    _checkData(id, send) {
      const socket = this.nsp.sockets.get(id);
      const meta = this._meta.get(id);
      if (!socket || !meta || !meta.up) return;
      this.stats.dataChecked++;
      const next = this._encodeData(socket, meta);
      const prev = meta.data;
      if (next === undefined ? prev === undefined || prev.length === 0 : prev !== undefined && next.equals(prev)) return;
      meta.data = next || Buffer.alloc(0);
      if (!send) return;
      this.stats.dataSent++;
      this.client.sendSetData(id, meta.data);
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

    /**
     * An emit over sidecastd's payload limit is refused before anybody gets
     * it: counted, reported as an 'error' event (if listened to), thrown.
     */
    _refuse(err) {
      this.stats.refusedTooLarge++;
      this.client.counters.refusedTooLarge++;
      if (this.listenerCount('error')) this.emit('error', err);
      return err;
    }

    /** Local sockets a broadcast with these options reaches, at most (for FLUSH_FIRST). */
    _localCount(opts) {
      const rooms = opts.rooms;
      if (!rooms || rooms.size === 0) return this.sids.size;
      let n = 0;
      for (const r of rooms) {
        const m = this.rooms.get(r);
        if (m) n += m.size;
      }
      return n;
    }

    broadcast(packet, opts) {
      if (this._dirty.size !== 0 || this._recent.size !== 0) this._flushDirty();
      const flags = opts.flags || {};
      packet.nsp = this.nsp.name;
      const encoded = this.encoder.encode(packet);
      if (!flags.local) {
        // sidecastd first: refused as a whole if too large, and other nodes start while we write
        const to = this._selector(opts);
        const payload = encodeBroadcast(encoded, flags, null);
        const tooLarge = this.client.payloadError(to, payload);
        if (tooLarge !== null) throw this._refuse(tooLarge);
        this.client.broadcastRaw(to, payload, flags.volatile ? VOLATILE : undefined);
        if (this._localCount(opts) >= FLUSH_FIRST) this.client.flush();
      }
      if (this._caps.write === false) return super.broadcast(packet, opts); // socket.io's own path
      const packetOpts = { preEncoded: true, volatile: flags.volatile, compress: flags.compress };
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
    }

    _writeLocal(socket, packet, encoded, packetOpts) {
      // the WebSocket frame is built once, and only if a local socket gets it
      // (engine.io takes any wsPreEncodedFrame that is not undefined: never set it to null)
      if (!packetOpts.scFramed) {
        packetOpts.scFramed = true;
        if (this._wsFrames && encoded.length === 1 && typeof encoded[0] === 'string')
          packetOpts.wsPreEncodedFrame = wsFrame(encoded[0]);
      }
      if (this._co) this._co.beforeWriteConn(socket.client.conn);
      I.writeEncoded(socket, encoded, packetOpts, packet, this._caps.notify);
    }

    /** A Deliver, when socket.io has no writeToEngine(): decoded and handed to the in-memory adapter. */
    _deliverPublic(d, ackId) {
      const b = decodeBroadcast(d.payload);
      const packet = decodePackets(b.packets, this._parser);
      const opts = this._localOpts(d.to || NO_ONE);
      const packetOpts = { preEncoded: true, volatile: !!(b.flags & FLAG_VOLATILE), compress: !!(b.flags & FLAG_COMPRESS) };
      if (ackId) return this._deliverWithAck(opts, b.packets, packetOpts, ackId, b.timeoutMs);
      if (!packet) return;
      opts.flags = { volatile: packetOpts.volatile, compress: packetOpts.compress };
      super.broadcast(packet, opts);
    }

    _onDeliver(d, ackId) {
      if (this._caps.write === false) return this._deliverPublic(d, ackId);
      const p = d.payload;
      const f = p[1];
      let packets;
      let packetOpts;
      if (!ackId && !(f & (FLAG_ACK | FLAG_PARTS)) && p.length >= 2) {
        // one string packet, no acks (decodeBroadcast's result, without its object)
        const text = p.utf8Slice(2, p.length); // p.toString('utf8', 2) without its argument checks
        packets = [text];
        packetOpts = { preEncoded: true, volatile: !!(f & FLAG_VOLATILE), compress: !!(f & FLAG_COMPRESS) };
        if (this._wsFrames) packetOpts.wsPreEncodedFrame = wsFrameOfBytes(p, 2, p.length, text);
      } else {
        const b = decodeBroadcast(p);
        packets = b.packets;
        packetOpts = { preEncoded: true, volatile: !!(b.flags & FLAG_VOLATILE), compress: !!(b.flags & FLAG_COMPRESS) };
        if (ackId) return this._deliverWithAck(this._localOpts(d.to || NO_ONE), packets, packetOpts, ackId, b.timeoutMs);
        if (this._wsFrames && packets.length === 1 && typeof packets[0] === 'string')
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
      let packet = null;
      if (this._caps.notify && I.hasOutgoingListeners(socket)) {
        if (!ctx.packet) ctx.packet = decodePackets(ctx.packets, this._parser);
        packet = ctx.packet;
      }
      if (this._co) this._co.beforeWriteConn(socket.client.conn);
      I.writeEncoded(socket, ctx.packets, ctx.packetOpts, packet, packet !== null);
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
      if (this._dirty.size !== 0 || this._recent.size !== 0) this._flushDirty();
      const packetOpts = { preEncoded: true, volatile: flags.volatile, compress: flags.compress };
      packet.nsp = this.nsp.name;
      const timeout = flags.timeout > 0 ? flags.timeout : this.requestsTimeout;
      const to = this._selector(opts);
      const fast = this._caps.ids && this._caps.write !== false && this._caps.acks !== false;
      let count = 0;
      let encoded;
      if (fast) {
        packet.id = this.nsp._ids++;
        encoded = typeof this._encode === 'function' ? this._encode(packet, packetOpts) : this.encoder.encode(packet);
        const tooLarge = this.client.payloadError(to, encodeBroadcast(encoded, flags, timeout));
        if (tooLarge !== null) throw this._refuse(tooLarge);
      } else {
        // socket.io's own path numbers the packet and writes locally first (checked with a long id)
        packet.id = 0x7fffffff;
        const tooLarge = this.client.payloadError(to, encodeBroadcast(this.encoder.encode(packet), flags, timeout));
        if (tooLarge !== null) throw this._refuse(tooLarge);
        super.broadcastWithAck(packet, opts, (n) => (count += n), ack);
        encoded = this.encoder.encode(packet);
      }
      // We report every server's count at once (when sidecastd says all nodes
      // answered), so the serverCount() socket.io asks right after is 1.
      this._countOnce();
      this.client
        .broadcastWithAck(
          to,
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
      if (!fast) return;
      if (this._localCount(opts) >= FLUSH_FIRST) this.client.flush();
      this.apply(opts, (socket) => {
        count++;
        socket.acks.set(packet.id, ack);
        I.writeEncoded(socket, encoded, packetOpts, packet, this._caps.notify);
      });
    }

    /** A Deliver that wants acks: deliver, then answer expect, answers, done. */
    _deliverWithAck(opts, packets, packetOpts, ackId, timeoutMs) {
      const packet = decodePackets(packets, this._parser);
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
      const ctx = await this._fetchRemote(this._selector(opts), true);
      const out = this._localSockets(opts);
      const list = ctx.list;
      if (ctx.next.count || !list.length) this._fetchIds = ctx.next; // all kept: the ids stay
      if (ctx.withData) {
        if (this._peers.lazyHandshake) decodeDataLazy(list, ctx.withData);
        else decodeDataAll(list);
      }
      for (let i = 0; i < list.length; i++) out.push(list[i]);
      return out;
    }

    /** Every other app's sockets for filter `sel`, decoded into ctx.list (and their answers kept, see keepContext). */
    async _fetchRemote(sel, useKept) {
      const ctx = fetchContext(this._prefixBytes || (this._prefixBytes = Buffer.from(this._prefix)), this._fetchIds);
      const q = { withData: true, withRooms: true, excludeSelf: true };
      // kept answers only through a sidecastd that passes "unchanged" on (an older one drops it)
      const store = this.client.hasFeatures(KEPT_ANSWERS) ? this._fetchKept : null;
      let onMeta;
      let key;
      if (store) {
        key = JSON.stringify(sel);
        const kept = useKept ? store.get(key) : undefined;
        keepContext(ctx, kept);
        q.known = kept ? Array.from(kept, ([nodeId, a]) => ({ nodeId, etag: a.etag })) : [];
        onMeta = (kind, v) => onFetchMeta(ctx, kind, v);
      }
      await this.client._fetchSocketsWith(sel, q, (buf, start, end) => decodeEntry(buf, start, end, ctx), onMeta);
      if (!store) return ctx;
      // a node named in `known` that sent neither entries nor "unchanged" (its
      // answer lost, or it left): ask again, in full, rather than guess
      if (ctx.kept) for (const node of ctx.kept.keys()) if (!ctx.answers.has(node)) ctx.miss = true;
      if (ctx.miss) return this._fetchRemote(sel, false);
      keepAnswers(store, key, ctx);
      return ctx;
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
      const payload = encodeServerEmit(this.nsp.name, packet);
      const tooLarge = this.client.payloadError(null, payload);
      if (tooLarge !== null) throw this._refuse(tooLarge);
      if (this._dirty.size !== 0 || this._recent.size !== 0) this._flushDirty();
      if (!withAck) {
        this.client.serverEmit(payload).catch((err) => {
          if (this.listenerCount('error')) this.emit('error', err);
        });
        return;
      }
      let expected = 0; // answers the servers that got it announced
      const responses = [];
      let last = null; // the last Progress
      let settled = false;
      const settle = (err) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) err.responses = responses;
        ack(err, responses);
      };
      // sidecastd's answer at its request_timeout_ms says who did not answer: it wins
      // over this timer, which fires only if it does not come (a margin later)
      const timer = setTimeout(
        () => settle(this._serverEmitTimeout(responses.length, expected, last, `no final answer from sidecastd within ${this.requestsTimeout + CLUSTER_MARGIN_MS} ms`)),
        this.requestsTimeout + CLUSTER_MARGIN_MS,
      );
      this.client
        .serverEmit(payload, {
          onProgress: (p) => {
            last = p;
            expected += p.expect;
            for (const pl of p.payloads) {
              if (pl.length === 1 && pl[0] === KIND_ABSENT) expected--;
              else responses.push(codec.decode(pl)[0]);
            }
            if (p.done) {
              if (p.timedOut || responses.length < expected)
                settle(this._serverEmitTimeout(responses.length, expected, p, null));
              else settle(null);
            }
          },
          timeout: this.requestsTimeout + 2 * CLUSTER_MARGIN_MS,
        })
        .catch((err) => settle(err));
    }

    /**
     * socket.io's "timeout reached: only N responses received out of M",
     * where M counts the servers of the nodes that never answered too (at
     * least one each), and then what sidecastd said: how many nodes were
     * expected, how many answered, which did not.
     */
    _serverEmitTimeout(got, expected, p, why) {
      const exp = p ? p.nodesExpected || 0 : 0;
      const ans = p ? p.nodesAnswered || 0 : 0;
      const missing = p && p.nodesMissing ? p.nodesMissing : [];
      const silent = Math.max(0, exp - ans);
      let msg = `timeout reached: only ${got} responses received out of ${silent ? 'at least ' : ''}${expected + silent}`;
      const detail = [];
      if (why) detail.push(why);
      if (exp) detail.push(`${ans} of ${exp} nodes answered`);
      if (missing.length) detail.push(`no answer from ${missing.join(', ')}${silent > missing.length ? ` and ${silent - missing.length} more` : ''}`);
      if (detail.length) msg += ` (${detail.join('; ')})`;
      const err = new TimeoutError(msg);
      err.nodesExpected = exp;
      err.nodesAnswered = ans;
      err.nodesMissing = missing;
      return err;
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
      I.serverSideEmitArrived(this.nsp, args);
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
  classes.set(Base, SidecastAdapter);
  return SidecastAdapter;
}

/**
 * @param {object} [opts]
 * @param {string} [opts.path] sidecastd socket ($SIDECAST_SOCKET or /run/sidecast/sidecast.sock)
 * @param {SidecastClient} [opts.client] an existing client to use (not closed by the adapter)
 * @param {(socket) => string|undefined} [opts.userId] user id of a socket, registered for lookups / presence
 * @param {boolean|((socket) => object)} [opts.handshake=true] ship socket.handshake (or this function's result) for other nodes' fetchSockets(); false: none (less memory in sidecastd, smaller fetchSockets answers)
 * @param {boolean} [opts.keepFetches=true] keep other nodes' fetchSockets() answers (4 filters): a node whose sockets did not change since answers "unchanged"; false: every answer in full
 * @param {{warn: Function, info?: Function}|false} [opts.logger=console] where an outage of sidecastd is logged (once)
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
    const peers = I.peersOf(nsp.server);
    const C = adapterClass(peers.Adapter);
    return new C(nsp, hub, o, peers);
  };
}

// internals, for the unit tests
const _internals = { encodeBroadcast, decodeBroadcast, decodeEntry, fetchContext, idStore, wsFrame, wsFrameOfBytes };

module.exports = {
  createAdapter,
  /** the adapter class on the default socket.io's Adapter (adapters of another copy extend that one's) */
  get SidecastAdapter() {
    return adapterClass(I.peersOf(null).Adapter);
  },
  _internals,
};
