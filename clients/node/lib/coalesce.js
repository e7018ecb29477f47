'use strict';
/**
 * Write coalescing for deliveries to socket.io clients.
 *
 * engine.io's WebSocket transport is "not writable" from a write until that
 * write's callback (a process.nextTick when the write completed at once).
 * Messages for the same client in between wait in engine.io's write buffer
 * and are then flushed as one ws frame, and so one writev(2), each. When one
 * turn of the event loop delivers several messages to a client (a burst of
 * room emits, one read from sidecastd holding several Deliver frames), the
 * adapter corks that client's TCP stream from its second message until
 * setImmediate, which runs after that flush: the flush becomes one writev.
 * Fewer system calls for the server, fewer TCP segments and reads for the
 * client; on a loaded node that is most of the cost of a delivery.
 *
 * Nothing else changes: order is engine.io's buffer order, then the
 * stream's; volatile packets are dropped by socket.io as before (it looks at
 * transport.writable, which corking does not touch); a client whose transport
 * is writable, or is not a WebSocket, is never corked. Every cork is undone
 * in the same event-loop iteration.
 */

const { rawStreamOf } = require('./internals');

const MARK = Symbol('sidecast.corkedIn');

class Coalescer {
  constructor() {
    this._corked = [];
    this._turn = 1; // streams corked in this turn carry it in [MARK]
    this._uncork = this._uncork.bind(this);
    /** streams corked so far (each saved at least one writev) */
    this.corked = 0;
  }

  /** Call before writing to socket.io socket `socket`. */
  beforeWrite(socket) {
    const client = socket.client;
    this.beforeWriteConn(client && client.conn);
  }

  /** beforeWrite() by the socket's engine.io connection (socket.client.conn, what socket.conn returns). */
  beforeWriteConn(conn) {
    const raw = rawStreamOf(conn);
    if (raw === null || raw[MARK] === this._turn) return;
    raw[MARK] = this._turn;
    raw.cork();
    this.corked++;
    if (this._corked.push(raw) === 1) setImmediate(this._uncork);
  }

  _uncork() {
    const list = this._corked;
    this._corked = [];
    this._turn++;
    for (let i = 0; i < list.length; i++) list[i].uncork();
  }
}

/** One per process: corks of every adapter are undone by one setImmediate. */
const shared = new Coalescer();

module.exports = { Coalescer, shared };
