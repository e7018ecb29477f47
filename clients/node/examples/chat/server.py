"""One chat node in Python: the same page, the same socket.io events as
server.js, on python-socketio's AsyncServer (aiohttp) with the sidecast
manager talking to this node's own sidecastd. A Node node (server.js) and
this one serve one cluster: a browser cannot tell which one it is on.

Debian's packages only (python3-socketio 5.7, python3-aiohttp,
python3-protobuf): run it with /usr/bin/python3, with clients/python and the
generated sidecast_pb2 on PYTHONPATH (cluster.js does all of this).
Configured by environment, as server.js:
  PORT             port to listen on (127.0.0.1)
  CHAT_NODE        name shown to users ("node-2")
  SIDECAST_SOCKET  this node's sidecastd Unix socket
  CHAT_TRANSPORTS  comma list for the page, e.g. "websocket"
  CHAT_FORWARD     "0": do not forward other nodes' polling requests
  CHAT_CLIENT_JS   socket.io-client's dist/socket.io.js (default: the one in
                   this example's node_modules, as server.js serves it)

Long-polling without stickiness: like server.js's enableForwarding(io), a
polling request (GET or POST) for an engine.io session this node does not
hold is looked up in the sidecast directory and proxied to the owner's
advertise_address (see Forwarder below); the engine.io session is
registered at the engine.io handshake, before socket.io's CONNECT packet,
so Node nodes can forward to this one at once. WebSocket upgrades of a
foreign session are not forwarded here (the page uses one transport only).
"""

import asyncio
import json
import logging
import os
import re
import signal

import aiohttp
import socketio
from aiohttp import web

from sidecast import SidecastManager
from sidecast.errors import SidecastError

HERE = os.path.dirname(os.path.abspath(__file__))
PORT = int(os.environ.get('PORT') or 3000)
NODE_NAME = os.environ.get('CHAT_NODE') or 'node-%d' % PORT
TRANSPORTS = (os.environ.get('CHAT_TRANSPORTS') or 'websocket').split(',')
CLIENT_JS = os.environ.get('CHAT_CLIENT_JS') or os.path.join(
    HERE, 'node_modules', 'socket.io', 'client-dist', 'socket.io.js')

CLIENT_VERSION = None  # set in main()
PAGE = os.path.join(HERE, 'public')
FILES = {
    '/': ('index.html', 'text/html; charset=utf-8'),
    '/chat.js': ('chat.js', 'text/javascript; charset=utf-8'),
    '/chat.css': ('chat.css', 'text/css; charset=utf-8'),
}
NO_STORE = {'cache-control': 'no-store'}

log = logging.getLogger('chat')


def clean(s, limit):
    """server.js's clean(): the string, trimmed, at most `limit` characters."""
    if s is None:
        return ''
    if isinstance(s, bool):
        s = 'true' if s else 'false'
    elif isinstance(s, float) and s.is_integer():
        s = str(int(s))
    return str(s).strip()[:limit]


def field(msg, key):
    return msg.get(key) if isinstance(msg, dict) else None


# ---- sticky-free long-polling ------------------------------------------------------

FORWARDED = 'x-sidecast-forwarded'
SID_RE = re.compile(r'^[A-Za-z0-9_-]{1,64}$')
HOP = {'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade',
       'proxy-authenticate', 'proxy-authorization', 'content-length', 'host'}
ADDR_RE = re.compile(r'^([A-Za-z0-9.-]+):(\d{1,5})$')


class Forwarder:
    """Polling requests of sessions other nodes hold, proxied to the owner.

    The same rules as clients/node's enableForwarding: the target is only
    ever an address the directory returned for a live node; a forwarded
    request carries x-sidecast-forwarded and is never forwarded again; a
    lookup that misses is retried briefly (the owner's registration may be
    on its way), then the request is left to engine.io. Bounded: requests in
    flight, lookup and request timeouts. stats() has the shape of the Node
    forwarder's, so /node looks the same on every node.
    """

    def __init__(self, sio, client, *, timeout=50.0, lookup_timeout=2.0, max_in_flight=1024,
                 miss_retries=5, miss_retry_s=0.025):
        self.sio = sio
        self.client = client
        self.timeout = timeout
        self.lookup_timeout = lookup_timeout
        self.max_in_flight = max_in_flight
        self.miss_retries = miss_retries
        self.miss_retry_s = miss_retry_s
        self.counters = dict(forwardedPoll=0, forwardedPost=0, forwardedUpgrade=0, served=0, lookups=0,
                             lookupRetries=0, cacheHits=0)
        self.failures = dict(unknown_sid=0, lookup_error=0, bad_address=0, unreachable=0, timeout=0,
                             limit=0, upstream_error=0, client_aborted=0)
        self.in_flight = 0
        self.session = None

    def stats(self):
        return dict(self.counters, failures=dict(self.failures), inFlight=self.in_flight, tunnels=0, cached=0)

    def _fail(self, reason, msg):
        self.failures[reason] += 1
        log.warning('sidecast forward: %s: %s', reason, msg)

    async def close(self):
        if self.session is not None:
            await self.session.close()

    async def _owner(self, sid):
        """(host, port) of the node holding engine.io session `sid`; None: leave it to engine.io."""
        delay = self.miss_retry_s
        for attempt in range(self.miss_retries + 1):
            self.counters['lookups'] += 1
            try:
                r = await self.client.lookup(session_id=sid, timeout=self.lookup_timeout)
            except SidecastError as e:
                self._fail('lookup_error', 'lookup of session %s failed (%s)' % (sid, e))
                return 'lookup_error'
            hit = next((s for s in r.sockets if s.session_id == sid), None)
            if hit is not None:
                if hit.local:
                    return None
                m = ADDR_RE.match(hit.address.strip())
                if not m:
                    self._fail('bad_address', 'node %s owns session %s but advertises no usable address (%r)'
                               % (hit.node_name or hit.node_id, sid, hit.address))
                    return 'bad_address'
                return m.group(1), int(m.group(2))
            if attempt == self.miss_retries or sid in self.sio.eio.sockets:
                break
            self.counters['lookupRetries'] += 1
            await asyncio.sleep(delay)
            delay *= 2
            if sid in self.sio.eio.sockets:
                return None
        if sid not in self.sio.eio.sockets:
            self._fail('unknown_sid', 'session %s is in no node\'s directory; left to engine.io' % sid)
        return None

    async def handle(self, request):
        """The response for a foreign session's request, or None: engine.io serves it."""
        if request.headers.get(FORWARDED) is not None:
            self.counters['served'] += 1
            return None
        sid = request.query.get('sid')
        if sid is None or not SID_RE.match(sid) or sid in self.sio.eio.sockets:
            return None
        if request.headers.get('upgrade', '').lower() == 'websocket':
            return None  # not forwarded by this example: engine.io answers
        owner = await self._owner(sid)
        if owner is None:
            return None
        if isinstance(owner, str):
            return web.json_response({'code': 502, 'message': 'sidecast: ' + owner}, status=502)
        if self.in_flight >= self.max_in_flight:
            self._fail('limit', '%d forwarded requests in flight; refusing session %s' % (self.in_flight, sid))
            return web.json_response({'code': 503, 'message': 'sidecast: forward limit reached'}, status=503)
        return await self._proxy(request, sid, owner)

    async def _proxy(self, request, sid, owner):
        if self.session is None:
            self.session = aiohttp.ClientSession(auto_decompress=False,
                                                 connector=aiohttp.TCPConnector(limit=self.max_in_flight))
        self.counters['forwardedPost' if request.method == 'POST' else 'forwardedPoll'] += 1
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP and k.lower() != FORWARDED}
        headers['Host'] = request.headers.get('host', '')
        headers[FORWARDED] = NODE_NAME
        peer = request.remote or ''
        xff = request.headers.get('x-forwarded-for')
        headers['x-forwarded-for'] = '%s, %s' % (xff, peer) if xff else peer
        body = await request.read() if request.can_read_body else None
        url = 'http://%s:%d%s' % (owner[0], owner[1], request.path_qs)
        self.in_flight += 1
        try:
            async with self.session.request(request.method, url, headers=headers, data=body,
                                            timeout=aiohttp.ClientTimeout(total=self.timeout, connect=3.0)) as up:
                payload = await up.read()
                out = {k: v for k, v in up.headers.items() if k.lower() not in HOP}
                return web.Response(status=up.status, headers=out, body=payload)
        except asyncio.TimeoutError:
            self._fail('timeout', 'session %s at %s:%d: no answer within %.0f s' % (sid, owner[0], owner[1],
                                                                                     self.timeout))
            return web.json_response({'code': 504, 'message': 'sidecast: owner timed out'}, status=504)
        except aiohttp.ClientConnectionError as e:
            self._fail('unreachable', 'session %s at %s:%d: %s' % (sid, owner[0], owner[1], e))
            return web.json_response({'code': 502, 'message': 'sidecast: owner unreachable'}, status=502)
        finally:
            self.in_flight -= 1


class ChatServer(socketio.AsyncServer):
    """AsyncServer that registers each engine.io session with sidecastd at the
    handshake (socket "eio:<sid>", no rooms), as the Node forwarder does: a
    request of this session that reaches another node before socket.io's
    CONNECT packet finds its owner."""

    register_sessions = False

    async def _handle_eio_connect(self, eio_sid, environ):
        await super()._handle_eio_connect(eio_sid, environ)
        if self.register_sessions:
            try:
                self.manager.client.socket_up('eio:' + eio_sid, session_id=eio_sid)
            except SidecastError:
                pass

    async def _handle_eio_disconnect(self, eio_sid):
        await super()._handle_eio_disconnect(eio_sid)
        if self.register_sessions and ('eio:' + eio_sid) in self.manager.client.mirror:
            self.manager.client.socket_down('eio:' + eio_sid)


# ---- the chat ---------------------------------------------------------------------

mgr = SidecastManager(os.environ.get('SIDECAST_SOCKET'), client_options={'name': NODE_NAME})
# always_connect: the CONNECT answer goes before the connect handler's emits,
# in socket.io's order (welcome follows connect)
sio = ChatServer(client_manager=mgr, async_mode='aiohttp', transports=TRANSPORTS,
                 ping_interval=25, ping_timeout=20, always_connect=True)
forwarder = None
data = {}  # sid -> socket.io's socket.data: {node, name, room}


def set_data(sid, d):
    data[sid] = d
    mgr.set_data(sid, d)  # what other nodes' fetchSockets() see


@sio.on('connect')
async def on_connect(sid, environ):
    set_data(sid, {'node': NODE_NAME})
    await sio.emit('welcome', {'id': sid, 'node': NODE_NAME}, to=sid)


@sio.on('join')
async def on_join(sid, msg=None):
    """Leave the previous room, join the new one, tell the room (on every
    node), and answer with the room's members from every node."""
    name = clean(field(msg, 'name'), 32) or 'anonymous'
    room = clean(field(msg, 'room'), 32) or 'lobby'
    prev = data.get(sid, {}).get('room')
    if prev and prev != room:
        sio.leave_room(sid, prev)
        await sio.emit('left', {'id': sid, 'name': data[sid].get('name'), 'room': prev}, to=prev)
    set_data(sid, {'node': NODE_NAME, 'name': name, 'room': room})
    sio.enter_room(sid, room)
    await sio.emit('joined', {'id': sid, 'name': name, 'room': room, 'node': NODE_NAME}, to=room)
    try:
        members = await mgr.fetch_sockets(room)
    except SidecastError as e:
        return {'ok': False, 'error': str(e)}
    return {'ok': True, 'room': room, 'members': [dict(m['data'] or {}, id=m['sid']) for m in members]}


@sio.on('say')
async def on_say(sid, msg=None):
    d = data.get(sid, {})
    room = d.get('room')
    text = clean(field(msg, 'text'), 500)
    if not room or not text:
        return
    await sio.emit('message', {'id': sid, 'name': d.get('name'), 'node': NODE_NAME, 'text': text}, to=room)


@sio.on('disconnect')
async def on_disconnect(sid):
    # python-socketio calls this while the socket is still in its rooms, as
    # socket.io's 'disconnecting'
    d = data.pop(sid, {})
    room = d.get('room')
    if room:
        await sio.emit('left', {'id': sid, 'name': d.get('name'), 'room': room}, to=room, skip_sid=sid)


# ---- HTTP ---------------------------------------------------------------------------

async def config_js(request):
    cfg = json.dumps({'transports': TRANSPORTS}, separators=(',', ':'))
    return web.Response(text='window.CHAT_CONFIG = %s;\n' % cfg, content_type='text/javascript', headers=NO_STORE)


async def node_info(request):
    """Which sockets this node holds (as server.js's /node)."""
    sockets = list(mgr.rooms.get('/', {}).get(None, {}))
    return web.json_response({'node': NODE_NAME, 'sockets': sockets, 'lang': 'python',
                              'forward': forwarder.stats() if forwarder else None}, headers=NO_STORE)


def static(name, ctype):
    async def handler(request):
        with open(os.path.join(PAGE, name), 'rb') as f:
            body = f.read()
        return web.Response(body=body, headers=dict(NO_STORE, **{'content-type': ctype}))
    return handler


def client_version():
    """socket.io's version: its ETag for the client bundle it serves."""
    pkg = os.path.join(os.path.dirname(os.path.dirname(CLIENT_JS)), 'package.json')
    try:
        with open(pkg) as f:
            return json.load(f)['version']
    except (OSError, ValueError, KeyError):
        return str(int(os.stat(CLIENT_JS).st_mtime))


async def client_js(request):
    """/socket.io/socket.io.js as socket.io's serveClient sends it: ETag = the
    client's version, revalidated on every load (Cache-Control max-age=0)."""
    etag = '"%s"' % CLIENT_VERSION
    if request.headers.get('if-none-match') in (etag, 'W/' + etag):
        return web.Response(status=304)
    with open(CLIENT_JS, 'rb') as f:
        body = f.read()
    return web.Response(body=body, headers={'content-type': 'application/javascript; charset=utf-8',
                                            'cache-control': 'public, max-age=0', 'etag': etag})


async def socketio_handler(request):
    if forwarder is not None:
        r = await forwarder.handle(request)
        if r is not None:
            return r
    return await sio.handle_request(request)


async def main():
    global forwarder, CLIENT_VERSION
    CLIENT_VERSION = client_version()
    logging.basicConfig(level=logging.WARNING, format='%(asctime)s %(name)s %(levelname)s %(message)s')
    app = web.Application()
    # engine.io's endpoint, through the forwarder (sio.attach(app) without it)
    for method in ('GET', 'POST', 'OPTIONS'):
        app.router.add_route(method, '/socket.io/', socketio_handler)
    app.router.add_get('/socket.io/socket.io.js', client_js)
    app.router.add_get('/config.js', config_js)
    app.router.add_get('/node', node_info)
    for path, (name, ctype) in FILES.items():
        app.router.add_get(path, static(name, ctype))
    if os.environ.get('CHAT_FORWARD') != '0':
        forwarder = Forwarder(sio, mgr.client)
        sio.register_sessions = True
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, '127.0.0.1', PORT)
    await site.start()
    mgr.initialize()  # connect to sidecastd now, not at the first client
    sio.manager_initialized = True
    print('%s listening on 127.0.0.1:%d (python-socketio)' % (NODE_NAME, PORT), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    await stop.wait()
    try:
        await asyncio.wait_for(runner.cleanup(), 2)
    except asyncio.TimeoutError:
        pass
    if forwarder is not None:
        await forwarder.close()
    await mgr.close()


if __name__ == '__main__':
    asyncio.run(main())
