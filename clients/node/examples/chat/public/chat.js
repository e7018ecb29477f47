'use strict';
// The chat page: one socket.io connection through the load balancer, using
// only the transports the server allows (websocket by default, so no
// stickiness is needed).
(function () {
  const $ = (id) => document.getElementById(id);
  const socket = io({ transports: window.CHAT_CONFIG.transports, reconnectionDelayMax: 2000 });
  window.chatSocket = socket;
  const members = new Map();
  let room = null;

  function line(cls, parts) {
    const li = document.createElement('li');
    li.className = cls;
    for (const [text, c] of parts) {
      const span = document.createElement('span');
      if (c) span.className = c;
      span.textContent = text;
      li.appendChild(span);
    }
    $('log').appendChild(li);
    $('log').scrollTop = $('log').scrollHeight;
  }

  function renderMembers() {
    const ul = $('members');
    ul.replaceChildren();
    for (const m of [...members.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      const li = document.createElement('li');
      li.dataset.id = m.id;
      li.textContent = m.name;
      const n = document.createElement('span');
      n.className = 'node';
      n.textContent = m.node;
      li.appendChild(n);
      ul.appendChild(li);
    }
  }

  socket.on('welcome', (w) => {
    $('status').textContent = `connected to ${w.node} (${socket.io.engine.transport.name})`;
    document.body.dataset.node = w.node;
    if (room) join(); // after a reconnect, join again
  });
  socket.on('disconnect', () => { $('status').textContent = 'disconnected, reconnecting…'; });

  socket.on('joined', (m) => {
    if (m.room !== room) return;
    if (m.id !== socket.id) line('event', [[`${m.name} joined ${m.room}`], [m.node, 'node']]);
    members.set(m.id, m);
    renderMembers();
  });
  socket.on('left', (m) => {
    if (m.room !== room || !members.has(m.id)) return;
    members.delete(m.id);
    line('event', [[`${m.name} left ${m.room}`]]);
    renderMembers();
  });
  socket.on('message', (m) => {
    line('msg', [[m.name, 'who'], [m.node, 'node'], [': ' + m.text]]);
  });

  function join() {
    const name = $('name').value.trim();
    const wanted = $('room').value.trim();
    socket.emit('join', { name, room: wanted }, (r) => {
      if (!r.ok) { line('event', [[`join failed: ${r.error}`]]); return; }
      room = r.room;
      $('roomname').textContent = room;
      members.clear();
      for (const m of r.members) members.set(m.id, m);
      renderMembers();
      line('event', [[`you joined ${room} as ${name}`]]);
      $('text').disabled = $('send').disabled = false;
      document.body.dataset.room = room;
    });
  }

  $('join').addEventListener('submit', (e) => { e.preventDefault(); join(); });
  $('say').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('text').value.trim();
    if (!text) return;
    socket.emit('say', { text });
    $('text').value = '';
  });
})();
