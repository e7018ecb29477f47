'use strict';
/**
 * Values that cross the cluster inside opaque payloads (socket.data,
 * serverSideEmit arguments, ack responses): JSON, with Buffers / typed arrays
 * carried out of band so binary survives. Layout:
 *   0x00 <json utf8>                                  no binary inside
 *   0x01 <u32 json len> <json> (<u32 len> <bytes>)*   binary parts, referenced
 *                                                     from the JSON as {"_sc_bin": i}
 * `undefined` encodes as an empty JSON document and decodes back to undefined.
 */

const PLAIN = 0;
const WITH_BINARY = 1;
const KEY = '_sc_bin';

function isBinary(v) {
  return Buffer.isBuffer(v) || v instanceof ArrayBuffer || ArrayBuffer.isView(v);
}

function toBuffer(v) {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof ArrayBuffer) return Buffer.from(v);
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

function hasBinary(v, depth) {
  if (v === null || typeof v !== 'object' || depth > 64) return false;
  if (isBinary(v)) return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (hasBinary(v[i], depth + 1)) return true;
    return false;
  }
  if (typeof v.toJSON === 'function') return false;
  for (const k in v) if (hasBinary(v[k], depth + 1)) return true;
  return false;
}

/** @param {*} value @returns {Buffer} */
function encode(value) {
  if (value === undefined) return Buffer.from([PLAIN]);
  if (!hasBinary(value, 0)) {
    const json = JSON.stringify(value);
    const out = Buffer.allocUnsafe(1 + Buffer.byteLength(json));
    out[0] = PLAIN;
    out.write(json, 1);
    return out;
  }
  const parts = [];
  const json = JSON.stringify(value, function (k, v) {
    // Buffer.toJSON runs before the replacer sees it: check the holder
    const raw = this[k];
    if (raw !== null && typeof raw === 'object' && isBinary(raw)) {
      parts.push(toBuffer(raw));
      return { [KEY]: parts.length - 1 };
    }
    return v;
  });
  const jl = Buffer.byteLength(json);
  let size = 5 + jl;
  for (const p of parts) size += 4 + p.length;
  const out = Buffer.allocUnsafe(size);
  out[0] = WITH_BINARY;
  out.writeUInt32BE(jl, 1);
  out.write(json, 5);
  let at = 5 + jl;
  for (const p of parts) {
    out.writeUInt32BE(p.length, at);
    p.copy(out, at + 4);
    at += 4 + p.length;
  }
  return out;
}

/** @param {Uint8Array} buf @returns {*} */
function decode(buf) {
  if (!buf || buf.length === 0) return undefined;
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b[0] === PLAIN) return b.length === 1 ? undefined : JSON.parse(b.toString('utf8', 1));
  if (b[0] !== WITH_BINARY) throw new Error('sidecast: unknown value encoding ' + b[0]);
  const jl = b.readUInt32BE(1);
  const parts = [];
  for (let at = 5 + jl; at < b.length; ) {
    const n = b.readUInt32BE(at);
    // copy: the frame buffer this slice points into is reused by nobody, but a
    // copy keeps a small value from pinning a large read chunk
    parts.push(Buffer.from(b.subarray(at + 4, at + 4 + n)));
    at += 4 + n;
  }
  return JSON.parse(b.toString('utf8', 5, 5 + jl), (k, v) =>
    v !== null && typeof v === 'object' && typeof v[KEY] === 'number' && Object.keys(v).length === 1
      ? parts[v[KEY]]
      : v,
  );
}

/**
 * Decode many values at once (fetchSockets of thousands of sockets): plain
 * JSON ones are joined into one array and parsed with one JSON.parse.
 * @param {Array<Uint8Array|undefined>} bufs
 * @returns {Array<*>}
 */
function decodeMany(bufs) {
  let size = 2;
  let plain = 0;
  for (const b of bufs) {
    if (b && b.length > 1 && b[0] === PLAIN) {
      size += b.length; // its tag byte's place holds the comma
      plain++;
    }
  }
  const out = new Array(bufs.length);
  let parsed = null;
  if (plain > 1) {
    const all = Buffer.allocUnsafe(size);
    let at = 0;
    all[at++] = 0x5b; // [
    for (const b of bufs) {
      if (!(b && b.length > 1 && b[0] === PLAIN)) continue;
      if (at > 1) all[at++] = 0x2c; // ,
      all.set(b.subarray(1), at);
      at += b.length - 1;
    }
    all[at++] = 0x5d; // ]
    parsed = JSON.parse(all.toString('utf8', 0, at));
  }
  let k = 0;
  for (let i = 0; i < bufs.length; i++) {
    const b = bufs[i];
    if (parsed && b && b.length > 1 && b[0] === PLAIN) out[i] = parsed[k++];
    else out[i] = decode(b);
  }
  return out;
}

/**
 * Where the JSON value starting at b[p] ends: the index of the ',' or the
 * closing bracket that follows it at its own level (the value is an element
 * of an array), or -1 if there is none before `end`. Strings are skipped
 * with their escapes; a UTF-8 sequence's bytes are all >= 0x80, so they never
 * look like a delimiter. For codec.encode([data, handshake]) bytes: data is
 * b[2, k), the handshake b[k + 1, length - 1) when b[k] is ','.
 * @param {Uint8Array} b @param {number} p @param {number} end
 */
function jsonValueEnd(b, p, end) {
  let depth = 0;
  for (; p < end; p++) {
    const c = b[p];
    if (c === 0x22) {
      // a string: to its closing quote
      for (p++; p < end; p++) {
        const d = b[p];
        if (d === 0x5c) p++;
        else if (d === 0x22) break;
      }
      if (p >= end) return -1;
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      if (depth === 0) return p;
      depth--;
    } else if (c === 0x2c && depth === 0) return p;
  }
  return -1;
}

module.exports = { encode, decode, decodeMany, hasBinary, jsonValueEnd, PLAIN };
