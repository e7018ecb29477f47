'use strict';
// lib/wire.js holds every protobuf tag the package reads by hand (the
// fetchSockets fast paths of client.js and adapter.js). Each entry of its
// FIELDS table is checked here against proto/sidecast.proto, loaded with
// protobufjs reflection (not the generated lib/proto.js): the message and
// field exist, the number is the field's, the wire type is the one its type
// is encoded with, and the tag is what protobufjs writes for it. And no
// other lib/*.js file builds tags of its own. No processes.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const protobuf = require('protobufjs'); // the full build: .proto parser and reflection
const wire = require('../lib/wire');

const PROTO = path.join(__dirname, '..', '..', '..', 'proto', 'sidecast.proto');
const LIB = path.join(__dirname, '..', 'lib');

// field names as the .proto spells them (protobuf.loadSync(PROTO) would camelCase them)
const root = new protobuf.Root().loadSync(PROTO, { keepCase: true });
root.resolveAll();

// wire type of one value of a field's type (protobuf encoding spec)
const VARINT = ['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'bool'];
const I64 = ['fixed64', 'sfixed64', 'double'];
const I32 = ['fixed32', 'sfixed32', 'float'];
const LEN = ['string', 'bytes'];
function wireTypeOf(field) {
  const t = field.resolvedType;
  const enumOrScalar = !(t instanceof protobuf.Type);
  if (field.repeated && field.packed && enumOrScalar && !LEN.includes(field.type)) return 2;
  if (t instanceof protobuf.Type) return 2;
  if (t instanceof protobuf.Enum) return 0;
  if (VARINT.includes(field.type)) return 0;
  if (I64.includes(field.type)) return 1;
  if (I32.includes(field.type)) return 5;
  if (LEN.includes(field.type)) return 2;
  throw new Error(`${field.fullName}: unknown type ${field.type}`);
}

test('the wire types are the protobuf spec', () => {
  assert.equal(wire.WIRE_VARINT, 0);
  assert.equal(wire.WIRE_I64, 1);
  assert.equal(wire.WIRE_LEN, 2);
  assert.equal(wire.WIRE_I32, 5);
});

test('FIELDS lists every tag constant of lib/wire.js once, with its tag', () => {
  const tags = Object.keys(wire).filter((k) => k !== 'FIELDS' && !k.startsWith('WIRE_'));
  assert.ok(wire.FIELDS.length > 0);
  const names = wire.FIELDS.map((e) => e.name);
  assert.deepEqual([...names].sort(), [...tags].sort(), 'FIELDS and the exported tags differ');
  assert.equal(new Set(names).size, names.length, 'a constant is listed twice');
  const fields = wire.FIELDS.map((e) => `${e.message}.${e.field}`);
  assert.equal(new Set(fields).size, fields.length, 'a field has two constants');
  for (const e of wire.FIELDS) {
    assert.equal(wire[e.name], e.tag, `${e.name}: exported ${wire[e.name]}, FIELDS says ${e.tag}`);
    assert.equal(e.tag, (e.number << 3) | e.wireType, `${e.name}: tag is not (number << 3) | wireType`);
    if (e.oneByte) assert.ok(e.tag < 0x80, `${e.name}: compared as one byte, but its tag ${e.tag} takes two`);
  }
});

for (const e of wire.FIELDS) {
  test(`${e.name} is ${e.message}.${e.field} = ${e.number}, wire type ${e.wireType}`, () => {
    const type = root.lookup(e.message);
    assert.ok(type instanceof protobuf.Type, `no message ${e.message} in proto/sidecast.proto`);
    const field = type.fields[e.field];
    assert.ok(field, `${e.message} has no field ${e.field}`);
    assert.equal(field.id, e.number, `${e.message}.${e.field} is field ${field.id}, not ${e.number}`);
    const byNumber = type.fieldsById[e.number];
    assert.equal(byNumber && byNumber.name, e.field, `field ${e.number} of ${e.message} is not ${e.field}`);
    assert.equal(wireTypeOf(field), e.wireType, `${e.message}.${e.field} (${field.type}): wrong wire type`);
    // the type the hand-written code decodes it as (r.uint64(), r.bool(), UTF-8, a sub-message...)
    const typeName = field.resolvedType ? field.resolvedType.name : field.type;
    assert.equal(typeName, e.type, `${e.message}.${e.field} is a ${typeName}, the code reads a ${e.type}`);
    assert.equal(field.repeated, !!e.repeated, `${e.message}.${e.field}: repeated is ${field.repeated}`);
  });
}

// a value of the field's type that protobufjs encodes (not a proto3 default)
function sample(field) {
  const t = field.resolvedType;
  let v;
  if (t instanceof protobuf.Type) v = {};
  else if (t instanceof protobuf.Enum) v = Object.values(t.values).find((n) => n !== 0);
  else if (field.type === 'bool') v = true;
  else if (field.type === 'string') v = 'x';
  else if (field.type === 'bytes') v = Buffer.from([1]);
  else v = 5;
  return field.repeated ? [v] : v;
}

test('each tag is the one protobufjs writes for its field', () => {
  for (const e of wire.FIELDS) {
    const type = root.lookupType(e.message);
    const field = type.fields[e.field];
    const bytes = type.encode(type.fromObject({ [field.name]: sample(field) })).finish();
    const r = protobuf.Reader.create(bytes);
    const tag = r.uint32();
    assert.equal(tag, e.tag, `${e.message}.${e.field} is written with tag ${tag}, not ${e.name} = ${e.tag}`);
    r.skipType(tag & 7);
    assert.equal(r.pos, bytes.length, `${e.message}.${e.field}: one field expected`);
  }
});

// A heuristic, not a parser: it catches the ways tags were written by hand
// before lib/wire.js (TAG_ constants, (n << 3) | w, a tag or its wire type
// compared with a number literal) and a hand-written decoder that does not
// take its tags from lib/wire.js. Comments are left out first.
test('no other lib/*.js file defines protobuf tags of its own', () => {
  const files = fs.readdirSync(LIB).filter((f) => f.endsWith('.js') && f !== 'wire.js' && f !== 'proto.js');
  assert.ok(files.includes('client.js') && files.includes('adapter.js'));
  const bad = [
    [/\bTAG_\w+\s*=/, 'a TAG_ constant'],
    [/<<\s*3\s*\)?\s*\|/, 'a tag built with << 3'],
    [/\btag\w*\s*[!=]==?\s*(0x[0-9a-f]+|\d+)\b/i, 'a tag compared with a literal'],
    [/\(\s*\w*tag\w*\s*&\s*7\s*\)\s*[!=]==?\s*(0x[0-9a-f]+|\d+)\b/i, 'a wire type compared with a literal'],
    [/\b(0x[0-9a-f]+|\d+)\s*[!=]==?\s*\w*tag\b/i, 'a literal compared with a tag'],
  ];
  const problems = [];
  for (const f of files) {
    const src = fs.readFileSync(path.join(LIB, f), 'utf8');
    const code = src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
    code.split('\n').forEach((line, i) => {
      for (const [re, what] of bad) if (re.test(line)) problems.push(`lib/${f}: ${what}: ${line.trim()}`);
    });
    // decodes protobuf by hand: its tags must come from lib/wire.js
    if (/\.skipType\(|Reader\.create\(/.test(code) && !/require\('\.\/wire'\)/.test(code))
      problems.push(`lib/${f} reads protobuf by hand without require('./wire')`);
  }
  assert.deepEqual(problems, []);
});
