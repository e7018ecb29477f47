'use strict';
// End-to-end test of the chat example in a real browser: Debian's chromium
// driven by playwright-core (never a downloaded browser). Two pages reach
// the chat through HAProxy (round-robin, no stickiness, WebSocket only); the
// test asks each node directly which sockets it holds, so it knows the pages
// landed on different nodes; then each page sees the other join the room,
// sees it in the member list (fetchSockets across nodes) and receives its
// messages, and sees it leave. Exit 0 on success, 1 with a reason otherwise.
// Bounded: every wait has a deadline, the whole test a hard limit.
// Env: SIDECASTD (path to the daemon), CHAT_SCREENSHOT (save a PNG there).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { startChat } = require('./cluster');

const HARD_LIMIT_MS = 150000;
const WAIT_MS = 20000;
const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`ok - ${what}`);
}

// Which node holds socket `id`, asked of every node directly (not through
// the balancer). Polls: the server registers a socket a moment after the
// browser sees it connected.
async function nodeOf(chat, id) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const holders = [];
    for (const n of chat.nodes) {
      const r = await fetch(`${n.url}/node`);
      const body = await r.json();
      if (body.sockets.includes(id)) holders.push(n.name);
    }
    if (holders.length > 1) throw new Error(`socket ${id} on several nodes: ${holders}`);
    if (holders.length === 1) return holders[0];
    if (Date.now() > deadline) throw new Error(`socket ${id} not found on any node`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function connected(page, url) {
  await page.goto(url, { timeout: WAIT_MS });
  await page.waitForFunction(() => window.chatSocket && window.chatSocket.connected, null, { timeout: WAIT_MS });
  return page.evaluate(() => ({ id: window.chatSocket.id, transport: window.chatSocket.io.engine.transport.name }));
}

async function join(page, name, room) {
  await page.fill('#name', name);
  await page.fill('#room', room);
  await page.click('#join button');
  await page.waitForFunction((r) => document.body.dataset.room === r, room, { timeout: WAIT_MS });
}

const logHas = (page, text) =>
  page.waitForFunction((t) => [...document.querySelectorAll('#log li')].some((li) => li.textContent.includes(t)), text, {
    timeout: WAIT_MS,
  });
const memberHas = (page, text) =>
  page.waitForFunction((t) => [...document.querySelectorAll('#members li')].some((li) => li.textContent.includes(t)), text, {
    timeout: WAIT_MS,
  });

async function run(chat, context) {
  const a = await context.newPage();
  const sa = await connected(a, chat.url);
  const nodeA = await nodeOf(chat, sa.id);
  check(sa.transport === 'websocket', `page A connected over websocket (${sa.transport})`);
  console.log(`# page A: socket ${sa.id} on ${nodeA}`);

  // Round-robin puts every request (page, scripts, WebSocket upgrade) on the
  // next node, so where page B lands depends on how many requests went
  // before. A page load is a fixed number of requests, so if B lands with A,
  // one extra request through the balancer shifts the rotation; try again
  // (bounded).
  const b = await context.newPage();
  let sb, nodeB;
  for (let attempt = 1; ; attempt++) {
    sb = await connected(b, chat.url);
    nodeB = await nodeOf(chat, sb.id);
    if (nodeB !== nodeA) break;
    if (attempt === 10) throw new Error(`page B landed on ${nodeA} like page A 10 times`);
    await (await fetch(`${chat.url}/config.js`)).text();
  }
  check(nodeA !== nodeB, `pages on different nodes (A on ${nodeA}, B on ${nodeB}), per the nodes themselves`);
  const shownB = await b.evaluate(() => document.body.dataset.node);
  check(shownB === nodeB, `page B's welcome names its node (${shownB})`);

  await join(a, 'alice', 'lobby');
  await join(b, 'bob', 'lobby');
  await logHas(a, 'bob joined lobby');
  check(true, 'A saw B join the room (broadcast from the other node)');
  await memberHas(a, `bob${nodeB}`);
  await memberHas(b, `alice${nodeA}`);
  check(true, 'each page lists the other in the room, with its node (fetchSockets across nodes)');

  await a.fill('#text', 'hello from alice');
  await a.click('#send');
  await logHas(b, 'alice' + nodeA + ': hello from alice');
  check(true, 'B received A\'s message');
  await b.fill('#text', 'hi from bob');
  await b.click('#send');
  await logHas(a, 'bob' + nodeB + ': hi from bob');
  check(true, 'A received B\'s message');

  if (process.env.CHAT_SCREENSHOT) {
    await a.screenshot({ path: process.env.CHAT_SCREENSHOT });
    console.log(`# screenshot of page A in ${process.env.CHAT_SCREENSHOT}`);
  }

  await b.close();
  await logHas(a, 'bob left lobby');
  check(true, 'A saw B leave when its page closed');
}

async function main() {
  process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = '1';
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sidecast-chromium-'));
  let chat, context;
  try {
    chat = await startChat({ nodes: 2, transport: 'websocket' });
    console.log(`# chat at ${chat.url}, logs in ${chat.dir}`);
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_FLAGS,
      timeout: 60000,
    });
    await run(chat, context);
    console.log('PASS chat e2e');
  } finally {
    if (context) await context.close().catch(() => {});
    if (chat) await chat.stop();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

const limit = setTimeout(() => {
  console.error(`FAIL: chat e2e took longer than ${HARD_LIMIT_MS} ms`);
  process.exit(1);
}, HARD_LIMIT_MS);
main().then(
  () => { clearTimeout(limit); process.exit(0); },
  (err) => {
    console.error(`FAIL: ${err.stack || err}`);
    process.exit(1);
  },
);
