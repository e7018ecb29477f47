'use strict';
/**
 * FrameWriter: the part of protobufjs's Writer interface that the generated
 * encoders in ./proto.js call (uint32, int32, uint64, bool, string, bytes,
 * fork, ldelim), plus fixed32, len and finish, writing every value straight
 * into one growing buffer.
 *
 * protobufjs's Writer records each value as an operation object (a State
 * and a no-op more per sub-message) and replays the list in finish(): for a
 * 170-byte Emit that bookkeeping costs more than the generated encoder
 * itself. The messages are still encoded by the generated code, field by
 * field; only where the bytes go changes, and they are the same bytes:
 * every method does what protobufjs 7's BufferWriter does (strings under 40
 * UTF-16 units through protobufjs's own UTF-8 writer, longer ones through
 * Buffer#utf8Write; 64-bit values through its LongBits), and
 * test/encoding.test.js encodes every kind of frame both ways and compares.
 *
 * Sub-messages: fork() reserves one byte for the length varint; ldelim()
 * writes it there, moving the body up when the length needs more bytes
 * (bodies of 128 bytes and more: one copyWithin).
 *
 * One writer per batch: finish() hands out the buffer (a view of it) and
 * the writer must not be used again. A frame whose encoding throws (a
 * string field given a number, say) is taken back with truncate(), so the
 * batch never carries half a frame.
 */

const { util } = require('protobufjs/minimal');

const { LongBits } = util;
const utf8Write = util.utf8.write;
const SHORT_STRING = 40; // protobufjs writes shorter strings with its own UTF-8 writer

class FrameWriter {
  /** @param {number} [size] initial capacity, bytes */
  constructor(size = 1024) {
    this.buf = Buffer.allocUnsafe(size);
    /** bytes written so far */
    this.len = 0;
    this._forks = []; // offsets of the length bytes reserved by fork()
  }

  /** Room for n more bytes. */
  _room(n) {
    if (this.len + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.len + n));
    this.buf.copy(grown, 0, 0, this.len);
    this.buf = grown;
  }

  _varint(v) {
    const buf = this.buf;
    let at = this.len;
    while (v > 127) {
      buf[at++] = (v & 127) | 128;
      v >>>= 7;
    }
    buf[at++] = v;
    this.len = at;
  }

  _varint64(bits) {
    this._room(10);
    const buf = this.buf;
    let at = this.len;
    let lo = bits.lo;
    let hi = bits.hi;
    while (hi) {
      buf[at++] = (lo & 127) | 128;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    while (lo > 127) {
      buf[at++] = (lo & 127) | 128;
      lo >>>= 7;
    }
    buf[at++] = lo;
    this.len = at;
  }

  uint32(value) {
    this._room(5);
    this._varint(value >>> 0);
    return this;
  }

  int32(value) {
    value |= 0;
    if (value < 0) this._varint64(LongBits.fromNumber(value)); // 10 bytes, as the spec says
    else this.uint32(value);
    return this;
  }

  uint64(value) {
    this._varint64(LongBits.from(value));
    return this;
  }

  bool(value) {
    this._room(1);
    this.buf[this.len++] = value ? 1 : 0;
    return this;
  }

  fixed32(value) {
    value >>>= 0;
    this._room(4);
    const buf = this.buf;
    const at = this.len;
    buf[at] = value & 255;
    buf[at + 1] = (value >>> 8) & 255;
    buf[at + 2] = (value >>> 16) & 255;
    buf[at + 3] = value >>> 24;
    this.len = at + 4;
    return this;
  }

  string(value) {
    if (typeof value !== 'string' || value.length >= SHORT_STRING) {
      const n = Buffer.byteLength(value); // throws like protobufjs for a non-string
      this.uint32(n);
      if (n) {
        this._room(n);
        this.buf.utf8Write(value, this.len, n);
        this.len += n;
      }
      return this;
    }
    // at most 3 bytes per UTF-16 unit: under 40 units the length is one byte
    this._room(1 + 3 * value.length);
    const at = this.len;
    const n = utf8Write(value, this.buf, at + 1);
    this.buf[at] = n;
    this.len = at + 1 + n;
    return this;
  }

  bytes(value) {
    if (typeof value === 'string') value = Buffer.from(value, 'base64'); // as protobufjs does
    const n = value.length >>> 0;
    this.uint32(n);
    if (n) {
      this._room(n);
      this.buf.set(value, this.len);
      this.len += n;
    }
    return this;
  }

  fork() {
    this._room(1);
    this._forks.push(this.len++);
    return this;
  }

  ldelim() {
    const at = this._forks.pop();
    const n = this.len - at - 1;
    if (n < 128) {
      this.buf[at] = n;
      return this;
    }
    const size = n < 16384 ? 2 : n < 2097152 ? 3 : n < 268435456 ? 4 : 5;
    this._room(size - 1);
    this.buf.copyWithin(at + size, at + 1, this.len);
    const end = this.len + size - 1;
    this.len = at;
    this._varint(n);
    this.len = end;
    return this;
  }

  /** Forget everything written from offset `len` on (a frame whose encoding threw). */
  truncate(len) {
    this.len = len;
    this._forks.length = 0;
  }

  /** The bytes written (a view of the writer's buffer). */
  finish() {
    return this.buf.subarray(0, this.len);
  }
}

module.exports = { FrameWriter };
