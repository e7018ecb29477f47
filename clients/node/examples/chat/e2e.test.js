'use strict';
// End-to-end test of the chat example in a real browser: Debian's chromium
// driven by playwright-core (never a downloaded browser). Three pages reach
// the chat through HAProxy (round-robin, no stickiness, WebSocket only) in
// front of two nodes; the test asks each node directly which sockets it
// holds, so it knows pages A and B landed on different nodes. A and B join
// "lobby", C (anywhere) "side": each page lists exactly its room's members
// (fetchSockets across nodes), numbered messages between A and B each arrive
// exactly once on both and never in C's room; C moves to the lobby (seen
// once by A and B, three members everywhere) and talks with them; B closes
// and A and C see it leave once. Counts are read from the pages' DOM, after
// waiting (bounded) for each count to reach its value; a last round trip
// between A and C comes before every count is read again.
// With CHAT_PYTHON_NODES=2 (CTest chat_e2e_python) node-2 is the Python
// server (server.py, python-socketio on the sidecast manager), so one of A
// and B is on it: a Node and a Python node in one cluster, in one room.
// Exit 0 on success, 1 with a reason otherwise.
// Bounded: every wait has a deadline, the whole test a hard limit.
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
  // connected, and the server's welcome shown (it follows the connection)
  await page.waitForFunction(() => window.chatSocket && window.chatSocket.connected && document.body.dataset.node, null, {
    timeout: WAIT_MS,
  });
  return page.evaluate(() => ({ id: window.chatSocket.id, transport: window.chatSocket.io.engine.transport.name }));
}

async function join(page, name, room) {
  await page.fill('#name', name);
  await page.fill('#room', room);
  await page.click('#join button');
  await page.waitForFunction((r) => document.body.dataset.room === r, room, { timeout: WAIT_MS });
}

// How many lines of the page's log read exactly `text` (a message line reads
// "<name><node>: <text>", a notice "<name> joined <room><node>").
const count = (page, text) =>
  page.evaluate((t) => [...document.querySelectorAll('#log li')].filter((li) => li.textContent === t).length, text);
// Waits (bounded) until the log has `text` exactly `n` times.
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
// The member list, in order: ["alice@node-1", ...].
const members = (page) =>
  page.evaluate(() =>
    [...document.querySelectorAll('#members li')].map(
      (li) => `${li.firstChild.textContent}@${li.querySelector('.node').textContent}`,
    ),
  );
async function membersAre(page, want) {
  const w = JSON.stringify([...want].sort());
  await page
    .waitForFunction((x) => {
      const got = [...document.querySelectorAll('#members li')].map(
        (li) => `${li.firstChild.textContent}@${li.querySelector('.node').textContent}`,
      );
      return JSON.stringify(got.sort()) === x;
    }, w, { timeout: WAIT_MS })
    .catch(async (err) => {
      throw new Error(`members ${JSON.stringify(await members(page))}, not ${w} (${err.message})`);
    });
}

async function say(page, text) {
  await page.fill('#text', text);
  await page.click('#send');
}

async function run(chat, context) {
  const lang = Object.fromEntries(chat.nodes.map((n) => [n.name, n.lang]));
  const python = chat.nodes.filter((n) => n.lang === 'python').map((n) => n.name);
  const a = await context.newPage();
  const sa = await connected(a, chat.url);
  const nodeA = await nodeOf(chat, sa.id);
  check(sa.transport === 'websocket', `page A connected over websocket (${sa.transport})`);
  console.log(`# page A: socket ${sa.id} on ${nodeA} (${lang[nodeA]})`);

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
  if (python.length)
    check(
      python.includes(nodeA) || python.includes(nodeB),
      `one page on the Python node (A: ${lang[nodeA]}, B: ${lang[nodeB]})`,
    );
  for (const [p, node, label] of [[a, nodeA, 'A'], [b, nodeB, 'B']]) {
    const shown = await p.evaluate(() => document.body.dataset.node);
    check(shown === node, `page ${label}'s welcome names its node (${shown})`);
  }
  // Page C, anywhere, in another room first.
  const c = await context.newPage();
  const sc = await connected(c, chat.url);
  const nodeC = await nodeOf(chat, sc.id);
  console.log(`# page C: socket ${sc.id} on ${nodeC} (${lang[nodeC]})`);

  await join(a, 'alice', 'lobby');
  await join(b, 'bob', 'lobby');
  await join(c, 'carol', 'side');
  await countIs(a, `bob joined lobby${nodeB}`, 1);
  check(true, 'A saw B join the room once (broadcast from the other node)');
  await membersAre(a, [`alice@${nodeA}`, `bob@${nodeB}`]);
  await membersAre(b, [`alice@${nodeA}`, `bob@${nodeB}`]);
  await membersAre(c, [`carol@${nodeC}`]);
  check(true, 'each page lists exactly the members of its room, with their nodes (fetchSockets across nodes)');

  // Numbered messages both ways; each must arrive exactly once, and only in
  // its room. Every wait is for a count to reach its value.
  const expect = new Map([[a, new Map()], [b, new Map()], [c, new Map()]]); // page -> line -> count
  const want = (page, line, n) => expect.get(page).set(line, n);
  for (let i = 1; i <= MESSAGES; i++) {
    await say(a, `a${i} from alice`);
    for (const p of [a, b]) await countIs(p, `alice${nodeA}: a${i} from alice`, 1);
    await say(b, `b${i} from bob`);
    for (const p of [a, b]) await countIs(p, `bob${nodeB}: b${i} from bob`, 1);
    for (const p of [a, b]) want(p, `alice${nodeA}: a${i} from alice`, 1).set(`bob${nodeB}: b${i} from bob`, 1);
    want(c, `alice${nodeA}: a${i} from alice`, 0).set(`bob${nodeB}: b${i} from bob`, 0);
  }
  await say(c, 'only in side');
  await countIs(c, `carol${nodeC}: only in side`, 1);
  want(c, `carol${nodeC}: only in side`, 1);
  // the last cross-node message after C's: A's and B's logs are settled past it
  await say(b, 'sync 1');
  await countIs(a, `bob${nodeB}: sync 1`, 1);
  for (const p of [a, b]) want(p, `carol${nodeC}: only in side`, 0);
  check(true, `${MESSAGES} messages each way between A and B, each received once by both`);

  // C moves to the lobby: it leaves "side", everyone in the lobby sees it come.
  await join(c, 'carol', 'lobby');
  for (const p of [a, b]) await countIs(p, `carol joined lobby${nodeC}`, 1);
  for (const p of [a, b, c]) await membersAre(p, [`alice@${nodeA}`, `bob@${nodeB}`, `carol@${nodeC}`]);
  check(true, 'C moved rooms: A and B saw it join once; all three list the same three members');
  await say(c, 'hello from carol');
  for (const p of [a, b, c]) await countIs(p, `carol${nodeC}: hello from carol`, 1);
  await say(a, 'welcome carol');
  for (const p of [a, b, c]) await countIs(p, `alice${nodeA}: welcome carol`, 1);
  for (const p of [a, b, c])
    want(p, `carol${nodeC}: hello from carol`, 1).set(`alice${nodeA}: welcome carol`, 1);
  check(true, 'messages of C reach A and B once, and A\'s reach C once');

  if (process.env.CHAT_SCREENSHOT) {
    await a.screenshot({ path: process.env.CHAT_SCREENSHOT });
    console.log(`# screenshot of page A in ${process.env.CHAT_SCREENSHOT}`);
  }

  await b.close();
  for (const p of [a, c]) await countIs(p, 'bob left lobby', 1);
  for (const p of [a, c]) await membersAre(p, [`alice@${nodeA}`, `carol@${nodeC}`]);
  check(true, 'A and C saw B leave once when its page closed');
  // a last round trip between A and C, then every count once more
  await say(c, 'sync 2');
  await countIs(a, `carol${nodeC}: sync 2`, 1);
  await say(a, 'sync 3');
  await countIs(c, `alice${nodeA}: sync 3`, 1);
  for (const [p, label] of [[a, 'A'], [c, 'C']]) {
    const bad = [];
    for (const [line, n] of expect.get(p)) {
      const got = await count(p, line);
      if (got !== n) bad.push(`${JSON.stringify(line)} ${got} times, not ${n}`);
    }
    check(bad.length === 0, `page ${label}: every message line counted exactly (${expect.get(p).size} lines) ${bad.join('; ')}`);
  }
}

async function main() {
  process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = '1';
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sidecast-chromium-'));
  let chat, context;
  try {
    chat = await startChat({ nodes: 2, transport: 'websocket' });
    console.log(`# chat at ${chat.url}, logs in ${chat.dir}; ${chat.nodes.map((n) => `${n.name}: ${n.lang}`).join(', ')}`);
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_FLAGS,
      timeout: 60000,
    });
    await run(chat, context);
    console.log(`PASS chat e2e (${chat.nodes.map((n) => `${n.name}: ${n.lang}`).join(', ')})`);
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
