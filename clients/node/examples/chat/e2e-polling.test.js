'use strict';
// The chat example in a real browser (Debian's chromium driven by
// playwright-core) over HTTP long-polling only, through HAProxy round-robin
// without stickiness (no cookie, no stick table) in front of three nodes.
// Each node forwards the polls of sessions it does not own to the owner
// (sidecast enableForwarding). Two pages connect, join a room, trade
// numbered messages across nodes (each counted exactly once on both pages);
// the test checks that their sessions' requests were really spread over
// nodes (forwarded polls counted by the nodes), that no page lost or
// reconnected its session, and that the balancer set no cookie.
// With CHAT_PYTHON_NODES=2 (CTest sticky_chat_e2e_python) node-2 is the
// Python server (server.py), which forwards too: one page is then on the
// Python node and one on a Node node, and the Python node must have both
// forwarded requests of the Node session to its owner and served requests
// the Node nodes forwarded to it.
// Exit 0 on success, 1 with a reason otherwise; every wait is bounded.
// Env: SIDECASTD (path to the daemon), CHAT_PYTHON_NODES (nodes running
// server.py), CHAT_SCREENSHOT (save a PNG there).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { startChat } = require('./cluster');

const HARD_LIMIT_MS = 150000;
const WAIT_MS = 20000;
const MESSAGES = 5;
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`ok - ${what}`);
}

async function nodeStats(chat) {
  const out = [];
  for (const n of chat.nodes) out.push(await (await fetch(`${n.url}/node`)).json());
  return out;
}

async function nodeOf(chat, id) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const holders = (await nodeStats(chat)).filter((s) => s.sockets.includes(id)).map((s) => s.node);
    if (holders.length > 1) throw new Error(`socket ${id} on several nodes: ${holders}`);
    if (holders.length === 1) return holders[0];
    if (Date.now() > deadline) throw new Error(`socket ${id} not found on any node`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function open(context, url) {
  const page = await context.newPage();
  await page.goto(url, { timeout: WAIT_MS });
  await page.waitForFunction(() => window.chatSocket && window.chatSocket.connected, null, { timeout: WAIT_MS });
  // record every disruption of the session from now on
  await page.evaluate(() => {
    window.trouble = [];
    const s = window.chatSocket;
    s.on('disconnect', (r) => window.trouble.push(`disconnect: ${r}`));
    s.on('connect_error', (e) => window.trouble.push(`connect_error: ${e.message}`));
    s.io.on('reconnect_attempt', () => window.trouble.push('reconnect_attempt'));
  });
  const info = await page.evaluate(() => ({
    id: window.chatSocket.id,
    transport: window.chatSocket.io.engine.transport.name,
    cookie: document.cookie,
  }));
  return { page, ...info };
}

async function join(page, name, room) {
  await page.fill('#name', name);
  await page.fill('#room', room);
  await page.click('#join button');
  await page.waitForFunction((r) => document.body.dataset.room === r, room, { timeout: WAIT_MS });
}

// How many lines of the page's log read exactly `text`; countIs waits
// (bounded) for that count to be `n`.
const count = (page, text) =>
  page.evaluate((t) => [...document.querySelectorAll('#log li')].filter((li) => li.textContent === t).length, text);
const countIs = (page, text, n) =>
  page
    .waitForFunction(
      ([t, k]) => [...document.querySelectorAll('#log li')].filter((li) => li.textContent === t).length === k,
      [text, n],
      { timeout: WAIT_MS },
    )
    .catch(async (err) => {
      throw new Error(`${JSON.stringify(text)}: ${await count(page, text)} times, not ${n} (${err.message})`);
    });

async function run(chat, context) {
  const lang = Object.fromEntries(chat.nodes.map((n) => [n.name, n.lang]));
  const python = chat.nodes.filter((n) => n.lang === 'python').map((n) => n.name);
  const before = await nodeStats(chat);
  const a = await open(context, chat.url);
  let b = await open(context, chat.url);
  check(a.transport === 'polling' && b.transport === 'polling', 'both pages connected over long-polling');
  const nodeA = await nodeOf(chat, a.id);
  let nodeB = await nodeOf(chat, b.id);
  // A mixed cluster: one page on the Python node, one on a Node node. Where
  // a session lives is where its handshake landed (round-robin): if not so,
  // open B again, one request later in the rotation (bounded).
  const mixed = () => python.includes(nodeA) !== python.includes(nodeB);
  for (let attempt = 1; python.length && !mixed(); attempt++) {
    if (attempt === 10) throw new Error(`no page on the Python node and one on a Node node after 10 tries`);
    await b.page.close();
    await (await fetch(`${chat.url}/config.js`)).text();
    b = await open(context, chat.url);
    nodeB = await nodeOf(chat, b.id);
  }
  console.log(`# page A: socket ${a.id} on ${nodeA} (${lang[nodeA]}); page B: socket ${b.id} on ${nodeB} (${lang[nodeB]})`);
  if (python.length) check(mixed(), `one page on the Python node, one on a Node node (A: ${lang[nodeA]}, B: ${lang[nodeB]})`);

  await join(a.page, 'alice', 'lobby');
  await join(b.page, 'bob', 'lobby');
  await countIs(a.page, `bob joined lobby${nodeB}`, 1);
  check(true, 'A saw B join the room once');
  const lines = [];
  for (let i = 1; i <= MESSAGES; i++) {
    await a.page.fill('#text', `ping ${i} from alice`);
    await a.page.click('#send');
    lines.push(`alice${nodeA}: ping ${i} from alice`);
    for (const p of [a, b]) await countIs(p.page, lines[lines.length - 1], 1);
    await b.page.fill('#text', `pong ${i} from bob`);
    await b.page.click('#send');
    lines.push(`bob${nodeB}: pong ${i} from bob`);
    for (const p of [a, b]) await countIs(p.page, lines[lines.length - 1], 1);
  }
  // every count again, after the last round trip
  for (const [p, label] of [[a, 'A'], [b, 'B']]) {
    const bad = [];
    for (const line of lines) if ((await count(p.page, line)) !== 1) bad.push(line);
    check(bad.length === 0, `page ${label}: each of the ${lines.length} messages exactly once ${bad.join('; ')}`);
  }
  check(true, `${MESSAGES} round trips of messages between the pages`);

  if (process.env.CHAT_SCREENSHOT) {
    await a.page.screenshot({ path: process.env.CHAT_SCREENSHOT });
    console.log(`# screenshot of page A in ${process.env.CHAT_SCREENSHOT}`);
  }

  for (const [p, label] of [
    [a, 'A'],
    [b, 'B'],
  ]) {
    const now = await p.page.evaluate(() => ({
      id: window.chatSocket.id,
      connected: window.chatSocket.connected,
      trouble: window.trouble,
    }));
    check(now.connected && now.id === p.id, `page ${label} kept its session (${p.id})`);
    check(now.trouble.length === 0, `page ${label}: no disconnect, error or reconnect (${now.trouble.join('; ')})`);
  }
  const after = await nodeStats(chat);
  const forwarded = (ss) => ss.reduce((n, s) => n + s.forward.forwardedPoll + s.forward.forwardedPost, 0);
  const served = (ss) => ss.reduce((n, s) => n + s.forward.served, 0);
  const moved = forwarded(after) - forwarded(before);
  check(
    moved > 0 && served(after) > served(before),
    `the balancer spread the sessions: ${moved} requests forwarded to their owner`,
  );
  for (const name of python) {
    const i = chat.nodes.findIndex((n) => n.name === name);
    const f0 = before[i].forward;
    const f1 = after[i].forward;
    const out = f1.forwardedPoll + f1.forwardedPost - (f0.forwardedPoll + f0.forwardedPost);
    const served = f1.served - f0.served;
    const failed = Object.values(f1.failures).reduce((x, y) => x + y, 0);
    check(out > 0, `the Python node ${name} forwarded ${out} requests of the Node node's session to its owner`);
    check(served > 0, `the Python node ${name} served ${served} requests of its own session forwarded by Node nodes`);
    check(failed === 0, `the Python node's forwarder: no failure (${JSON.stringify(f1.failures)})`);
  }
  check(a.cookie === '' && b.cookie === '', 'no cookie set (no stickiness by cookie)');
  const cookies = await context.cookies();
  check(cookies.length === 0, `the browser holds no cookie (${cookies.map((c) => c.name)})`);
}

async function main() {
  process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = '1';
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sidecast-chromium-'));
  let chat, context;
  try {
    chat = await startChat({ nodes: 3, transport: 'polling' });
    console.log(`# chat at ${chat.url}, logs in ${chat.dir}; ${chat.nodes.map((n) => `${n.name}: ${n.lang}`).join(', ')}`);
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_FLAGS,
      timeout: 60000,
    });
    try {
      await run(chat, context);
    } catch (err) {
      // what each page went through, for the failure report
      for (const page of context.pages()) {
        const d = await page
          .evaluate(() => ({
            status: document.getElementById('status').textContent,
            log: [...document.querySelectorAll('#log li')].map((li) => li.textContent),
            trouble: window.trouble,
            id: window.chatSocket && window.chatSocket.id,
          }))
          .catch((e) => String(e));
        console.log(`# page: ${JSON.stringify(d)}`);
      }
      console.log(`# nodes: ${JSON.stringify(await nodeStats(chat).catch((e) => String(e)))}`);
      throw err;
    }
    console.log(`PASS chat e2e (polling, no stickiness; ${chat.nodes.map((n) => `${n.name}: ${n.lang}`).join(', ')})`);
  } finally {
    if (context) await context.close().catch(() => {});
    if (chat) await chat.stop();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

const limit = setTimeout(() => {
  console.error(`FAIL: chat polling e2e took longer than ${HARD_LIMIT_MS} ms`);
  process.exit(1);
}, HARD_LIMIT_MS);
main().then(
  () => {
    clearTimeout(limit);
    process.exit(0);
  },
  (err) => {
    console.error(`FAIL: ${err.stack || err}`);
    process.exit(1);
  },
);
