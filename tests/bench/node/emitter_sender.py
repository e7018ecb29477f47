"""The Python emitting process of the emitter benchmark (emitter.js starts it).

The sidecast Python ``Emitter`` (clients/python, Debian's python3-socketio
for the packet encoding), its own connection to the server node's sidecastd
(SIDECAST_SOCKET), emitting as its README shows:
``emitter.to('bench').emit('m', round, seq, payload)``. Control is JSON lines
on stdin / stdout, the protocol of emitter-sender.js:

    <- {"ready": true}
    -> {"cmd": "round", "round": R, "count": N, "window": W, "payload": "..."}
    -> {"cmd": "ack", "round": R, "done": D}
    <- {"sent": N, "round": R}
    -> {"cmd": "exit"}

Run with clients/python and the generated protobuf (<build>/clients/python/gen)
on PYTHONPATH.
"""

import asyncio
import json
import os
import sys

from sidecast import Emitter


class Sender:
    def __init__(self):
        self.emitter = Emitter(os.environ['SIDECAST_SOCKET'], name='bench-py-emitter-%d' % os.getpid())
        self.run = None

    def out(self, m):
        sys.stdout.write(json.dumps(m) + '\n')
        sys.stdout.flush()

    def pump(self):
        r = self.run
        if r is None:
            return
        up_to = min(r['count'], r['done'] + r['window'])
        emitter, rnd, payload = self.emitter, r['round'], r['payload']
        n = r['next']
        while n <= up_to:
            emitter.to('bench').emit('m', rnd, n, payload)
            n += 1
        r['next'] = n
        if n > r['count'] and not r['reported']:
            r['reported'] = True
            self.out({'sent': r['count'], 'round': rnd})

    async def main(self):
        loop = asyncio.get_running_loop()
        await self.emitter.ready(10)
        reader = asyncio.StreamReader(limit=1 << 20)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        self.out({'ready': True, 'pid': os.getpid()})
        while True:
            line = await reader.readline()
            if not line:
                break  # the bench went away
            m = json.loads(line)
            if m['cmd'] == 'round':
                self.run = dict(round=m['round'], count=m['count'], window=m['window'], payload=m['payload'],
                                next=1, done=0, reported=False)
                self.pump()
            elif m['cmd'] == 'ack':
                r = self.run
                if r is not None and m['round'] == r['round'] and m['done'] > r['done']:
                    r['done'] = m['done']
                    self.pump()
            elif m['cmd'] == 'exit':
                break
        await self.emitter.close()


if __name__ == '__main__':
    asyncio.run(Sender().main())
