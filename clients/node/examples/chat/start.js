'use strict';
// By hand: node start.js [--nodes N] [--port P] [--transport websocket|polling]
// [--python 2[,3]] (those nodes run the Python server.py); prints the URL, runs until
// Ctrl-C. start.sh is the usual way in.
const { startChat } = require('./cluster');

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : def;
}

(async () => {
  const chat = await startChat({
    nodes: Number(arg('--nodes', 2)),
    port: Number(arg('--port', 0)),
    transport: arg('--transport', 'websocket'),
    python: arg('--python', process.env.CHAT_PYTHON_NODES),
  });
  console.log(`chat: ${chat.url}`);
  for (const n of chat.nodes) console.log(`  ${n.name}: ${n.url} (${n.lang === 'python' ? 'server.py' : 'server.js'}, sidecastd ${n.socket})`);
  console.log(`  redis: 127.0.0.1:${chat.redisPort}; logs in ${chat.dir}`);
  console.log('Ctrl-C stops everything.');
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    chat.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
})().catch((err) => {
  console.error(`chat: ${err.message}`);
  process.exit(1);
});
