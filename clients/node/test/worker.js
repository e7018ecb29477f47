'use strict';
// A socket.io worker process for the standalone test: listens on a free
// loopback port with the sidecast adapter on $SOCK and runs what the parent
// asks over IPC.
const h = require('./harness');

(async () => {
  const srv = await h.startIo(process.env.SOCK);
  const io = srv.io;
  io.on('connection', (socket) => socket.on('join', (r, cb) => (socket.join(r), cb())));
  io.on('whoami', (cb) => cb(process.env.NAME));
  process.on('message', async (m) => {
    const reply = (v) => process.send({ id: m.id, v });
    try {
      if (m.cmd === 'emit') io.to(m.room).emit(m.ev, m.arg);
      if (m.cmd === 'fetch') return reply((await io.in(m.room).fetchSockets()).map((s) => s.id).sort());
      if (m.cmd === 'ack') return reply(await io.to(m.room).timeout(8000).emitWithAck('ask', m.arg));
      if (m.cmd === 'count') return reply(await io.of('/').adapter.serverCount());
      if (m.cmd === 'ssack') return reply(await io.serverSideEmitWithAck('whoami'));
      if (m.cmd === 'join') io.in(m.room).socketsJoin(m.to);
      if (m.cmd === 'rooms') return reply([...(io.of('/').adapter.rooms.get(m.room) || [])].sort());
      if (m.cmd === 'close') {
        await srv.close();
        return reply('closed');
      }
      reply(null);
    } catch (e) {
      process.send({ id: m.id, err: e.message });
    }
  });
  process.send({ ready: true, port: srv.port });
})();
