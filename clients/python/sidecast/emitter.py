"""Emitter: socket.io emits from a process that has no socket.io server.

A worker, a cron job or another service reaches the socket.io clients of a
sidecast cluster (Python or Node servers) through its node's sidecastd, in
the shape of @socket.io/redis-emitter and the Node package's ``Emitter``::

    emitter = Emitter()                                   # the local sidecastd
    emitter.to('lobby').emit('news', {'id': 7})
    emitter.of('/admin').except_('muted').emit('alert', 'disk full')
    await emitter.in_('lobby').sockets_join('announcements')
    await emitter.server_side_emit('reload-config')

It writes proto/README.md's socket.io mapping (rooms "nsp,room", the
socket.io-parser packet, binary arguments as attachments) on a connection of
its own, and keeps no state of the cluster. Acknowledgements are not
supported (as with @socket.io/redis-emitter). Its connection counts as an
app server for sidecastd: it answers other servers' server-side emits with
the mapping's "no such namespace here", so their acks never wait for it.
"""

from socketio import packet

from . import mapping
from .client import SidecastClient

# socket.io's reserved event names: its servers refuse them in emit()
RESERVED = frozenset(('connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener',
                      'removeListener'))


def _names(room):
    if isinstance(room, (list, tuple, set, frozenset)):
        return [str(r) for r in room]
    return [str(room)]


def nsp_name(nsp):
    if not isinstance(nsp, str) or not nsp:
        return '/'
    return nsp if nsp.startswith('/') else '/' + nsp


class BroadcastOperator:
    """An emit's target (namespace, rooms, except rooms) and flags; every modifier returns a new one."""

    def __init__(self, emitter, nsp='/', rooms=(), except_rooms=(), flags=None):
        self._emitter = emitter
        self.nsp = nsp
        self.rooms = tuple(rooms)
        self.except_rooms = tuple(except_rooms)
        self.flags = dict(flags or {})

    def _with(self, **kw):
        args = dict(emitter=self._emitter, nsp=self.nsp, rooms=self.rooms, except_rooms=self.except_rooms,
                    flags=self.flags)
        args.update(kw)
        return BroadcastOperator(**args)

    def to(self, room):
        """Only to the clients in these rooms (a sid is a room too)."""
        return self._with(rooms=self.rooms + tuple(r for r in _names(room) if r not in self.rooms))

    in_ = to

    def except_(self, room):
        """Not to the clients in these rooms."""
        return self._with(except_rooms=self.except_rooms + tuple(_names(room)))

    @property
    def volatile(self):
        """May be dropped for a slow or disconnected client."""
        return self._with(flags=dict(self.flags, volatile=True))

    def compress(self, compress=True):
        return self._with(flags=dict(self.flags, compress=bool(compress)))

    def _selector(self):
        to = {'rooms': [mapping.room_key(self.nsp, r) for r in self.rooms] if self.rooms else [self.nsp]}
        if self.except_rooms:
            to['except_rooms'] = [mapping.room_key(self.nsp, r) for r in self.except_rooms]
        return to

    def emit(self, event, *args):
        """Emit to every client selected, on every node. True if handed to sidecastd (or queued).

        Raises ValueError for a reserved event name or a callback argument,
        SidecastError('TOO_LARGE') for a payload sidecastd would refuse.
        """
        if event in RESERVED:
            raise ValueError('"%s" is a reserved event name' % event)
        if args and callable(args[-1]):
            raise ValueError('the Emitter does not support acknowledgements')
        enc = packet.Packet(packet.EVENT, namespace=self.nsp, data=[event] + list(args)).encode()
        payload = mapping.encode_broadcast(enc, mapping.flags_of(self.flags.get('compress', False),
                                                                 self.flags.get('volatile', False)))
        return self._emitter.client.emit(self._selector(), payload, volatile=self.flags.get('volatile', False))

    async def sockets_join(self, rooms):
        """The selected clients join these rooms, on whichever node they are."""
        await self._apply(join=[mapping.room_key(self.nsp, r) for r in _names(rooms)])

    async def sockets_leave(self, rooms):
        """The selected clients leave these rooms."""
        await self._apply(leave=[mapping.room_key(self.nsp, r) for r in _names(rooms)])

    async def disconnect_sockets(self, close=False):
        """Disconnect the selected clients (close: their underlying connection too)."""
        await self._apply(disconnect=True, close=bool(close))

    async def _apply(self, **what):
        """Returns once sidecastd has passed it to every node's apps."""
        await self._emitter.client.apply(self._selector(), **what)

    async def server_side_emit(self, event, *args):
        """Emit to every socket.io server of the cluster (their server-side handlers). No acks."""
        if event in RESERVED:
            raise ValueError('"%s" is a reserved event name' % event)
        if args and callable(args[-1]):
            raise ValueError('the Emitter does not support acknowledgements')
        await self._emitter.client.server_emit(mapping.encode_server_emit(self.nsp, [event] + list(args)))


class Emitter(BroadcastOperator):
    """Emits for namespace '/' (``of()`` for others) through the node's sidecastd.

    :param path: sidecastd's Unix socket.
    :param client: a SidecastClient to use (not closed with the emitter).
    :param client_options: more keyword arguments for the SidecastClient it opens.
    """

    def __init__(self, path=None, *, client=None, **client_options):
        client_options.setdefault('name', 'python-emitter')
        self.client = client if client is not None else SidecastClient(path, **client_options)
        self._own = client is None
        self.client.on_server_message = self._on_server_message
        super().__init__(self, '/')

    def _on_server_message(self, m):
        """Not a socket.io server: "no such namespace here", and no answer to the server count probe."""
        if m.ack_id:
            self.client.ack(m.ack_id, payloads=[] if m.payload[:1] == mapping.PROBE else [mapping.ABSENT],
                            done=True)

    def of(self, nsp):
        """The same, for namespace ``nsp`` ('/chat')."""
        return BroadcastOperator(self, nsp_name(nsp))

    async def ready(self, timeout=None):
        await self.client.ready(timeout)

    async def close(self):
        """Close the connection (if the emitter opened it); queued emits are written first."""
        if self._own:
            await self.client.close()
