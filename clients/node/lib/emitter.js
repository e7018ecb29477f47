'use strict';
/**
 * Emitter: socket.io emits from a process that has no socket.io server (a
 * worker, a cron job, another service), in the shape of
 * @socket.io/redis-emitter:
 *
 *   const { Emitter } = require('sidecast');
 *   const emitter = new Emitter();                   // the local sidecastd
 *   emitter.to('lobby').emit('news', { id: 7 });
 *   emitter.of('/admin').except('muted').emit('alert', 'disk full');
 *   emitter.in('lobby').socketsJoin('announcements');
 *   emitter.serverSideEmit('reload-config');
 *
 * It writes the socket.io mapping (proto/README.md, lib/mapping.js) through
 * a connection of its own to sidecastd: rooms as "nsp,room", the packet
 * encoded by socket.io-parser (the app's copy: a socket.io server reads
 * what that writes), binary arguments as attachments. It owns its
 * connection (or uses the `client` given) and nothing else; it keeps no
 * state of the cluster.
 */
const { SidecastClient, sel } = require('./client');
const { encodeBroadcast, encodeServerEmit } = require('./mapping');

// socket.io's own reserved event names: socket.io refuses them in emit()
const RESERVED = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener']);
const EVENT = 2; // socket.io-parser PacketType.EVENT
const VOLATILE = { volatile: true };

let parser = null;
/** The app's socket.io-parser (a dependency of socket.io), loaded at the first emit. */
function encoder() {
  if (parser === null) {
    try {
      parser = require('socket.io-parser');
    } catch (e) {
      throw new Error(`sidecast Emitter needs socket.io-parser (install socket.io or socket.io-parser): ${e.message}`);
    }
  }
  return new parser.Encoder();
}

function nspName(nsp) {
  if (typeof nsp !== 'string' || nsp === '') return '/';
  return nsp[0] === '/' ? nsp : '/' + nsp;
}

class BroadcastOperator {
  /**
   * @param {Emitter} emitter
   * @param {string} nsp
   * @param {Set<string>} rooms
   * @param {Set<string>} except
   * @param {{volatile?: boolean, compress?: boolean}} flags
   */
  constructor(emitter, nsp, rooms = new Set(), except = new Set(), flags = {}) {
    this.emitter = emitter;
    this.nsp = nsp;
    this.rooms = rooms;
    this.exceptRooms = except;
    this.flags = flags;
  }

  /** Only to the clients in these rooms (a socket id is a room too). */
  to(room) {
    const rooms = new Set(this.rooms);
    for (const r of Array.isArray(room) ? room : [room]) rooms.add(String(r));
    return new BroadcastOperator(this.emitter, this.nsp, rooms, this.exceptRooms, this.flags);
  }

  in(room) {
    return this.to(room);
  }

  /** Not to the clients in these rooms. */
  except(room) {
    const except = new Set(this.exceptRooms);
    for (const r of Array.isArray(room) ? room : [room]) except.add(String(r));
    return new BroadcastOperator(this.emitter, this.nsp, this.rooms, except, this.flags);
  }

  /** May be dropped for a slow or disconnected client (socket.io's volatile). */
  get volatile() {
    return new BroadcastOperator(this.emitter, this.nsp, this.rooms, this.exceptRooms, { ...this.flags, volatile: true });
  }

  compress(compress) {
    return new BroadcastOperator(this.emitter, this.nsp, this.rooms, this.exceptRooms, { ...this.flags, compress: !!compress });
  }

  /** The sidecast selector: "nsp,room" names, the namespace's own room for everyone. */
  _selector() {
    const key = (r) => `${this.nsp},${r}`;
    const rooms = this.rooms.size ? [...this.rooms].map(key) : [this.nsp];
    const except = this.exceptRooms.size ? [...this.exceptRooms].map(key) : undefined;
    return sel(rooms, undefined, undefined, except, undefined, undefined);
  }

  /**
   * Emit to every client selected. Acknowledgements are not supported (as
   * with @socket.io/redis-emitter): a callback as last argument throws.
   * @returns {boolean} true (socket.io's emit() returns true)
   */
  emit(ev, ...args) {
    if (RESERVED.has(ev)) throw new Error(`"${ev}" is a reserved event name`);
    if (typeof args[args.length - 1] === 'function') throw new Error('the Emitter does not support acknowledgements');
    const encoded = encoder().encode({ type: EVENT, data: [ev, ...args], nsp: this.nsp });
    const to = this._selector();
    const payload = encodeBroadcast(encoded, this.flags, null);
    const client = this.emitter.client;
    const tooLarge = client.payloadError(to, payload);
    if (tooLarge !== null) throw tooLarge;
    client.broadcastRaw(to, payload, this.flags.volatile ? VOLATILE : undefined);
    return true;
  }

  /** The selected clients join these rooms (on whichever node they are). */
  socketsJoin(rooms) {
    return this._apply({ join: this._keys(rooms) });
  }

  /** The selected clients leave these rooms. */
  socketsLeave(rooms) {
    return this._apply({ leave: this._keys(rooms) });
  }

  /** Disconnect the selected clients (close: their underlying connection too). */
  disconnectSockets(close = false) {
    return this._apply({ disconnect: true, close: !!close });
  }

  /**
   * Emit to every socket.io server of the cluster (their namespace's
   * on(ev) handlers), as io.serverSideEmit() does. No acknowledgements.
   * Rooms do not apply (as in socket.io).
   */
  serverSideEmit(ev, ...args) {
    if (RESERVED.has(ev)) throw new Error(`"${ev}" is a reserved event name`);
    if (typeof args[args.length - 1] === 'function') throw new Error('the Emitter does not support acknowledgements');
    const payload = encodeServerEmit(this.nsp, [ev, ...args]);
    const client = this.emitter.client;
    const tooLarge = client.payloadError(null, payload);
    if (tooLarge !== null) throw tooLarge;
    return client.serverEmit(payload).then(() => undefined);
  }

  _keys(rooms) {
    return (Array.isArray(rooms) ? rooms : [rooms]).map((r) => `${this.nsp},${r}`);
  }

  /** Resolves once sidecastd has passed it on (to every node, in cluster mode). */
  _apply(what) {
    what.filter = this._selector();
    return this.emitter.client.apply(what).then(() => undefined);
  }
}

class Emitter extends BroadcastOperator {
  /**
   * @param {object} [opts] SidecastClient options (path: sidecastd's socket), or
   * @param {SidecastClient} [opts.client] a client to use (not closed with the emitter)
   */
  constructor(opts = {}) {
    const client = opts.client || new SidecastClient(Object.assign({}, opts, { name: opts.name || `emitter-${process.pid}` }));
    super(null, '/');
    this.emitter = this;
    this.client = client;
    this._own = !opts.client;
  }

  /** The same, for namespace `nsp` ("/chat"). */
  of(nsp) {
    return new BroadcastOperator(this, nspName(nsp));
  }

  /** Close the connection to sidecastd (if the emitter opened it). */
  close() {
    if (this._own) this.client.close();
  }
}

module.exports = { Emitter, BroadcastOperator };
