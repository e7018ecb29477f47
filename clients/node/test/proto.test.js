'use strict';
// lib/proto.js is generated from proto/sidecast.proto by `npm run gen` and
// committed: it must be exactly what that command writes today, so a
// .proto change without a regeneration fails here. The hand-written
// typings list every ErrorCode and Feature the .proto has.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

// Nothing of the package is loaded before the first test: a stale proto.js
// must fail it with its message, not break loading.
const PKG = path.join(__dirname, '..');

test('lib/proto.js is what `npm run gen` generates from proto/sidecast.proto', { timeout: 60000 }, () => {
  const gen = require('../package.json').scripts.gen;
  const argv = gen.trim().split(/\s+/);
  assert.equal(argv[0], 'pbjs', `scripts.gen runs ${argv[0]}, not pbjs`);
  const o = argv.indexOf('-o');
  assert.ok(o > 0 && argv[o + 1] === 'lib/proto.js', 'scripts.gen writes lib/proto.js with -o');
  const pbjs = path.join(PKG, 'node_modules', '.bin', 'pbjs');
  assert.ok(fs.existsSync(pbjs), `${pbjs} is missing: run npm ci in clients/node`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sc-proto-'));
  const out = path.join(dir, 'proto.js');
  try {
    // same command line, same working directory; only the output differs
    const args = argv.slice(1);
    args[o] = out;
    execFileSync(pbjs, args, { cwd: PKG, stdio: ['ignore', 'ignore', 'pipe'] });
    const want = fs.readFileSync(out);
    const have = fs.readFileSync(path.join(PKG, 'lib', 'proto.js'));
    assert.ok(
      want.equals(have),
      'lib/proto.js is stale: regenerate it with `cd clients/node && npm run gen` and commit it',
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** The members of `export const NAME: Readonly<{ ... }>` in index.d.ts. */
function declaredEnum(name) {
  const dts = fs.readFileSync(path.join(PKG, 'index.d.ts'), 'utf8');
  const m = dts.match(new RegExp(`export const ${name}: Readonly<\\{([^}]*)\\}>`));
  assert.ok(m, `index.d.ts declares ${name}`);
  const out = {};
  for (const [, k, v] of m[1].matchAll(/^\s*([A-Z0-9_]+):\s*(\d+);/gm)) out[k] = Number(v);
  return out;
}

function withoutPrefix(values, prefix) {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k.replace(prefix, ''), v]));
}

test('index.d.ts lists every ErrorCode and Feature of the .proto', () => {
  const proto = require('../lib/proto').sidecast.v1;
  const { ErrorCode, Feature } = require('..');
  assert.deepEqual(declaredEnum('ErrorCode'), withoutPrefix(proto.ErrorCode, /^ERROR_/));
  assert.deepEqual(declaredEnum('Feature'), withoutPrefix(proto.Feature, /^FEATURE_/));
  assert.deepEqual({ ...ErrorCode }, declaredEnum('ErrorCode'));
  assert.deepEqual({ ...Feature }, declaredEnum('Feature'));
});
