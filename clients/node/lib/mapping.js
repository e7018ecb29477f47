'use strict';
/**
 * The socket.io mapping's payloads (documented in proto/README.md, "The
 * socket.io mapping"): what the adapter and the emitter put in an Emit or a
 * ServerEmit, opaque to sidecastd. Byte 0 is the kind:
 *   1 broadcast:  [1][flags][u32 timeout ms, if FLAG_ACK] then either the one
 *                 encoded string packet (utf8, rest of the payload) or, with
 *                 FLAG_PARTS, [u8 n] n x ([u8 0=string/1=binary][u32 len][bytes])
 *   2 server-side emit: [2][u16 nsp len][nsp][codec value: the args]
 *   3 server count probe: [3]
 *   4 "namespace absent" answer to a server-side emit: [4]
 * Big-endian. It owns these bytes only: names (rooms "nsp,room") are the
 * callers', and it sends nothing.
 */
const codec = require('./codec');

const KIND_BROADCAST = 1;
const KIND_SERVER_EMIT = 2;
const KIND_PROBE = 3;
const KIND_ABSENT = 4;
const FLAG_COMPRESS = 1;
const FLAG_VOLATILE = 2;
const FLAG_ACK = 4;
const FLAG_PARTS = 8;

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

/** A server-side emit's payload: the namespace and the packet's array (event name first). */
function encodeServerEmit(nsp, args) {
  const name = Buffer.from(nsp);
  const body = codec.encode(args);
  const payload = Buffer.allocUnsafe(3 + name.length + body.length);
  payload[0] = KIND_SERVER_EMIT;
  payload.writeUInt16BE(name.length, 1);
  name.copy(payload, 3);
  body.copy(payload, 3 + name.length);
  return payload;
}

module.exports = {
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
};
