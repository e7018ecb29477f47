"""SidecastManager: python-socketio clusters through sidecastd.

``socketio.AsyncServer(client_manager=SidecastManager())`` makes every
python-socketio server of a cluster one app: emits to rooms, to a sid and
``skip_sid`` reach clients on any node, callbacks (acks) come back across
nodes, and ``enter_room`` / ``leave_room`` / ``close_room`` / ``disconnect``
work on a sid held by any node. The in-memory rooms of python-socketio's
``BaseManager`` stay the local truth; this manager mirrors them into the
node's sidecastd and writes proto/README.md's socket.io mapping, so Node
socket.io servers on the sidecast adapter (clients/node) share the cluster:

* names: room R of namespace N is the registry room "N,R"; every socket is
  also in "N" (the namespace's everyone room) and in "N,<sid>" (its own room,
  as socket.io's ``socket.join(socket.id)``); the session id is the engine.io
  sid;
* payloads: ``mapping.encode_broadcast`` of the socket.io-parser packet
  (python-socketio's default packet writes the same string), acks as codec
  values, server-side emits as ``[2][nsp][codec args]``.

Unlike python-socketio's pub/sub managers, an emit is published once to the
nodes that hold a recipient (sidecastd routes by room membership), local
recipients get it without any round trip, and the app never talks to Redis.

``write_only=True`` gives an emit-only manager for processes without a
socket.io server (python-socketio's ``write_only`` pattern); see also
:class:`sidecast.Emitter`.
"""

import asyncio
import collections
import logging
import time

from socketio import asyncio_manager, packet

from . import codec, mapping
from .client import CLUSTER_MARGIN, SidecastClient
from .errors import SidecastError, SidecastTimeoutError

log = logging.getLogger('sidecast')
UNREADABLE_LOG_S = 10.0
#: Cluster emits with callbacks in flight at once; more are refused (sidecastd bounds them too).
MAX_ACK_EMITS = 1024


def _args(data):
    """python-socketio's emit data -> the event's argument list (tuples expand)."""
    if isinstance(data, tuple):
        return list(data)
    return [] if data is None else [data]


def _rooms(room):
    """None (everyone), or the list of rooms an emit names."""
    if room is None:
        return None
    if isinstance(room, (list, tuple, set, frozenset)):
        return list(room)
    return [room]


def _skips(skip_sid):
    if skip_sid is None:
        return []
    return list(skip_sid) if isinstance(skip_sid, (list, tuple, set, frozenset)) else [skip_sid]


def decode_packet(parts):
    """A socket.io-parser packet (header string + binary attachments) -> socketio Packet, or None."""
    try:
        pkt = packet.Packet(encoded_packet=parts[0])
        for att in parts[1:]:
            if isinstance(att, str) or pkt.add_attachment(att):
                break
    except (ValueError, TypeError, IndexError):
        return None
    if pkt.packet_type not in (packet.EVENT, packet.BINARY_EVENT) or not isinstance(pkt.data, list):
        return None
    return pkt


class SidecastManager(asyncio_manager.AsyncManager):
    """python-socketio client manager on sidecastd (see the module docstring).

    :param path: sidecastd's Unix socket ($SIDECAST_SOCKET, /run/sidecast/sidecast.sock).
    :param client: a :class:`SidecastClient` to use instead of opening one.
    :param write_only: emit only: no server, no registration, no deliveries.
    :param ack_timeout: seconds a cluster emit with a callback waits for
        client acks (sent in the payload: receiving servers stop waiting then).
    :param requests_timeout: seconds server-side emits with acks wait.
    :param user_id: ``user_id(environ) -> str | None``: the user id registered
        with each socket, for lookups, presence and emits to users.
    :param client_options: keyword arguments for the SidecastClient.
    """
    name = 'sidecast'

    def __init__(self, path=None, *, client=None, write_only=False, logger=None, ack_timeout=60.0,
                 requests_timeout=5.0, user_id=None, client_options=None):
        super().__init__()
        opts = dict(client_options or {})
        opts.setdefault('name', 'python-socketio' + ('-emitter' if write_only else ''))
        self.client = client if client is not None else SidecastClient(path, **opts)
        self._own_client = client is None
        self.write_only = write_only
        self.logger = logger
        self.ack_timeout = ack_timeout
        self.requests_timeout = requests_timeout
        self.user_id = user_id
        self.counters = collections.Counter()
        self._ns_of = {}  # sid -> namespace, for the sockets this process registered
        self._dropping = set()  # (namespace, sid) being disconnected: local leaves only
        self._server_handlers = {}  # namespace -> {event: handler}
        self._tasks = set()
        self._unread = 0
        self._unread_at = 0.0
        self.client.on_deliver = self._on_deliver
        self.client.on_apply = self._on_apply
        self.client.on_server_message = self._on_server_message
        self.on_gap = None

        async def on_gap(gap):
            if self.on_gap is not None:
                r = self.on_gap(gap)
                if asyncio.iscoroutine(r):
                    await r
        self.client.on_gap = on_gap

    # ---- lifecycle ---------------------------------------------------------------

    def initialize(self):
        super().initialize()
        self.client._maybe_start()
        self._get_logger().info('sidecast manager: sidecastd at %s', self.client.path)

    async def ready(self, timeout=None):
        """Wait until connected to sidecastd (optional: emits wait in the client's queue)."""
        await self.client.ready(timeout)

    async def close(self):
        """Stop background work and close the connection (if this manager opened it)."""
        for t in list(self._tasks):
            t.cancel()
        if self._own_client:
            await self.client.close()

    def _spawn(self, coro):
        """A background task, kept until done (cancelled by close())."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ---- registration --------------------------------------------------------------

    def _is_local(self, sid, namespace):
        return sid in self.rooms.get(namespace, {}).get(None, {})

    def connect(self, eio_sid, namespace):
        """A client joins a namespace: registered with its own room and the namespace's."""
        sid = super().connect(eio_sid, namespace)
        if sid is None or self.write_only:
            return sid
        uid = ''
        if self.user_id is not None:
            u = self.user_id(self.server.environ.get(eio_sid, {}))
            uid = '' if u is None else str(u)
        self._ns_of[sid] = namespace
        self.client.socket_up(sid, eio_sid, uid, None, [namespace, mapping.room_key(namespace, sid)])
        return sid

    def enter_room(self, sid, namespace, room, eio_sid=None):
        """Join a room: locally (and in sidecastd) if the sid is here, else on its node."""
        if eio_sid is not None or room is None:  # connect(): registered as a whole after
            return super().enter_room(sid, namespace, room, eio_sid=eio_sid)
        if not self.write_only and self._is_local(sid, namespace):
            super().enter_room(sid, namespace, room)
            self.client.join(sid, [mapping.room_key(namespace, room)])
            return
        self._remote_apply(namespace, sid, join=[room])

    def leave_room(self, sid, namespace, room):
        """Leave a room, locally or on the sid's node."""
        if (namespace, sid) in self._dropping:
            return super().leave_room(sid, namespace, room)
        if not self.write_only and self._is_local(sid, namespace):
            super().leave_room(sid, namespace, room)
            if room is not None:
                self.client.leave(sid, [mapping.room_key(namespace, room)])
            return
        if room is not None:
            self._remote_apply(namespace, sid, leave=[room])

    async def close_room(self, room, namespace):
        """Every member of the room leaves it, on every node."""
        namespace = namespace or '/'
        if not self.write_only:
            for sid in [s for s, _ in self.get_participants(namespace, room)] if self._has_room(namespace, room) \
                    else []:
                self.leave_room(sid, namespace, room)
        key = mapping.room_key(namespace, room)
        await self._apply({'rooms': [key]}, leave=[key])

    def _has_room(self, namespace, room):
        return room in self.rooms.get(namespace, {})

    async def can_disconnect(self, sid, namespace):
        """True for a local sid; for another node's, ask that node to disconnect it."""
        if not self.write_only and self._is_local(sid, namespace):
            return True
        await self._apply({'rooms': [mapping.room_key(namespace or '/', sid)]}, disconnect=True)
        return False

    async def disconnect(self, sid, namespace, **kwargs):
        """Forget a local sid (unregistered from sidecastd), or disconnect it on its node."""
        namespace = namespace or '/'
        if self.write_only or (not self._is_local(sid, namespace) and sid not in self._ns_of):
            return await self._apply({'rooms': [mapping.room_key(namespace, sid)]}, disconnect=True)
        self._dropping.add((namespace, sid))
        try:
            await super().disconnect(sid, namespace, **kwargs)
        finally:
            self._dropping.discard((namespace, sid))
        if self._ns_of.pop(sid, None) is not None:
            self.client.socket_down(sid)

    def set_data(self, sid, data, namespace='/'):
        """Attach data to a local socket (socket.io's socket.data) for other nodes' fetch_sockets()."""
        if self._ns_of.get(sid) != namespace:
            raise KeyError('sid %s is not connected here to %s' % (sid, namespace))
        self.client.set_data(sid, codec.encode([data]))

    def identify(self, sid, user_id, namespace='/'):
        """Register (or change) the user id of a local socket, e.g. after authentication."""
        s = self.client.mirror.sockets.get(sid)
        if s is None or self._ns_of.get(sid) != namespace:
            raise KeyError('sid %s is not connected here to %s' % (sid, namespace))
        rooms, data, session = sorted(s.rooms), s.data, s.session_id
        self.client.socket_down(sid)
        self.client.socket_up(sid, session, user_id or '', data, rooms)

    def _remote_apply(self, namespace, sid, join=(), leave=()):
        """enter_room / leave_room (sync in python-socketio) for a sid on another node."""
        f = {'rooms': [mapping.room_key(namespace, sid)]}
        self._spawn(self._apply(f, join=[mapping.room_key(namespace, r) for r in join],
                                leave=[mapping.room_key(namespace, r) for r in leave]))

    async def _apply(self, filter, **what):
        """Apply across the cluster; a failure is logged and counted, never raised into the app."""
        try:
            await self.client.apply(filter, timeout=self.requests_timeout + CLUSTER_MARGIN, **what)
        except SidecastError as e:
            self.counters['apply_failed'] += 1
            self._get_logger().error('sidecast: %s on %s failed: %s', ', '.join(sorted(what)), filter, e)

    # ---- emits ---------------------------------------------------------------------

    async def emit(self, event, data, namespace=None, room=None, skip_sid=None, callback=None, **kwargs):
        """Emit to a sid, a room (or list), or the namespace, on every node.

        Extra keyword arguments: ``ignore_queue`` / ``local`` (this process
        only), ``volatile``, ``compress``.
        """
        namespace = namespace or '/'
        rooms, skips = _rooms(room), _skips(skip_sid)
        local = bool(kwargs.get('ignore_queue') or kwargs.get('local'))
        if callback is not None and self.server is None:
            raise RuntimeError('Callbacks can only be issued from the context of a server.')
        if not local:
            self._emit_cluster(event, data, namespace, rooms, skips, callback, kwargs)
        if not self.write_only:
            await self._emit_local(event, data, namespace, rooms, skips, callback)

    def _selector(self, namespace, rooms, skips):
        to = {'rooms': [mapping.room_key(namespace, r) for r in rooms] if rooms else [namespace]}
        if skips:
            to['except_rooms'] = [mapping.room_key(namespace, s) for s in skips]
        return to

    def _emit_cluster(self, event, data, namespace, rooms, skips, callback, kw):
        """The emit for the other app connections (sidecastd delivers none back to us)."""
        if rooms is not None and not rooms:
            return
        flags = mapping.flags_of(kw.get('compress', False), kw.get('volatile', False))
        pkt = packet.Packet(packet.EVENT, namespace=namespace, data=[event] + _args(data),
                            id=0 if callback is not None else None)
        to = self._selector(namespace, rooms, skips)
        if callback is None:
            self.client.emit(to, mapping.encode_broadcast(pkt.encode(), flags), volatile=bool(kw.get('volatile')))
            return
        if len(self._tasks) >= MAX_ACK_EMITS:
            self.counters['ack_emits_refused'] += 1
            raise SidecastError('LIMIT', '%d cluster emits with callbacks already wait for acks' % len(self._tasks))
        payload = mapping.encode_broadcast(pkt.encode(), flags, int(self.ack_timeout * 1000))
        self._spawn(self._cluster_acks(to, payload, callback, bool(kw.get('volatile'))))

    async def _cluster_acks(self, to, payload, callback, volatile):
        """Run callback(*args) for every client ack from other nodes, as they arrive."""
        answers = []

        def on_progress(p):
            answers.extend(p.payloads)
        try:
            await self.client.emit_with_ack(to, payload, on_progress, volatile=volatile,
                                            timeout=self.ack_timeout + 10)
        except SidecastError as e:
            self.counters['ack_emits_failed'] += 1
            self._get_logger().warning('sidecast: cluster emit with callback: %s', e)
        for a in answers:
            try:
                r = callback(*mapping.decode_ack(a))
                if asyncio.iscoroutine(r):
                    await r
            except ValueError:
                self._unreadable('payload', 'an ack answer that is not a codec value')
            except Exception:
                self._get_logger().exception('sidecast: emit callback failed')

    def _targets(self, namespace, rooms, skips):
        """Local sid -> eio_sid an emit reaches (each once)."""
        ns = self.rooms.get(namespace)
        if not ns:
            return {}
        if rooms is None:
            out = dict(ns.get(None, {}))
        else:
            out = {}
            for r in rooms:
                if r in ns:
                    out.update(ns[r])
        for s in skips:
            out.pop(s, None)
        return out

    async def _emit_local(self, event, data, namespace, rooms, skips, callback):
        targets = self._targets(namespace, rooms, skips)
        if not targets:
            return
        if callback is not None:
            for sid, eio_sid in targets.items():
                await self.server._emit_internal(eio_sid, event, data, namespace,
                                                 self._generate_ack_id(sid, callback))
            return
        encoded = self.server.packet_class(packet.EVENT, namespace=namespace,
                                           data=[event] + _args(data)).encode()
        await self._send_encoded(targets.values(), encoded)

    async def _send_encoded(self, eio_sids, encoded):
        """One encoded packet (string, or [header, attachments...]) to many clients."""
        parts = encoded if isinstance(encoded, list) else [encoded]
        for eio_sid in eio_sids:
            for p in parts:
                await self.server.eio.send(eio_sid, p)

    # ---- from sidecastd ------------------------------------------------------------

    def _unreadable(self, reason, what):
        """A message this app cannot use: counted and logged (at most every 10 s), never silently dropped."""
        self.counters['unreadable_' + reason] += 1
        self._unread += 1
        now = time.monotonic()
        if now - self._unread_at < UNREADABLE_LOG_S:
            return
        self._unread_at = now
        self._get_logger().warning('sidecast: %d message(s) from sidecastd this app could not use since the '
                                   'last report; last: %s', self._unread, what)
        self._unread = 0

    async def _on_deliver(self, d):
        if self.write_only or self.server is None:
            if d.ack_id:
                self.client.ack(d.ack_id, done=True)
            return
        try:
            _, timeout_ms, parts = mapping.decode_broadcast(d.payload)
        except (ValueError, UnicodeDecodeError):
            self._unreadable('payload', 'an emit whose %d-byte payload is not in the socket.io mapping'
                             % len(d.payload))
            if d.ack_id:
                self.client.ack(d.ack_id, done=True)
            return
        nsp = mapping.packet_namespace(parts[0])
        sids = [s for s in d.socket_ids if self._ns_of.get(s) == nsp]
        if not sids and d.socket_ids:
            self._unreadable('namespace', 'an emit for namespace %s, not served by these sockets' % nsp)
        if d.ack_id:
            return await self._deliver_with_ack(nsp, parts, sids, d.ack_id, timeout_ms)
        await self._deliver(nsp, parts, sids)

    def _eio_sids(self, nsp, sids):
        members = self.rooms.get(nsp, {}).get(None, {})
        return [members[s] for s in sids if s in members]

    async def _deliver(self, nsp, parts, sids):
        eio_sids = self._eio_sids(nsp, sids)
        if not eio_sids:
            return
        if self.server.packet_class is packet.Packet:
            return await self._send_encoded(eio_sids, parts if len(parts) > 1 else parts[0])
        pkt = decode_packet(parts)  # another serializer (msgpack): decoded, encoded once its way
        if pkt is None:
            return self._unreadable('payload', 'a broadcast whose packet does not decode')
        await self._send_encoded(eio_sids, self.server.packet_class(
            packet.EVENT, namespace=nsp, data=pkt.data).encode())

    async def _deliver_with_ack(self, nsp, parts, sids, ack_id, timeout_ms):
        """Deliver, then answer Ack{expect}, one Ack per client answer, and done (or at the timeout)."""
        pkt = decode_packet(parts)
        members = self.rooms.get(nsp, {}).get(None, {})
        targets = [(s, members[s]) for s in sids if s in members]
        if pkt is None or not targets:
            if pkt is None:
                self._unreadable('payload', 'a broadcast with acks whose packet does not decode')
            self.client.ack(ack_id, done=True)
            return
        state = {'got': 0, 'finished': False}
        expect = len(targets)

        def finish():
            if not state['finished']:
                state['finished'] = True
                timer.cancel()
                self.client.ack(ack_id, done=True)

        def on_answer(*args):
            if state['finished']:
                return
            state['got'] += 1
            done = state['got'] >= expect
            if done:
                state['finished'] = True
                timer.cancel()
            self.client.ack(ack_id, payloads=[mapping.encode_ack(args)], done=done)

        self.client.ack(ack_id, expect=expect)
        timer = asyncio.get_running_loop().call_later((timeout_ms / 1000.0) or self.ack_timeout, finish)
        for sid, eio_sid in targets:
            await self.server._send_packet(eio_sid, self.server.packet_class(
                packet.EVENT, namespace=nsp, data=pkt.data, id=self._generate_ack_id(sid, on_answer)))

    async def _on_apply(self, a, sids):
        """socketsJoin / socketsLeave / disconnectSockets from any node, on the sockets it selects here."""
        if self.write_only or self.server is None:
            return
        for sid in sids:
            nsp = self._ns_of.get(sid)
            if nsp is None:
                continue
            for r in (mapping.local_room(nsp, k) for k in a.join):
                if r is not None:
                    self.enter_room(sid, nsp, r)
            for r in (mapping.local_room(nsp, k) for k in a.leave):
                if r is not None:
                    self.leave_room(sid, nsp, r)
            if a.disconnect:
                await self._disconnect_here(sid, nsp, a.close)

    async def _disconnect_here(self, sid, nsp, close):
        eio_sid = self.eio_sid_from_sid(sid, nsp)
        await self.server.disconnect(sid, namespace=nsp, ignore_queue=True)
        if close and eio_sid is not None:
            await self.server.eio.disconnect(eio_sid)

    def _serves(self, nsp):
        s = self.server
        if s is None:
            return False
        return (nsp in self._server_handlers or nsp in s.handlers or nsp in s.namespace_handlers
                or s.namespaces == '*' or nsp in s.namespaces)

    async def _on_server_message(self, m):
        p = m.payload
        if p[:1] == mapping.PROBE:  # serverCount(): socket.io servers answer, emitters do not
            if m.ack_id:
                self.client.ack(m.ack_id, payloads=[] if self.write_only else [mapping.PROBE], done=True)
            return
        try:
            nsp, args = mapping.decode_server_emit(p)
        except (ValueError, UnicodeDecodeError):
            self._unreadable('payload', 'a server message from node %s not in the socket.io mapping'
                             % (m.origin_node or '?'))
            if m.ack_id:
                self.client.ack(m.ack_id, done=True)
            return
        if self.write_only or not self._serves(nsp):
            if m.ack_id:
                self.client.ack(m.ack_id, payloads=[mapping.ABSENT], done=True)
            return
        await self._run_server_handler(nsp, args, m.ack_id)

    async def _run_server_handler(self, nsp, args, ack_id):
        handlers = self._server_handlers.get(nsp, {})
        handler = handlers.get(args[0]) if args else None
        if handler is None:
            if ack_id:  # the answer this server owes will not come: the sender counts one short
                self.client.ack(ack_id, expect=1, done=True)
            return
        try:
            r = handler(*args[1:])
            if asyncio.iscoroutine(r):
                r = await r
        except Exception:
            self._get_logger().exception('sidecast: server-side event handler %r failed', args[0])
            if ack_id:
                self.client.ack(ack_id, expect=1, done=True)
            return
        if ack_id:
            self.client.ack(ack_id, payloads=[mapping.encode_ack([r])], done=True)

    # ---- server-side emits (socket.io's serverSideEmit) --------------------------

    def on_server_event(self, event, handler=None, namespace='/'):
        """Handle ``event`` sent by another server's server-side emit (usable as a decorator).

        The handler gets the event's arguments; its return value (awaited if
        a coroutine) is the answer an emit with acks collects.
        """
        def register(fn):
            self._server_handlers.setdefault(namespace, {})[event] = fn
            return fn
        return register(handler) if handler is not None else register

    async def server_side_emit(self, event, *args, namespace='/'):
        """Emit ``event`` to every other socket.io server of the cluster (no answers)."""
        await self.client.server_emit(mapping.encode_server_emit(namespace, [event] + list(args)))

    async def server_side_emit_with_ack(self, event, *args, namespace='/', timeout=None):
        """Emit to every other server and return their answers.

        Raises SidecastTimeoutError (with ``.responses``) if some server did
        not answer: the answers came up short of what was expected.
        """
        expected = 0
        responses = []

        def on_progress(p):
            nonlocal expected
            expected += p.expect
            for pl in p.payloads:
                if pl == mapping.ABSENT:
                    expected -= 1
                else:
                    responses.append(mapping.decode_ack(pl)[0] if pl else None)
        payload = mapping.encode_server_emit(namespace, [event] + list(args))
        last = await self.client.server_emit(payload, on_progress=on_progress,
                                             timeout=(timeout or self.requests_timeout) + 2 * CLUSTER_MARGIN)
        if last is not None and (last.timed_out or len(responses) < expected):
            err = SidecastTimeoutError('timeout reached: only %d responses received out of %d%s'
                                       % (len(responses), expected,
                                          ' (no answer from %s)' % ', '.join(last.nodes_missing)
                                          if last.nodes_missing else ''))
            err.responses = responses
            raise err
        return responses

    async def server_count(self):
        """socket.io servers of the cluster: those that answer the probe, plus this one."""
        answers = []
        await self.client.server_emit(mapping.PROBE, on_progress=lambda p: answers.extend(
            x for x in p.payloads if x == mapping.PROBE), timeout=self.requests_timeout + CLUSTER_MARGIN)
        return len(answers) + (0 if self.write_only else 1)

    # ---- cluster lookups ------------------------------------------------------------

    async def fetch_sockets(self, room=None, namespace='/', local=False):
        """Sockets of a room (or the namespace) on every node.

        Each is a dict: sid, namespace, rooms (this namespace's, without the
        own-sid room), data (socket.io's socket.data, or None), node_id, local.
        """
        out = []
        if not self.write_only:
            for sid in self._targets(namespace, None if room is None else [room], []):
                out.append({'sid': sid, 'namespace': namespace, 'rooms': self._local_rooms(sid, namespace),
                            'data': self._data_of(sid), 'node_id': self.client.node_id, 'local': True})
        if local:
            return out
        key = mapping.room_key(namespace, room) if room is not None else namespace
        for s in await self.client.fetch_sockets({'rooms': [key]}, with_data=True, with_rooms=True,
                                                 exclude_self=True):
            rooms = [r for r in (mapping.local_room(namespace, k) for k in s.rooms) if r not in (None, s.socket_id)]
            out.append({'sid': s.socket_id, 'namespace': namespace, 'rooms': rooms,
                        'data': self._decode_data(s.data), 'node_id': s.node_id, 'local': False})
        return out

    def _local_rooms(self, sid, namespace):
        return [r for r in self.get_rooms(sid, namespace) if r != sid]

    def _data_of(self, sid):
        s = self.client.mirror.sockets.get(sid)
        return self._decode_data(s.data) if s is not None else None

    def _decode_data(self, raw):
        """codec [data, handshake] (the mapping's socket data) -> data; None when absent or unreadable."""
        if not raw:
            return None
        try:
            v = codec.decode(raw)
        except ValueError:
            self._unreadable('payload', 'socket data that is not a codec value')
            return None
        return v[0] if isinstance(v, list) and v else None

    async def lookup(self, session_id=None, socket_id=None, user_id=None, local=False):
        """Where is a session (engine.io sid), a socket (socket.io sid) or a user, cluster-wide."""
        return await self.client.lookup(session_id=session_id, socket_id=socket_id, user_id=user_id,
                                        local=local)

    async def presence(self, user_id):
        """Is a user online, with how many sockets on how many nodes (needs the user_id option)."""
        return await self.client.presence(user_id)
