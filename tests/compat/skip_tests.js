'use strict';
// Preloaded (node --require) by node_suite.sh when a suite runs against a
// sidecastd of the other version: every top-level node:test test whose name
// matches $SIDECAST_COMPAT_SKIP (a RegExp) is reported as skipped instead of
// run. For tests of a feature the other side lacks; node 20's
// --test-name-pattern cannot exclude (the root test matches any negation).
const nt = require('node:test');

const pattern = process.env.SIDECAST_COMPAT_SKIP;
if (pattern) {
  const re = new RegExp(pattern);
  const test = nt.test;
  nt.test = function compatTest(name, ...rest) {
    if (typeof name !== 'string' || !re.test(name)) return test(name, ...rest);
    const fn = rest.find((x) => typeof x === 'function');
    const opts = rest.find((x) => x && typeof x === 'object') || {};
    return test(name, { ...opts, skip: 'compat: the other version lacks this' }, fn);
  };
}
