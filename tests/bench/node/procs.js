'use strict';
// The processes a bench in this directory starts (bench.js, emitter.js,
// storm.js): each is tracked and SIGKILLed if the bench exits first, stopped
// by its handle (pid), and reached only on loopback; every wait is bounded.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const repo = path.resolve(__dirname, '..', '..', '..');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const children = new Set();
/** Keep `child` to be SIGKILLed if the bench exits before stopping it. */
function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** A TCP port on 127.0.0.1 free right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Until `target` (a loopback port or a Unix socket path) accepts a connection; fails if `child` exits or after `ms`. */
async function waitConnectable(target, ms, child, label) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${label} exited with ${child.exitCode}`);
    const ok = await new Promise((resolve) => {
      const s = typeof target === 'number' ? net.connect(target, '127.0.0.1') : net.connect(target);
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${label} not reachable after ${ms} ms`);
    await sleep(50);
  }
}

/** Let `child` exit by itself for graceMs, then SIGTERM, and SIGKILL after `ms` more. */
async function stopChild(child, ms = 5000, graceMs = 0) {
  const alive = () => child.exitCode === null && child.signalCode === null;
  const deadline0 = Date.now() + graceMs;
  while (alive() && Date.now() < deadline0) await sleep(20);
  if (!alive()) return;
  child.kill('SIGTERM');
  const deadline = Date.now() + ms;
  while (alive() && Date.now() < deadline) await sleep(20);
  if (alive()) child.kill('SIGKILL');
}

/** Send `msg` (if any) to a forked child and wait (bounded) for its message that has `key`. */
function ask(child, msg, key, ms = 30000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      child.off('message', on);
      reject(new Error(`no '${key}' answer to ${msg ? msg.cmd : 'start'} within ${ms} ms`));
    }, ms);
    const on = (m) => {
      if (m && m[key] !== undefined) {
        clearTimeout(t);
        child.off('message', on);
        resolve(m);
      }
    };
    child.on('message', on);
    if (msg) child.send(msg);
  });
}

/** A redis-server on a free loopback port, no persistence, logging into dir. */
async function startRedis(dir) {
  const port = await freePort();
  const r = track(
    spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: ['ignore', fs.openSync(path.join(dir, 'redis.log'), 'a'), 'inherit'],
    }),
  );
  await waitConnectable(port, 10000, r, 'redis-server');
  return { child: r, port, url: `redis://127.0.0.1:${port}` };
}

/** $SIDECASTD, or the one built in `build` (default: the repository's build/). */
function findSidecastd(build = path.join(repo, 'build')) {
  for (const c of [process.env.SIDECASTD, path.join(build, 'broker', 'sidecastd')])
    if (c && fs.existsSync(c)) return c;
  throw new Error(`sidecastd not found in ${build}: cmake -S . -B build && cmake --build build --target sidecastd (or set SIDECASTD / BENCH_BUILD)`);
}

module.exports = { repo, sleep, track, freePort, waitConnectable, stopChild, ask, startRedis, findSidecastd };
