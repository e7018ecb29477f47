"""One python-socketio 5 AsyncServer (aiohttp) of bench.py: the SidecastManager or
python-socketio's own AsyncRedisManager, and the emit loop bench.py drives over HTTP.

  app.py --manager sidecast --sock PATH      (the node's sidecastd)
  app.py --manager redis --redis-url URL     (AsyncRedisManager, channel "socketio")

Prints one JSON line {"port", "udp"} when it serves. Every client that connects
joins room "bench". POST /bench/run {case, seconds, window, rate, sids} emits
'm' {r: round, k: 'r' | 't', w: window mode, s: seq, p: payload} to room "bench" (case "room") or to the
sids in turn (case "target"), at most `window` emits not yet received by the
clients (client.js reports what they got by UDP datagram "round room target"
to this process's "udp" port), or at `rate` per second; then waits (bounded)
for the last one and answers {emits, done, elapsed}. GET /bench/info: the
local sids.
"""

import argparse
import asyncio
import json
import sys
import time

import socketio
from aiohttp import web

PAYLOAD = 'x' * 100


class Acks(asyncio.DatagramProtocol):
    def __init__(self, state):
        self.state = state

    def datagram_received(self, data, addr):
        try:
            rnd, room, target = (int(x) for x in data.split())
        except ValueError:
            return
        st = self.state
        if rnd != st['round']:
            return
        st['done'] = room if st['case'] == 'room' else target
        st['ev'].set()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--manager', choices=('sidecast', 'redis'), required=True)
    ap.add_argument('--sock')
    ap.add_argument('--redis-url')
    a = ap.parse_args()
    if a.manager == 'sidecast':
        from sidecast import SidecastManager
        mgr = SidecastManager(a.sock)
    else:
        mgr = socketio.AsyncRedisManager(a.redis_url)
    sio = socketio.AsyncServer(client_manager=mgr, async_mode='aiohttp', logger=False, engineio_logger=False)

    @sio.on('connect')
    async def connect(sid, environ):
        sio.enter_room(sid, 'bench')

    state = {'round': 0, 'done': 0, 'case': 'room', 'ev': asyncio.Event()}
    loop = asyncio.get_running_loop()
    udp, _ = await loop.create_datagram_endpoint(lambda: Acks(state), local_addr=('127.0.0.1', 0))

    async def info(req):
        return web.json_response({'sids': sorted(mgr.rooms.get('/', {}).get(None, {}))})

    async def run(req):
        b = await req.json()
        case, seconds = b['case'], float(b['seconds'])
        window, rate, sids = int(b.get('window') or 0), float(b.get('rate') or 0), b.get('sids') or []
        state['round'] += 1
        rnd = state['round']
        state.update(done=0, case=case)
        ev = state['ev']
        seq = 0
        t0 = time.monotonic()
        end = t0 + seconds
        while True:
            now = time.monotonic()
            if now >= end:
                break
            if rate:
                due = t0 + seq / rate
                if due > now:
                    await asyncio.sleep(due - now)
                    continue
            elif seq - state['done'] >= window:
                ev.clear()
                try:
                    await asyncio.wait_for(ev.wait(), 10)
                except asyncio.TimeoutError:
                    break
                continue
            seq += 1
            msg = {'r': rnd, 'k': case[0], 'w': 0 if rate else 1, 's': seq, 'p': PAYLOAD}
            if case == 'room':
                await sio.emit('m', msg, room='bench')
            else:
                await sio.emit('m', msg, to=sids[seq % len(sids)])
        give_up = time.monotonic() + 15
        while state['done'] < seq and time.monotonic() < give_up:
            ev.clear()
            try:
                await asyncio.wait_for(ev.wait(), 1)
            except asyncio.TimeoutError:
                pass
        return web.json_response({'emits': seq, 'done': state['done'], 'elapsed': time.monotonic() - t0})

    app = web.Application()
    sio.attach(app)
    app.router.add_get('/bench/info', info)
    app.router.add_post('/bench/run', run)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, '127.0.0.1', 0)
    await site.start()
    if a.manager == 'sidecast':
        await mgr.ready(15)
    print(json.dumps({'port': runner.addresses[0][1], 'udp': udp.get_extra_info('sockname')[1]}), flush=True)
    stop = asyncio.Event()
    loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not sys.stdin.readline() else None)
    await stop.wait()  # bench.py closes our stdin
    await runner.cleanup()
    if a.manager == 'sidecast':
        await mgr.close()


asyncio.run(main())
