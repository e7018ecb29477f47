'use strict';
/**
 * The protobuf wire details this package writes by hand: the one place
 * outside the generated ./proto.js that knows field numbers and wire types.
 *
 * Everything is encoded and decoded by the generated code except two hot
 * paths, where decoding the bytes in place measurably matters:
 *   - client.js, SidecastClient#_rawSocketList: a Frame that is exactly
 *     {id, socket_list}, with the SocketList's own fields (more, node_id,
 *     etag, unchanged) read inline and each SocketInfo entry handed on as
 *     a byte range;
 *   - adapter.js, decodeEntry: one SocketInfo's socket_id, data and rooms,
 *     straight into the object fetchSockets() returns; its other fields are
 *     skipped by wire type.
 * Those files destructure the constants below at their top (module-level
 * consts: no property lookups on the hot path) and define no tag or field
 * number of their own.
 *
 * A tag is (field number << 3) | wire type. FIELDS lists every constant
 * with its message, field name, number and wire type; test/wire.test.js
 * loads proto/sidecast.proto with protobufjs reflection and checks each
 * against it, so a renumbered or retyped field fails a unit test rather
 * than a fetchSockets() at run time. `oneByte`: the code compares the tag
 * with a single raw byte, so it must stay below 0x80 (a field number up
 * to 15). `type`: the .proto type the hand-written code decodes it as.
 */

// wire types (the low 3 bits of a tag)
const WIRE_VARINT = 0; // int32, uint32, uint64, bool, enum, ...
const WIRE_I64 = 1; // fixed64, sfixed64, double
const WIRE_LEN = 2; // string, bytes, sub-messages, packed repeated scalars
const WIRE_I32 = 5; // fixed32, sfixed32, float

// sidecast.v1.Frame
const FRAME_ID = (1 << 3) | WIRE_VARINT; // Frame.id (uint64)
const FRAME_SOCKET_LIST = (41 << 3) | WIRE_LEN; // Frame.socket_list (SocketList, in oneof msg)

// sidecast.v1.SocketList
const SOCKET_LIST_SOCKETS = (1 << 3) | WIRE_LEN; // SocketList.sockets (repeated SocketInfo)
const SOCKET_LIST_MORE = (2 << 3) | WIRE_VARINT; // SocketList.more (bool)
const SOCKET_LIST_NODE_ID = (3 << 3) | WIRE_LEN; // SocketList.node_id (string; FetchSockets.cache_answers)
const SOCKET_LIST_ETAG = (4 << 3) | WIRE_LEN; // SocketList.etag (string)
const SOCKET_LIST_UNCHANGED = (5 << 3) | WIRE_VARINT; // SocketList.unchanged (bool)

// sidecast.v1.SocketInfo
const SOCKET_INFO_SOCKET_ID = (1 << 3) | WIRE_LEN; // SocketInfo.socket_id (string)
const SOCKET_INFO_DATA = (4 << 3) | WIRE_LEN; // SocketInfo.data (bytes)
const SOCKET_INFO_ROOMS = (5 << 3) | WIRE_LEN; // SocketInfo.rooms (repeated string)

const PKG = 'sidecast.v1.';
function entry(name, message, field, number, wireType, type, tag, more) {
  return Object.freeze(Object.assign({ name, message: PKG + message, field, number, wireType, type, tag }, more));
}

/** Every tag above, for test/wire.test.js: one entry per constant. */
const FIELDS = Object.freeze([
  entry('FRAME_ID', 'Frame', 'id', 1, WIRE_VARINT, 'uint64', FRAME_ID, { oneByte: true }),
  entry('FRAME_SOCKET_LIST', 'Frame', 'socket_list', 41, WIRE_LEN, 'SocketList', FRAME_SOCKET_LIST),
  entry('SOCKET_LIST_SOCKETS', 'SocketList', 'sockets', 1, WIRE_LEN, 'SocketInfo', SOCKET_LIST_SOCKETS, {
    repeated: true,
    oneByte: true,
  }),
  entry('SOCKET_LIST_MORE', 'SocketList', 'more', 2, WIRE_VARINT, 'bool', SOCKET_LIST_MORE),
  entry('SOCKET_LIST_NODE_ID', 'SocketList', 'node_id', 3, WIRE_LEN, 'string', SOCKET_LIST_NODE_ID),
  entry('SOCKET_LIST_ETAG', 'SocketList', 'etag', 4, WIRE_LEN, 'string', SOCKET_LIST_ETAG),
  entry('SOCKET_LIST_UNCHANGED', 'SocketList', 'unchanged', 5, WIRE_VARINT, 'bool', SOCKET_LIST_UNCHANGED),
  entry('SOCKET_INFO_SOCKET_ID', 'SocketInfo', 'socket_id', 1, WIRE_LEN, 'string', SOCKET_INFO_SOCKET_ID),
  entry('SOCKET_INFO_DATA', 'SocketInfo', 'data', 4, WIRE_LEN, 'bytes', SOCKET_INFO_DATA),
  entry('SOCKET_INFO_ROOMS', 'SocketInfo', 'rooms', 5, WIRE_LEN, 'string', SOCKET_INFO_ROOMS, { repeated: true }),
]);

module.exports = {
  WIRE_VARINT,
  WIRE_I64,
  WIRE_LEN,
  WIRE_I32,
  FRAME_ID,
  FRAME_SOCKET_LIST,
  SOCKET_LIST_SOCKETS,
  SOCKET_LIST_MORE,
  SOCKET_LIST_NODE_ID,
  SOCKET_LIST_ETAG,
  SOCKET_LIST_UNCHANGED,
  SOCKET_INFO_SOCKET_ID,
  SOCKET_INFO_DATA,
  SOCKET_INFO_ROOMS,
  FIELDS,
};
