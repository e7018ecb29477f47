'use strict';
// The shipped balancer recipes (packaging/balancer/haproxy.cfg and nginx.conf)
// for sticky.test.js: each file with its placeholders replaced by loopback
// addresses and nothing else changed, so the file that ships is what runs.
// Every placeholder must be found exactly as documented in the file's
// header, or the test fails (a recipe edit cannot silently bypass the test).
// HAProxy runs with a generated "global" section (an admin socket in the
// temp dir) loaded before the recipe; nginx with a generated main file that
// includes the recipe in its "http" block. Processes are started here and
// stopped by the caller, by pid (harness track / stopChild).
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const h = require('./harness');

const RECIPES = path.join(__dirname, '..', '..', '..', 'packaging', 'balancer');
const SIDECAR_PORT = 9466; // the recipes' placeholder for sidecastd's http_listen port

/** A TCP port free on every one of `hosts` (loopback addresses) at once. */
async function freePortOn(hosts) {
  const tryListen = (host, port) =>
    new Promise((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(null));
      s.listen(port, host, () => resolve(s));
    });
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await h.freePort();
    const held = [];
    for (const host of hosts) held.push(await tryListen(host, port));
    await Promise.all(held.filter((s) => s).map((s) => new Promise((r) => s.close(r))));
    if (held.every((s) => s)) return port;
  }
  throw new Error(`no port free on all of ${hosts.join(', ')} in 20 attempts`);
}

/** Replace `from` by `to` in `text`, where `from` must occur exactly `count` times. */
function substitute(text, from, to, count = 1) {
  const n = text.split(from).length - 1;
  if (n !== count) throw new Error(`recipe placeholder "${from}" found ${n} time(s), expected ${count}`);
  return text.split(from).join(to);
}

/**
 * packaging/balancer/haproxy.cfg for `nodes` ({host, port} each: the app;
 * its sidecastd listens on host:sidecarPort), the frontend on
 * 127.0.0.1:`port`.
 */
function haproxyRecipe(port, nodes, sidecarPort) {
  let cfg = fs.readFileSync(path.join(RECIPES, 'haproxy.cfg'), 'utf8');
  if (nodes.length !== 3) throw new Error('the recipe has three servers');
  cfg = substitute(cfg, '\n  bind :80\n', `\n  bind 127.0.0.1:${port}\n`);
  cfg = substitute(cfg, `http-check connect port ${SIDECAR_PORT}\n`, `http-check connect port ${sidecarPort}\n`);
  nodes.forEach((n, i) => {
    cfg = substitute(cfg, ` 10.0.0.1${i + 1}:3000\n`, ` ${n.host}:${n.port}\n`);
  });
  return cfg;
}

/** Start HAProxy on the shipped recipe; returns {port, url, child, sock, cfg}. */
async function startHaproxy(dir, nodes, sidecarPort) {
  const port = await h.freePort();
  const sock = path.join(dir, 'haproxy.sock');
  const global = path.join(dir, 'haproxy-global.cfg');
  fs.writeFileSync(
    global,
    // notice: server state changes go to haproxy.log, request lines do not
    ['global', '  maxconn 2048', `  stats socket ${sock} mode 600 level admin`, '  log stderr format raw daemon notice', ''].join('\n'),
  );
  const cfg = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(cfg, haproxyRecipe(port, nodes, sidecarPort));
  const check = spawnSync('haproxy', ['-c', '-q', '-f', global, '-f', cfg], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`haproxy -c: ${check.stderr}${check.stdout}`);
  const log = fs.openSync(path.join(dir, 'haproxy.log'), 'a');
  const child = h.track(spawn('haproxy', ['-f', global, '-f', cfg, '-db'], { stdio: ['ignore', log, log] }));
  fs.closeSync(log);
  return { port, url: `http://127.0.0.1:${port}`, child, sock, cfg };
}

/** One command on HAProxy's admin socket; resolves with the whole answer. */
function haproxyCommand(sock, cmd, ms = 5000) {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(sock);
    let out = '';
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer to "${cmd}" within ${ms} ms`));
    }, ms);
    s.setEncoding('utf8');
    s.on('connect', () => s.write(`${cmd}\n`));
    s.on('data', (d) => (out += d));
    s.on('end', () => {
      clearTimeout(t);
      resolve(out);
    });
    s.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

/**
 * The servers of `backend` as HAProxy sees them ("show stat"):
 * {name: {status ('UP', 'DOWN', 'UP 1/2', ...), check_status, check_code, check_desc}}.
 */
async function haproxyServers(sock, backend = 'socketio') {
  const lines = (await haproxyCommand(sock, 'show stat')).split('\n').filter((l) => l);
  const head = lines[0].replace(/^# /, '').split(',');
  const out = {};
  for (const l of lines.slice(1)) {
    const f = l.split(',');
    const row = Object.fromEntries(head.map((k, i) => [k, f[i]]));
    if (row.pxname !== backend || row.svname === 'BACKEND' || row.svname === 'FRONTEND') continue;
    out[row.svname] = {
      status: row.status,
      check_status: row.check_status,
      check_code: row.check_code,
      check_desc: row.check_desc,
    };
  }
  return out;
}

/** packaging/balancer/nginx.conf for `nodes` ({host, port}), listening on 127.0.0.1:`port`. */
function nginxRecipe(port, nodes) {
  let cfg = fs.readFileSync(path.join(RECIPES, 'nginx.conf'), 'utf8');
  if (nodes.length !== 3) throw new Error('the recipe has three servers');
  cfg = substitute(cfg, '\n    listen 80;\n', `\n    listen 127.0.0.1:${port};\n`);
  nodes.forEach((n, i) => {
    cfg = substitute(cfg, ` 10.0.0.1${i + 1}:3000 `, ` ${n.host}:${n.port} `);
  });
  return cfg;
}

/**
 * nginx (Debian's binary, no service) in the foreground on the shipped
 * recipe, everything in `dir`/nginx: returns {port, url, child}.
 */
async function startNginx(dir, nodes) {
  const which = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
  if (which.error) throw new Error('nginx not found: run packaging/deps.sh');
  const prefix = path.join(dir, 'nginx');
  fs.mkdirSync(prefix, { mode: 0o755 });
  fs.chmodSync(prefix, 0o755); // workers run as nobody when the master is root
  const port = await h.freePort();
  fs.writeFileSync(path.join(prefix, 'sidecast.conf'), nginxRecipe(port, nodes));
  const main = path.join(prefix, 'nginx.conf');
  fs.writeFileSync(
    main,
    [
      'worker_processes 1;',
      `pid ${prefix}/nginx.pid;`,
      `error_log ${prefix}/error.log info;`,
      'events { worker_connections 1024; }',
      'http {',
      `  access_log ${prefix}/access.log;`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${prefix}/${t}_temp;`),
      `  include ${prefix}/sidecast.conf;`,
      '}',
      '',
    ].join('\n'),
  );
  const args = ['-p', prefix, '-e', `${prefix}/error.log`, '-c', main];
  const check = spawnSync('nginx', ['-t', '-q', ...args], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nginx -t: ${check.stderr}${check.stdout}`);
  const log = fs.openSync(path.join(prefix, 'stderr.log'), 'a');
  const child = h.track(spawn('nginx', [...args, '-g', 'daemon off;'], { stdio: ['ignore', log, log] }));
  fs.closeSync(log);
  return { port, url: `http://127.0.0.1:${port}`, child };
}

module.exports = { SIDECAR_PORT, freePortOn, haproxyRecipe, startHaproxy, haproxyCommand, haproxyServers, nginxRecipe, startNginx };
