'use strict';
// The chat example in a real browser (Debian's chromium driven by
// playwright-core) over HTTP long-polling only, through HAProxy round-robin
// without stickiness (no cookie, no stick table) in front of three nodes.
// Each node forwards the polls of sessions it does not own to the owner
// (sidecast enableForwarding). Two pages connect, join a room, trade
// messages across nodes; the test checks that their sessions' requests were
// really spread over nodes (forwarded polls counted by the nodes), that no
// page lost or reconnected its session, and that the balancer set no cookie.
// Exit 0 on success, 1 with a reason otherwise; every wait is bounded.
// Env: SIDECASTD (path to the daemon), CHAT_SCREENSHOT (save a PNG there).
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

const logHas = (page, text) =>
  page.waitForFunction(
    (t) => [...document.querySelectorAll('#log li')].some((li) => li.textContent.includes(t)),
    text,
    {
      timeout: WAIT_MS,
    },
  );

async function run(chat, context) {
  const before = await nodeStats(chat);
  const a = await open(context, chat.url);
  const b = await open(context, chat.url);
  check(a.transport === 'polling' && b.transport === 'polling', 'both pages connected over long-polling');
  const nodeA = await nodeOf(chat, a.id);
  const nodeB = await nodeOf(chat, b.id);
  console.log(`# page A: socket ${a.id} on ${nodeA}; page B: socket ${b.id} on ${nodeB}`);

  await join(a.page, 'alice', 'lobby');
  await join(b.page, 'bob', 'lobby');
  await logHas(a.page, 'bob joined lobby');
  check(true, 'A saw B join the room');
  for (let i = 1; i <= MESSAGES; i++) {
    await a.page.fill('#text', `ping ${i} from alice`);
    await a.page.click('#send');
    await logHas(b.page, `ping ${i} from alice`);
    await b.page.fill('#text', `pong ${i} from bob`);
    await b.page.click('#send');
    await logHas(a.page, `pong ${i} from bob`);
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
    console.log(`# chat at ${chat.url}, logs in ${chat.dir}`);
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
    console.log('PASS chat e2e (polling, no stickiness)');
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
