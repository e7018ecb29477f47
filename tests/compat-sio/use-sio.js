'use strict';
// Preloaded into every node process of a socket.io compatibility test
// (NODE_OPTIONS=--require=<this file>, set by CMakeLists.txt): socket.io and
// the packages that come with it resolve from $SIDECAST_SIO_DIR/node_modules
// (one directory per socket.io minor version, installed by packaging/deps.sh)
// instead of clients/node/node_modules, for every module outside that
// directory — the adapter under test, the harness, the suites, the workers
// they fork. Modules inside it resolve as npm installed them. A resolve with
// explicit `paths` inside it is left alone (the adapter's peers of the
// app's socket.io). $SIDECAST_SIO_EXPECT ("4.6"): the socket.io version found
// must be of that minor version.
const fs = require('fs');
const path = require('path');
const Module = require('module');

const dir = process.env.SIDECAST_SIO_DIR;
if (!dir) throw new Error('use-sio.js: $SIDECAST_SIO_DIR is not set');
const nm = path.join(path.resolve(dir), 'node_modules') + path.sep;
let version;
try {
  version = JSON.parse(fs.readFileSync(path.join(nm, 'socket.io', 'package.json'), 'utf8')).version;
} catch (e) {
  throw new Error(`use-sio.js: no socket.io in ${nm} (${e.code}): run packaging/deps.sh (npm ci there)`);
}
const want = process.env.SIDECAST_SIO_EXPECT;
if (want && !version.startsWith(`${want}.`))
  throw new Error(`use-sio.js: socket.io ${version} in ${nm}, want ${want}.x: run packaging/deps.sh`);

const NAMES = new Set([
  'socket.io',
  'socket.io-client',
  'socket.io-adapter',
  'socket.io-parser',
  'engine.io',
  'engine.io-client',
  'engine.io-parser',
]);
const inside = (p) => typeof p === 'string' && path.resolve(p).startsWith(nm);
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, isMain, options) {
  const name = request.split('/')[0];
  if (
    NAMES.has(name) &&
    !inside(parent && parent.filename) &&
    !(options && Array.isArray(options.paths) && options.paths.some(inside))
  )
    return resolve.call(this, request, parent, isMain, Object.assign({}, options, { paths: [nm] }));
  return resolve.call(this, request, parent, isMain, options);
};

// the adapter sees this socket.io, not clients/node's own
const lib = path.join(__dirname, '../../clients/node/lib/adapter.js');
const got = Module.createRequire(lib).resolve('socket.io');
if (!inside(got)) throw new Error(`use-sio.js: the adapter would load ${got}, not socket.io ${version} from ${nm}`);
