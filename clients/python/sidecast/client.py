"""SidecastClient: one asyncio connection from this process to its node's sidecastd.

The protocol is proto/README.md's ("Protocol overview"): a Unix stream
socket, each frame a 4-byte big-endian length and one protobuf ``Frame``
(code generated from proto/sidecast.proto by protoc at build time). The Node
client (clients/node/lib/client.js) is the model for the behaviour:

* Frames written in one turn of the event loop leave with one write.
* Requests carry ids; replies find their request by id, multi-part replies
  (``SocketList``, ``RoomList``, ``Progress``) end with ``more=false`` /
  ``done=true``; an ``Error`` reply raises a :class:`SidecastError` with its code.
* The client is the source of truth for what it registered: after a
  reconnect (sidecastd restarted or upgraded) it registers every socket with
  its rooms and data again before anything else, so no client connection has
  to drop. Registrations come from the built-in mirror (``socket_up`` /
  ``join`` / ``leave`` / ``set_data`` / ``socket_down``) and from providers
  (the socket.io manager registers itself as one).
* Everything is bounded: frames kept while disconnected (``queue_limit``),
  unsent output (``max_output_bytes`` for volatile emits,
  ``max_buffered_bytes`` for every emit), and events waiting for async
  handlers (``inbox_limit``: reading from sidecastd pauses beyond it). What
  is dropped is counted in ``counters`` and logged.
"""

import asyncio
import collections
import logging
import os
import random
import struct
import time
from typing import List, NamedTuple

from ._pb import pb
from .errors import DisconnectedError, SidecastError, SidecastTimeoutError, from_frame
from .selector import Mirror, fill, selector

PROTOCOL_VERSION = 1
#: Feature bits of proto/sidecast.proto (enum Feature) this client has, sent in its Hello.
CLIENT_FEATURES = pb.FEATURE_NODE_VERSIONS | pb.FEATURE_KEPT_ANSWERS
DEFAULT_SOCKET = '/run/sidecast/sidecast.sock'
MAX_INBOUND_FRAME = 64 * 1024 * 1024
#: sidecastd's defaults, assumed until its Welcome says (max_frame_bytes 17m, max_payload_bytes 16m).
DEFAULT_MAX_FRAME = 17 * 1024 * 1024
DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024
#: A batch of frames larger than this is written at once, not at the end of the turn.
BATCH_BYTES = 1024 * 1024
#: Cluster requests wait this much longer than sidecastd's own request timeout,
#: so that its answer (which nodes answered, which did not) arrives first.
CLUSTER_MARGIN = 1.0
_LEN = struct.Struct('>I')
log = logging.getLogger('sidecast')


class Progress(NamedTuple):
    """One Progress frame: answers to a broadcast with acks or a server emit, as they arrive."""
    expect: int
    payloads: List[bytes]
    done: bool
    timed_out: bool
    nodes_expected: int
    nodes_answered: int
    nodes_missing: List[str]


class SocketInfo(NamedTuple):
    socket_id: str
    session_id: str
    user_id: str
    data: bytes
    rooms: List[str]
    node_id: str


class RoomInfo(NamedTuple):
    name: str
    size: int


class NodeInfo(NamedTuple):
    node_id: str
    node_name: str
    self: bool
    version: object  # None when sidecastd predates FEATURE_NODE_VERSIONS
    features: object


class SocketLocation(NamedTuple):
    socket_id: str
    session_id: str
    user_id: str
    node_id: str
    node_name: str
    address: str
    local: bool


class LookupResult(NamedTuple):
    sockets: List[SocketLocation]
    nodes: int


class SessionData(NamedTuple):
    found: bool
    connected: bool
    entries: dict


class Delivery(NamedTuple):
    """A Deliver frame, with the ids of this client's mirrored sockets it selects."""
    to: object  # proto Selector
    payload: bytes
    volatile: bool
    ack_id: int
    socket_ids: List[str]


class ServerMessage(NamedTuple):
    payload: bytes
    ack_id: int
    origin_node: str


class Gap(NamedTuple):
    from_unix_ms: int
    to_unix_ms: int
    reason: str


def hint_for(err, path):
    """What to do about a failed connection to sidecastd, from its errno."""
    name = type(err).__name__
    if isinstance(err, FileNotFoundError):
        return 'no socket at %s: start sidecastd, or point path / $SIDECAST_SOCKET at its socket' % path
    if isinstance(err, PermissionError):
        return ('permission denied on %s: add the app\'s user to the socket\'s group '
                '(usermod -aG sidecast <user>) or run the app with that group' % path)
    if isinstance(err, ConnectionRefusedError):
        return 'nobody listens on %s: sidecastd is stopped or restarting' % path
    return 'check that sidecastd runs and listens on %s (%s)' % (path, name)


def _bytes(v):
    """Payloads and data: bytes, bytearray, memoryview or str (UTF-8)."""
    if v is None:
        return b''
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    if isinstance(v, str):
        return v.encode('utf-8')
    raise TypeError('sidecast: data and payloads must be bytes or str, not %s' % type(v).__name__)


def _progress(p):
    return Progress(p.expect, list(p.payloads), p.done, p.timed_out, p.nodes_expected,
                    p.nodes_answered, list(p.nodes_missing))


class _Request:
    """A request in flight: its reply handler and the future the caller awaits."""
    __slots__ = ('id', 'on_frame', 'future', 'queued')

    def __init__(self, rid, on_frame, future, queued):
        self.id = rid
        self.on_frame = on_frame  # frame, kind -> (done, value)
        self.future = future
        self.queued = queued

    def finish(self, value):
        if not self.future.done():
            self.future.set_result(value)

    def fail(self, err):
        if not self.future.done():
            self.future.set_exception(err)


class _Protocol(asyncio.Protocol):
    """asyncio glue: bytes in, connection lost; everything else is the client's."""

    def __init__(self, client):
        self.client = client

    def data_received(self, data):
        self.client._on_data(data)

    def connection_lost(self, exc):
        self.client._on_lost(self, exc)


class SidecastClient:
    """A connection to sidecastd that reconnects and re-registers by itself.

    Handlers (attributes, each optional, plain or ``async`` functions):
    ``on_deliver(Delivery)``, ``on_apply(apply, socket_ids)``,
    ``on_server_message(ServerMessage)``, ``on_gap(Gap)``,
    ``on_refused(SidecastError)``, ``on_connect(reconnected)``,
    ``on_disconnect(error)``. Async ones run one at a time in arrival order
    (the inbox); plain ones run as the frame is read.
    """

    def __init__(self, path=None, name=None, *, timeout=5.0, queue_limit=10000, queue_timeout=None,
                 reconnect_min=0.1, reconnect_max=5.0, max_output_bytes=8 << 20,
                 max_buffered_bytes=64 << 20, inbox_limit=10000, logger=None):
        self.path = path or os.environ.get('SIDECAST_SOCKET') or DEFAULT_SOCKET
        self.name = name or 'python-%d' % os.getpid()
        self.timeout = timeout if timeout and timeout > 0 else 5.0
        self.queue_limit = max(0, queue_limit)
        self.queue_timeout = queue_timeout if queue_timeout and queue_timeout > 0 else self.timeout
        self.reconnect_min = reconnect_min if reconnect_min > 0 else 0.1
        self.reconnect_max = max(reconnect_max, self.reconnect_min)
        self.max_output_bytes = max_output_bytes
        self.max_buffered_bytes = max(max_buffered_bytes, max_output_bytes)
        self.inbox_limit = max(1, inbox_limit)
        self.log = logger or log
        # from the last Welcome
        self.node_id = ''
        self.node_name = ''
        self.max_frame_bytes = DEFAULT_MAX_FRAME
        self.max_payload_bytes = DEFAULT_MAX_PAYLOAD
        self.server_features = 0
        self.server_protocol_version = 0
        self.min_protocol_version = 0
        self.counters = collections.Counter()
        self.mirror = Mirror()
        self.on_deliver = self.on_apply = self.on_server_message = None
        self.on_gap = self.on_refused = self.on_connect = self.on_disconnect = None
        self._providers = []
        self._loop = None
        self._task = None
        self._transport = None
        self._proto = None
        self._lost = None
        self._ready = False
        self._ready_event = None
        self._closed = False
        self._ever_connected = False
        self._next_id = 1
        self._pending = {}  # id -> _Request
        self._queue = collections.deque()  # (frame bytes, monotonic time, request or None)
        self._out = bytearray()
        self._flush_handle = None
        self._in = bytearray()
        self._inbox = collections.deque()
        self._inbox_wake = None
        self._inbox_task = None
        self._paused = False
        self._outage = None  # {'since', 'reported', 'error'}
        self._last_error = None

    # ---- lifecycle -------------------------------------------------------------

    @property
    def connected(self):
        """True while a handshaken connection to sidecastd is up."""
        return self._ready

    def start(self):
        """Begin connecting (in the running event loop); later calls do nothing."""
        if self._closed or self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._ready_event = asyncio.Event()
        self._inbox_wake = asyncio.Event()
        self._task = self._loop.create_task(self._run())

    def _maybe_start(self):
        """start() when called from inside a running loop; registration may come earlier."""
        if self._task is None and not self._closed:
            try:
                self.start()
            except RuntimeError:
                pass

    async def ready(self, timeout=None):
        """Wait until connected (at once if already); SidecastTimeoutError after ``timeout`` s."""
        if self._closed:
            raise DisconnectedError('client closed', 'CLOSED')
        self.start()
        if self._ready:
            return
        t = timeout if timeout and timeout > 0 else self.timeout
        try:
            await asyncio.wait_for(self._ready_event.wait(), t)
        except asyncio.TimeoutError:
            raise self._not_connected('not connected to sidecastd at %s within %.1f s' % (self.path, t)) from None

    async def close(self):
        """Write what is queued, close the connection and stop reconnecting.

        Calls still waiting fail with DisconnectedError('CLOSED').
        """
        if self._closed:
            return
        self._closed = True
        err = DisconnectedError('client closed', 'CLOSED')
        self._flush()
        for _, _, req in self._queue:
            if req is not None:
                self._pending.pop(req.id, None)
                req.fail(err)
        self._queue.clear()
        for req in list(self._pending.values()):
            req.fail(err)
        self._pending.clear()
        transport, lost = self._transport, self._lost
        if transport is not None:
            transport.close()
            try:
                await asyncio.wait_for(asyncio.shield(lost), self.timeout)
            except asyncio.TimeoutError:
                transport.abort()
        for task in (self._task, self._inbox_task):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass

    def add_provider(self, provider):
        """Register ``provider.snapshot(send)``: it re-registers its sockets on every (re)connect."""
        if provider not in self._providers:
            self._providers.append(provider)

    def remove_provider(self, provider):
        if provider in self._providers:
            self._providers.remove(provider)

    async def _run(self):
        """Connect, handshake, wait for the connection to drop, back off, again, until closed."""
        delay = self.reconnect_min
        while not self._closed:
            if await self._attempt():
                delay = self.reconnect_min
                await asyncio.shield(self._lost)
                if self._closed:
                    return
                self.counters['reconnects'] += 1
            await asyncio.sleep(delay * (0.75 + random.random() * 0.5))
            delay = min(delay * 2, self.reconnect_max)

    async def _attempt(self):
        """One connection attempt with its handshake; True once Welcome came."""
        if self._outage is None:
            self._outage = {'since': time.monotonic(), 'reported': False, 'error': None}
        try:
            transport, proto = await self._loop.create_unix_connection(lambda: _Protocol(self), self.path)
        except OSError as e:
            self._failed_attempt(e)
            return False
        self._transport, self._proto = transport, proto
        self._lost = self._loop.create_future()
        try:
            welcome = await self._handshake()
        except (SidecastError, OSError) as e:
            transport.abort()
            await asyncio.shield(self._lost)
            self._failed_attempt(e)
            return False
        if self._closed:
            return False
        self._on_welcome(welcome)
        return True

    async def _handshake(self):
        """Hello -> Welcome (or the Error that refused us)."""
        rid = self._take_id()
        fut = self._loop.create_future()
        req = _Request(rid, lambda f, kind: (kind == 'welcome', f.welcome), fut, False)
        self._pending[rid] = req
        f = pb.Frame(id=rid)
        f.hello.protocol_version = PROTOCOL_VERSION
        f.hello.client_name = self.name
        f.hello.pid = os.getpid()
        f.hello.features = CLIENT_FEATURES
        self._write(self._encode(f))
        self._flush()
        try:
            return await asyncio.wait_for(asyncio.shield(fut), self.timeout)
        except asyncio.TimeoutError:
            if fut.done():
                raise
            raise SidecastTimeoutError('sidecastd at %s did not answer Hello within %.1f s'
                                       % (self.path, self.timeout)) from None
        finally:
            self._pending.pop(rid, None)

    def _on_welcome(self, w):
        """Connected: take the daemon's limits, re-register everything, send what waited."""
        self.node_id, self.node_name = w.node_id, w.node_name
        self.max_frame_bytes = w.max_frame_bytes or DEFAULT_MAX_FRAME
        self.max_payload_bytes = w.max_payload_bytes  # 0: the daemon did not say
        self.server_features = w.features
        self.server_protocol_version = w.protocol_version
        self.min_protocol_version = w.min_protocol_version
        outage, self._outage = self._outage, None
        if outage and outage['reported']:
            self.log.info('sidecast: connected to sidecastd at %s after %.1f s unreachable',
                          self.path, time.monotonic() - outage['since'])
        again = self._ever_connected
        self._ever_connected = True
        self._ready = True
        self._last_error = None
        self.mirror.snapshot(self.send_socket_up)
        for p in list(self._providers):
            p.snapshot(self.send_socket_up)
        self._send_queued()
        self._ready_event.set()
        self._call(self.on_connect, again)

    def _send_queued(self):
        """Frames kept while disconnected go out now, unless they waited too long."""
        now = time.monotonic()
        queue, self._queue = self._queue, collections.deque()
        for data, at, req in queue:
            if req is not None and req.id not in self._pending:
                continue  # timed out while queued
            if now - at > self.queue_timeout:
                self.counters['dropped_disconnected'] += 1
                if req is not None:
                    self._pending.pop(req.id, None)
                    req.fail(SidecastTimeoutError('sidecastd was unreachable for %.1f s' % (now - at)))
                continue
            if req is not None:
                req.queued = False
            self._write(data)

    def _on_lost(self, proto, exc):
        """The connection dropped: fail calls in flight (they may or may not have been processed)."""
        if proto is not self._proto:
            return
        self._proto = None
        was_ready = self._ready
        self._transport = None
        self._ready = False
        if self._ready_event is not None:
            self._ready_event.clear()
        self._in.clear()
        self._out.clear()
        self._paused = False
        if exc is not None:
            self._last_error = exc
        if self._closed:
            err = DisconnectedError('client closed', 'CLOSED')
        else:
            err = DisconnectedError('connection to sidecastd at %s lost%s'
                                    % (self.path, ': %s' % exc if exc else ''))
        for rid, req in list(self._pending.items()):
            if not req.queued:
                del self._pending[rid]
                req.fail(err)
        if was_ready and not self._closed:
            self._outage = {'since': time.monotonic(), 'reported': False, 'error': exc}
            self.log.warning('sidecast: lost the connection to sidecastd at %s; reconnecting', self.path)
            self._call(self.on_disconnect, err)
        if not self._lost.done():
            self._lost.set_result(None)

    def _failed_attempt(self, err):
        """Log the first failure of an outage, with what to do about it; later ones quietly."""
        self._last_error = err
        outage = self._outage
        outage['error'] = err
        if outage['reported']:
            return
        outage['reported'] = True
        self.log.warning('sidecast: cannot reach sidecastd at %s (%s): %s. Retrying up to every %.1f s; '
                         'emits wait (up to %d), requests fail after their timeout',
                         self.path, err, hint_for(err, self.path), self.reconnect_max, self.queue_limit)

    def _not_connected(self, msg):
        e = (self._outage or {}).get('error') or self._last_error
        if e is None:
            return SidecastTimeoutError(msg)
        return SidecastTimeoutError('%s: %s (%s)' % (msg, e, hint_for(e, self.path)))

    # ---- output --------------------------------------------------------------------

    def _take_id(self):
        rid = self._next_id
        self._next_id += 1
        return rid

    def _encode(self, frame):
        """A frame's bytes with its length prefix; TOO_LARGE if sidecastd would refuse it."""
        if frame.WhichOneof('msg') is None:
            raise ValueError('sidecast: a frame without a message')
        body = frame.SerializeToString()
        if len(body) > self.max_frame_bytes:
            self.counters['refused_too_large'] += 1
            raise SidecastError('TOO_LARGE', 'frame of %d bytes is over sidecastd\'s max_frame_bytes %d'
                                % (len(body), self.max_frame_bytes))
        return _LEN.pack(len(body)) + body

    def _write(self, data):
        """Append to this turn's batch; it leaves at the end of the turn (or now, if large)."""
        self._out += data
        if len(self._out) >= BATCH_BYTES:
            self._flush()
        elif self._flush_handle is None:
            self._flush_handle = self._loop.call_soon(self._flush)

    def _flush(self):
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if self._out and self._transport is not None:
            self._transport.write(bytes(self._out))
        self._out.clear()

    def flush(self):
        """Write this turn's batch now rather than at the end of the turn."""
        self._flush()

    def _unsent(self):
        return len(self._out) + (self._transport.get_write_buffer_size() if self._transport else 0)

    def _send(self, frame, volatile=False):
        """Send a fire-and-forget frame, or queue it while disconnected. False if dropped (counted)."""
        self._maybe_start()
        data = self._encode(frame)
        if self._ready:
            unsent = self._unsent()
            if unsent > self.max_output_bytes and (volatile or unsent > self.max_buffered_bytes):
                self.counters['dropped_volatile' if volatile else 'dropped_slow'] += 1
                self.log.debug('sidecast: %d bytes unsent to sidecastd: dropped a %s frame',
                               unsent, frame.WhichOneof('msg'))
                return False
            self._write(data)
            return True
        if self._closed or volatile or len(self._queue) >= self.queue_limit:
            self.counters['dropped_disconnected'] += 1
            return False
        self.counters['queued'] += 1
        self._queue.append((data, time.monotonic(), None))
        return True

    async def _request(self, frame, on_frame, timeout=None):
        """Send a request and await its reply; ``on_frame(frame, kind)`` returns (done, value)."""
        if self._closed:
            raise DisconnectedError('client closed', 'CLOSED')
        self.start()
        rid = self._take_id()
        frame.id = rid
        data = self._encode(frame)
        fut = self._loop.create_future()
        req = _Request(rid, on_frame, fut, not self._ready)
        if req.queued and len(self._queue) >= self.queue_limit:
            raise DisconnectedError('not connected to sidecastd and %d calls already wait'
                                    % len(self._queue), 'QUEUE_FULL')
        self._pending[rid] = req
        if req.queued:
            self._queue.append((data, time.monotonic(), req))
        else:
            self._write(data)
        t = timeout if timeout and timeout > 0 else self.timeout
        try:
            return await asyncio.wait_for(asyncio.shield(fut), t)
        except asyncio.TimeoutError:
            if fut.done():
                raise  # sidecastd's own TIMEOUT answer (a SidecastTimeoutError), not ours
            if req.queued:
                raise self._not_connected('not connected to sidecastd at %s for %.1f s'
                                          % (self.path, t)) from None
            raise SidecastTimeoutError('no answer from sidecastd within %.1f s' % t) from None
        finally:
            self._pending.pop(rid, None)
            if not fut.done():
                fut.cancel()  # nobody waits any more: a late failure must not go unretrieved

    # ---- input ---------------------------------------------------------------------

    def _on_data(self, data):
        """Split the stream into frames and dispatch each."""
        buf = self._in
        buf += data
        off = 0
        n = len(buf)
        while n - off >= 4:
            (ln,) = _LEN.unpack_from(buf, off)
            if ln > MAX_INBOUND_FRAME:
                self._protocol_error('sidecastd sent a frame of %d bytes' % ln)
                return
            if n - off - 4 < ln:
                break
            try:
                f = pb.Frame.FromString(bytes(buf[off + 4:off + 4 + ln]))
            except Exception as e:  # protobuf's DecodeError, and anything else a bad frame raises
                self._protocol_error('sidecastd sent a malformed frame: %s' % e)
                return
            off += 4 + ln
            self._dispatch(f)
            if self._transport is None:
                return
        del buf[:off]

    def _protocol_error(self, msg):
        self.counters['malformed_frames'] += 1
        self.log.error('sidecast: %s; reconnecting', msg)
        self._in.clear()
        if self._transport is not None:
            self._transport.abort()

    def _dispatch(self, f):
        kind = f.WhichOneof('msg')
        if kind == 'deliver':
            return self._on_deliver(f.deliver)
        if f.id:
            return self._on_reply(f, kind)
        if kind == 'server_message':
            m = f.server_message
            msg = ServerMessage(m.payload, m.ack_id, m.origin_node)
            if self.on_server_message is None:
                if msg.ack_id:
                    self.ack(msg.ack_id, done=True)  # nobody answers: say so
                return
            return self._call(self.on_server_message, msg)
        if kind == 'apply':
            return self._on_apply(f.apply)
        if kind == 'error':
            return self._on_async_error(f.error)
        if kind == 'gap':
            g = Gap(f.gap.from_unix_ms, f.gap.to_unix_ms, f.gap.reason)
            self.counters['gaps'] += 1
            self.log.warning('sidecast: cluster messages between %d and %d (unix ms) may be lost: %s',
                             g.from_unix_ms, g.to_unix_ms, g.reason)
            return self._call(self.on_gap, g)
        self.counters['unexpected_frames'] += 1

    def _on_reply(self, f, kind):
        req = self._pending.get(f.id)
        if req is None:
            return  # answered after its timeout
        if kind == 'error':
            self._pending.pop(f.id, None)
            return req.fail(from_frame(f.error))
        try:
            done, value = req.on_frame(f, kind)
        except Exception as e:
            self._pending.pop(f.id, None)
            return req.fail(e)
        if done:
            self._pending.pop(f.id, None)
            req.finish(value)

    def _on_deliver(self, d):
        ids = self.mirror.resolve(d.to) if self.mirror.sockets else []
        if self.on_deliver is None:
            if d.ack_id:
                self.ack(d.ack_id, done=True)
            return
        self._call(self.on_deliver, Delivery(d.to, d.payload, d.volatile, d.ack_id, ids))

    def _on_apply(self, a):
        ids = self.mirror.resolve(a.filter)
        if self.on_apply is not None:
            return self._call(self.on_apply, a, ids)
        # built-in mirror: apply to our registrations and report back, like the C client
        for sid in ids:
            if a.join:
                self.join(sid, list(a.join))
            if a.leave:
                self.leave(sid, list(a.leave))
            if a.disconnect:
                self.socket_down(sid)

    def _on_async_error(self, e):
        err = from_frame(e)
        self.counters['refused'] += 1
        # a refused socket up must not be re-registered after a reconnect
        if err.code == 'DUPLICATE' and err.ref:
            self.mirror.remove(err.ref)
        self.log.warning('sidecast: sidecastd refused a frame (%s, ref %r): %s', err.code, err.ref, err)
        self._call(self.on_refused, err)

    def _call(self, fn, *args):
        """Run a handler: plain ones now, async ones through the ordered, bounded inbox."""
        if fn is None:
            return
        if asyncio.iscoroutinefunction(fn):
            self._inbox.append((fn, args))
            if self._inbox_task is None or self._inbox_task.done():
                self._inbox_task = self._loop.create_task(self._drain_inbox())
            self._inbox_wake.set()
            if len(self._inbox) >= self.inbox_limit and not self._paused and self._transport is not None:
                self._paused = True
                self.counters['inbox_paused'] += 1
                self._transport.pause_reading()
            return
        try:
            fn(*args)
        except Exception:
            self.counters['handler_errors'] += 1
            self.log.exception('sidecast: handler %s failed', getattr(fn, '__name__', fn))

    async def _drain_inbox(self):
        """Run async handlers one at a time, in arrival order; resume reading when half empty."""
        while not self._closed:
            if not self._inbox:
                self._inbox_wake.clear()
                await self._inbox_wake.wait()
                continue
            fn, args = self._inbox.popleft()
            try:
                await fn(*args)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.counters['handler_errors'] += 1
                self.log.exception('sidecast: handler %s failed', getattr(fn, '__name__', fn))
            if self._paused and len(self._inbox) <= self.inbox_limit // 2:
                self._paused = False
                if self._transport is not None:
                    self._transport.resume_reading()

    # ---- registration (fire-and-forget; kept in the mirror) ----------------------

    def socket_up(self, socket_id, session_id='', user_id='', data=None, rooms=()):
        """Register a socket (mirrored: re-registered after a reconnect)."""
        if socket_id in self.mirror:
            raise SidecastError('DUPLICATE', 'socket %s is already registered' % socket_id, socket_id)
        rooms = list(rooms)
        data = _bytes(data) if data is not None else None
        self.mirror.add(socket_id, session_id, user_id, data, rooms)
        self.send_socket_up(socket_id, session_id, user_id, data, rooms)

    def socket_down(self, socket_id):
        self.mirror.remove(socket_id)
        self.send_socket_down(socket_id)

    def join(self, socket_id, rooms):
        rooms = [rooms] if isinstance(rooms, str) else list(rooms)
        self.mirror.join(socket_id, rooms)
        self.send_join(socket_id, rooms)

    def leave(self, socket_id, rooms=None):
        """Leave rooms; none: every room."""
        rooms = [rooms] if isinstance(rooms, str) else list(rooms or ())
        self.mirror.leave(socket_id, rooms)
        self.send_leave(socket_id, rooms)

    def set_data(self, socket_id, data):
        s = self.mirror.sockets.get(socket_id)
        if s is not None:
            s.data = _bytes(data)
        self.send_set_data(socket_id, data)

    # Unmirrored senders, for providers that keep their own state. While
    # disconnected they send nothing: the provider's snapshot covers it.

    def send_socket_up(self, socket_id, session_id='', user_id='', data=None, rooms=()):
        self._maybe_start()
        if not self._ready:
            return
        f = pb.Frame()
        up = f.socket_up
        up.SetInParent()
        up.socket_id = socket_id
        up.session_id = session_id or ''
        up.user_id = user_id or ''
        if data:
            up.data = _bytes(data)
        up.rooms.extend(rooms)
        self._write(self._encode(f))

    def send_socket_down(self, socket_id):
        if self._ready:
            f = pb.Frame()
            f.socket_down.SetInParent()
            f.socket_down.socket_id = socket_id
            self._write(self._encode(f))

    def send_join(self, socket_id, rooms):
        if self._ready and rooms:
            f = pb.Frame()
            f.join.SetInParent()
            f.join.socket_id = socket_id
            f.join.rooms.extend(rooms)
            self._write(self._encode(f))

    def send_leave(self, socket_id, rooms):
        if self._ready:
            f = pb.Frame()
            f.leave.SetInParent()
            f.leave.socket_id = socket_id
            f.leave.rooms.extend(rooms)
            self._write(self._encode(f))

    def send_set_data(self, socket_id, data):
        if self._ready:
            f = pb.Frame()
            f.set_data.SetInParent()
            f.set_data.socket_id = socket_id
            f.set_data.data = _bytes(data)
            self._write(self._encode(f))

    def resolve(self, to):
        """Ids of this client's mirrored sockets a selector picks."""
        return self.mirror.resolve(selector(to))

    # ---- emits ---------------------------------------------------------------------

    def payload_error(self, to, payload):
        """The TOO_LARGE error sidecastd would answer for this payload, or None."""
        n = len(payload)
        mx = self.max_payload_bytes
        if mx and n > mx:
            return SidecastError('TOO_LARGE', 'payload of %d bytes is over sidecastd\'s max_payload_bytes %d: '
                                 'sent to nobody' % (n, mx))
        room = self.max_frame_bytes - 256
        if to is not None:
            for names in (to.rooms, to.socket_ids, to.except_rooms, to.except_ids, to.user_ids):
                room -= sum(len(s) * 4 + 4 for s in names)
        if n > room:
            return SidecastError('TOO_LARGE', 'payload of %d bytes does not fit a frame of sidecastd\'s '
                                 'max_frame_bytes %d: sent to nobody' % (n, self.max_frame_bytes))
        return None

    def _emit_frame(self, to, payload, volatile, include_self, local):
        to = selector(to)
        payload = _bytes(payload)
        err = self.payload_error(to, payload)
        if err is not None:
            self.counters['refused_too_large'] += 1
            raise err
        f = pb.Frame()
        fill(f.emit.to, to)
        f.emit.SetInParent()
        f.emit.payload = payload
        f.emit.volatile = bool(volatile)
        f.emit.include_self = bool(include_self)
        f.emit.local = bool(local)
        return f

    def emit(self, to, payload, volatile=False, include_self=False, local=False):
        """Send payload to the sockets ``to`` selects (fire-and-forget).

        While disconnected it waits in the bounded queue (volatile emits are
        dropped). Returns False if dropped (counted); raises TOO_LARGE for a
        payload sidecastd would refuse.
        """
        return self._send(self._emit_frame(to, payload, volatile, include_self, local), volatile)

    async def emit_with_ack(self, to, payload, on_progress=None, volatile=False, include_self=False,
                            local=False, timeout=None):
        """Broadcast and collect acks: on_progress(Progress) per frame; returns the last Progress."""
        f = self._emit_frame(to, payload, volatile, include_self, local)
        f.emit.want_ack = True
        return await self._progress_request(f, on_progress, timeout)

    async def _progress_request(self, frame, on_progress, timeout):
        def on_frame(fr, kind):
            if kind == 'ok':
                return True, None
            if kind != 'progress':
                return False, None
            p = _progress(fr.progress)
            if on_progress is not None:
                on_progress(p)
            return p.done, p
        t = timeout if timeout and timeout > 0 else self.timeout + CLUSTER_MARGIN
        return await self._request(frame, on_frame, t)

    async def server_emit(self, payload, local=False, on_progress=None, want_ack=None, timeout=None):
        """serverSideEmit: payload to every other app connection of the cluster.

        Without on_progress / want_ack it is fire-and-forget (returns None);
        with them, answers arrive as Progress (see emit_with_ack).
        """
        payload = _bytes(payload)
        err = self.payload_error(None, payload)
        if err is not None:
            self.counters['refused_too_large'] += 1
            raise err
        f = pb.Frame()
        f.server_emit.SetInParent()
        f.server_emit.payload = payload
        f.server_emit.local = bool(local)
        if want_ack is None:
            want_ack = on_progress is not None
        if not want_ack:
            self._send(f)
            return None
        f.server_emit.want_ack = True
        return await self._progress_request(f, on_progress, timeout)

    def ack(self, ack_id, expect=0, payloads=(), done=False):
        """Answer a Deliver / ServerMessage that carried an ack id."""
        f = pb.Frame()
        f.ack.SetInParent()
        f.ack.ack_id = ack_id
        f.ack.expect = expect
        f.ack.payloads.extend(_bytes(p) for p in payloads)
        f.ack.done = bool(done)
        return self._send(f)

    # ---- requests --------------------------------------------------------------------

    async def ping(self, timeout=None):
        """Barrier: returns when sidecastd has processed everything sent before."""
        f = pb.Frame()
        f.ping.nonce = int(time.time() * 1000)
        await self._request(f, lambda fr, kind: (kind in ('pong', 'ok'), None), timeout)

    async def fetch_sockets(self, filter=None, with_data=False, with_rooms=False, local=False,
                            exclude_self=False, timeout=None):
        """Sockets ``filter`` selects (empty: all), cluster-wide unless local; each with its node id."""
        out = []
        f = pb.Frame()
        q = f.fetch_sockets
        fill(q.filter, selector(filter))
        q.with_data, q.with_rooms, q.local, q.exclude_self = bool(with_data), bool(with_rooms), bool(local), \
            bool(exclude_self)
        q.SetInParent()

        def on_frame(fr, kind):
            if kind != 'socket_list':
                return False, None
            for s in fr.socket_list.sockets:
                out.append(SocketInfo(s.socket_id, s.session_id, s.user_id, s.data, list(s.rooms), s.node_id))
            return not fr.socket_list.more, out
        t = timeout if timeout and timeout > 0 else self.timeout + CLUSTER_MARGIN
        return await self._request(f, on_frame, t)

    async def rooms(self, names=None, timeout=None):
        """Every room with its size, or the sizes of ``names`` in order (0: no such room)."""
        out = []
        f = pb.Frame()
        f.rooms.names.extend([names] if isinstance(names, str) else list(names or ()))
        f.rooms.SetInParent()

        def on_frame(fr, kind):
            if kind != 'room_list':
                return False, None
            out.extend(RoomInfo(r.name, r.size) for r in fr.room_list.rooms)
            return not fr.room_list.more, out
        return await self._request(f, on_frame, timeout)

    async def stats(self, timeout=None):
        """sidecastd's counters and gauges, by name."""
        f = pb.Frame()
        f.stats.SetInParent()
        return await self._request(
            f, lambda fr, kind: (kind == 'stats_reply', {s.name: s.value for s in fr.stats_reply.stats}), timeout)

    def has_features(self, features):
        """Whether every bit of ``features`` is usable: both sidecastd and this client have it."""
        return self.server_features & CLIENT_FEATURES & features == features

    async def nodes(self, timeout=None):
        """Live nodes (just this one when standalone)."""
        f = pb.Frame()
        f.nodes.SetInParent()

        def on_frame(fr, kind):
            if kind != 'node_list':
                return False, None
            versioned = self.has_features(pb.FEATURE_NODE_VERSIONS)
            return True, [NodeInfo(n.node_id, n.node_name, n.self, n.version if versioned else None,
                                   n.features if versioned else None) for n in fr.node_list.nodes]
        return await self._request(f, on_frame, timeout)

    async def apply(self, filter=None, join=(), leave=(), disconnect=False, close=False, local=False,
                    timeout=None):
        """socketsJoin / socketsLeave / disconnectSockets on every node (or only this one if local).

        Returns once every live node has passed it on to its apps.
        """
        f = pb.Frame()
        a = f.apply
        fill(a.filter, selector(filter) if filter is not None else selector(all=True))
        a.join.extend([join] if isinstance(join, str) else join)
        a.leave.extend([leave] if isinstance(leave, str) else leave)
        a.SetInParent()
        a.disconnect, a.close, a.local = bool(disconnect), bool(close), bool(local)
        t = timeout if timeout and timeout > 0 else self.timeout + CLUSTER_MARGIN
        await self._request(f, lambda fr, kind: (kind == 'ok', None), t)

    async def lookup(self, session_id=None, socket_id=None, user_id=None, local=False, timeout=None):
        """Where is a session / socket / user: every matching socket on a live node."""
        f = pb.Frame()
        q = f.lookup
        if session_id is not None:
            q.session_id = session_id
        elif socket_id is not None:
            q.socket_id = socket_id
        elif user_id is not None:
            q.user_id = user_id
        else:
            raise TypeError('lookup needs session_id, socket_id or user_id')
        q.SetInParent()
        q.local = bool(local)

        def on_frame(fr, kind):
            if kind != 'lookup_result':
                return False, None
            r = fr.lookup_result
            return True, LookupResult([SocketLocation(s.socket_id, s.session_id, s.user_id, s.node_id,
                                                      s.node_name, s.address, s.local) for s in r.sockets],
                                      r.nodes)
        return await self._request(f, on_frame, timeout)

    async def presence(self, user_id, local=False, timeout=None):
        """Is user U online: {'online', 'sockets', 'nodes'}."""
        r = await self.lookup(user_id=user_id, local=local, timeout=timeout)
        return {'online': bool(r.sockets), 'sockets': len(r.sockets), 'nodes': r.nodes}

    async def session_get(self, session_id, timeout=None):
        """A session's data map, whether it exists and whether a socket holds it now."""
        f = pb.Frame()
        f.session_get.SetInParent()
        f.session_get.session_id = session_id

        def on_frame(fr, kind):
            if kind != 'session_data':
                return False, None
            d = fr.session_data
            return True, SessionData(d.found, d.connected, {e.key: e.value for e in d.entries})
        return await self._request(f, on_frame, timeout)

    async def session_set(self, session_id, set=None, delete=(), timeout=None):
        """Change a session's data map (deletes first, then sets); LIMIT if over the bounds."""
        f = pb.Frame()
        s = f.session_set
        s.SetInParent()
        s.session_id = session_id
        for k, v in (set or {}).items():
            e = s.set.add()
            e.key = k
            e.value = _bytes(v)
        s.delete.extend([delete] if isinstance(delete, str) else delete)
        await self._request(f, lambda fr, kind: (kind == 'ok', None), timeout)
