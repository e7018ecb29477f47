/*eslint-disable block-scoped-var, id-length, no-control-regex, no-magic-numbers, no-prototype-builtins, no-redeclare, no-shadow, no-var, sort-vars*/
"use strict";

var $protobuf = require("protobufjs/minimal");

// Common aliases
var $Reader = $protobuf.Reader, $Writer = $protobuf.Writer, $util = $protobuf.util;

// Exported root namespace
var $root = $protobuf.roots["default"] || ($protobuf.roots["default"] = {});

$root.sidecast = (function() {

    /**
     * Namespace sidecast.
     * @exports sidecast
     * @namespace
     */
    var sidecast = {};

    sidecast.v1 = (function() {

        /**
         * Namespace v1.
         * @memberof sidecast
         * @namespace
         */
        var v1 = {};

        v1.Frame = (function() {

            /**
             * Properties of a Frame.
             * @memberof sidecast.v1
             * @interface IFrame
             * @property {number|null} [id] Frame id
             * @property {sidecast.v1.IHello|null} [hello] Frame hello
             * @property {sidecast.v1.IWelcome|null} [welcome] Frame welcome
             * @property {sidecast.v1.IError|null} [error] Frame error
             * @property {sidecast.v1.IOk|null} [ok] Frame ok
             * @property {sidecast.v1.IPing|null} [ping] Frame ping
             * @property {sidecast.v1.IPong|null} [pong] Frame pong
             * @property {sidecast.v1.ISocketUp|null} [socketUp] Frame socketUp
             * @property {sidecast.v1.ISocketDown|null} [socketDown] Frame socketDown
             * @property {sidecast.v1.IJoin|null} [join] Frame join
             * @property {sidecast.v1.ILeave|null} [leave] Frame leave
             * @property {sidecast.v1.ISetData|null} [setData] Frame setData
             * @property {sidecast.v1.IEmit|null} [emit] Frame emit
             * @property {sidecast.v1.IDeliver|null} [deliver] Frame deliver
             * @property {sidecast.v1.IFetchSockets|null} [fetchSockets] Frame fetchSockets
             * @property {sidecast.v1.ISocketList|null} [socketList] Frame socketList
             * @property {sidecast.v1.IRoomsRequest|null} [rooms] Frame rooms
             * @property {sidecast.v1.IRoomList|null} [roomList] Frame roomList
             * @property {sidecast.v1.IStatsRequest|null} [stats] Frame stats
             * @property {sidecast.v1.IStats|null} [statsReply] Frame statsReply
             * @property {sidecast.v1.IApply|null} [apply] Frame apply
             * @property {sidecast.v1.IServerEmit|null} [serverEmit] Frame serverEmit
             * @property {sidecast.v1.IServerMessage|null} [serverMessage] Frame serverMessage
             * @property {sidecast.v1.IAck|null} [ack] Frame ack
             * @property {sidecast.v1.IProgress|null} [progress] Frame progress
             * @property {sidecast.v1.IGap|null} [gap] Frame gap
             * @property {sidecast.v1.INodesRequest|null} [nodes] Frame nodes
             * @property {sidecast.v1.INodeList|null} [nodeList] Frame nodeList
             * @property {sidecast.v1.ILookup|null} [lookup] Frame lookup
             * @property {sidecast.v1.ILookupResult|null} [lookupResult] Frame lookupResult
             * @property {sidecast.v1.ISessionGet|null} [sessionGet] Frame sessionGet
             * @property {sidecast.v1.ISessionData|null} [sessionData] Frame sessionData
             * @property {sidecast.v1.ISessionSet|null} [sessionSet] Frame sessionSet
             */

            /**
             * Constructs a new Frame.
             * @memberof sidecast.v1
             * @classdesc Represents a Frame.
             * @implements IFrame
             * @constructor
             * @param {sidecast.v1.IFrame=} [properties] Properties to set
             */
            function Frame(properties) {
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * Frame id.
             * @member {number} id
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.id = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Frame hello.
             * @member {sidecast.v1.IHello|null|undefined} hello
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.hello = null;

            /**
             * Frame welcome.
             * @member {sidecast.v1.IWelcome|null|undefined} welcome
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.welcome = null;

            /**
             * Frame error.
             * @member {sidecast.v1.IError|null|undefined} error
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.error = null;

            /**
             * Frame ok.
             * @member {sidecast.v1.IOk|null|undefined} ok
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.ok = null;

            /**
             * Frame ping.
             * @member {sidecast.v1.IPing|null|undefined} ping
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.ping = null;

            /**
             * Frame pong.
             * @member {sidecast.v1.IPong|null|undefined} pong
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.pong = null;

            /**
             * Frame socketUp.
             * @member {sidecast.v1.ISocketUp|null|undefined} socketUp
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.socketUp = null;

            /**
             * Frame socketDown.
             * @member {sidecast.v1.ISocketDown|null|undefined} socketDown
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.socketDown = null;

            /**
             * Frame join.
             * @member {sidecast.v1.IJoin|null|undefined} join
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.join = null;

            /**
             * Frame leave.
             * @member {sidecast.v1.ILeave|null|undefined} leave
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.leave = null;

            /**
             * Frame setData.
             * @member {sidecast.v1.ISetData|null|undefined} setData
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.setData = null;

            /**
             * Frame emit.
             * @member {sidecast.v1.IEmit|null|undefined} emit
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.emit = null;

            /**
             * Frame deliver.
             * @member {sidecast.v1.IDeliver|null|undefined} deliver
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.deliver = null;

            /**
             * Frame fetchSockets.
             * @member {sidecast.v1.IFetchSockets|null|undefined} fetchSockets
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.fetchSockets = null;

            /**
             * Frame socketList.
             * @member {sidecast.v1.ISocketList|null|undefined} socketList
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.socketList = null;

            /**
             * Frame rooms.
             * @member {sidecast.v1.IRoomsRequest|null|undefined} rooms
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.rooms = null;

            /**
             * Frame roomList.
             * @member {sidecast.v1.IRoomList|null|undefined} roomList
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.roomList = null;

            /**
             * Frame stats.
             * @member {sidecast.v1.IStatsRequest|null|undefined} stats
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.stats = null;

            /**
             * Frame statsReply.
             * @member {sidecast.v1.IStats|null|undefined} statsReply
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.statsReply = null;

            /**
             * Frame apply.
             * @member {sidecast.v1.IApply|null|undefined} apply
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.apply = null;

            /**
             * Frame serverEmit.
             * @member {sidecast.v1.IServerEmit|null|undefined} serverEmit
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.serverEmit = null;

            /**
             * Frame serverMessage.
             * @member {sidecast.v1.IServerMessage|null|undefined} serverMessage
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.serverMessage = null;

            /**
             * Frame ack.
             * @member {sidecast.v1.IAck|null|undefined} ack
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.ack = null;

            /**
             * Frame progress.
             * @member {sidecast.v1.IProgress|null|undefined} progress
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.progress = null;

            /**
             * Frame gap.
             * @member {sidecast.v1.IGap|null|undefined} gap
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.gap = null;

            /**
             * Frame nodes.
             * @member {sidecast.v1.INodesRequest|null|undefined} nodes
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.nodes = null;

            /**
             * Frame nodeList.
             * @member {sidecast.v1.INodeList|null|undefined} nodeList
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.nodeList = null;

            /**
             * Frame lookup.
             * @member {sidecast.v1.ILookup|null|undefined} lookup
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.lookup = null;

            /**
             * Frame lookupResult.
             * @member {sidecast.v1.ILookupResult|null|undefined} lookupResult
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.lookupResult = null;

            /**
             * Frame sessionGet.
             * @member {sidecast.v1.ISessionGet|null|undefined} sessionGet
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.sessionGet = null;

            /**
             * Frame sessionData.
             * @member {sidecast.v1.ISessionData|null|undefined} sessionData
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.sessionData = null;

            /**
             * Frame sessionSet.
             * @member {sidecast.v1.ISessionSet|null|undefined} sessionSet
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Frame.prototype.sessionSet = null;

            // OneOf field names bound to virtual getters and setters
            var $oneOfFields;

            /**
             * Frame msg.
             * @member {"hello"|"welcome"|"error"|"ok"|"ping"|"pong"|"socketUp"|"socketDown"|"join"|"leave"|"setData"|"emit"|"deliver"|"fetchSockets"|"socketList"|"rooms"|"roomList"|"stats"|"statsReply"|"apply"|"serverEmit"|"serverMessage"|"ack"|"progress"|"gap"|"nodes"|"nodeList"|"lookup"|"lookupResult"|"sessionGet"|"sessionData"|"sessionSet"|undefined} msg
             * @memberof sidecast.v1.Frame
             * @instance
             */
            Object.defineProperty(Frame.prototype, "msg", {
                get: $util.oneOfGetter($oneOfFields = ["hello", "welcome", "error", "ok", "ping", "pong", "socketUp", "socketDown", "join", "leave", "setData", "emit", "deliver", "fetchSockets", "socketList", "rooms", "roomList", "stats", "statsReply", "apply", "serverEmit", "serverMessage", "ack", "progress", "gap", "nodes", "nodeList", "lookup", "lookupResult", "sessionGet", "sessionData", "sessionSet"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            /**
             * Creates a new Frame instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.Frame
             * @static
             * @param {sidecast.v1.IFrame=} [properties] Properties to set
             * @returns {sidecast.v1.Frame} Frame instance
             */
            Frame.create = function create(properties) {
                return new Frame(properties);
            };

            /**
             * Encodes the specified Frame message. Does not implicitly {@link sidecast.v1.Frame.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.Frame
             * @static
             * @param {sidecast.v1.IFrame} message Frame message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Frame.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.id != null && Object.hasOwnProperty.call(message, "id"))
                    writer.uint32(/* id 1, wireType 0 =*/8).uint64(message.id);
                if (message.hello != null && Object.hasOwnProperty.call(message, "hello"))
                    $root.sidecast.v1.Hello.encode(message.hello, writer.uint32(/* id 10, wireType 2 =*/82).fork(), q + 1).ldelim();
                if (message.welcome != null && Object.hasOwnProperty.call(message, "welcome"))
                    $root.sidecast.v1.Welcome.encode(message.welcome, writer.uint32(/* id 11, wireType 2 =*/90).fork(), q + 1).ldelim();
                if (message.error != null && Object.hasOwnProperty.call(message, "error"))
                    $root.sidecast.v1.Error.encode(message.error, writer.uint32(/* id 12, wireType 2 =*/98).fork(), q + 1).ldelim();
                if (message.ok != null && Object.hasOwnProperty.call(message, "ok"))
                    $root.sidecast.v1.Ok.encode(message.ok, writer.uint32(/* id 13, wireType 2 =*/106).fork(), q + 1).ldelim();
                if (message.ping != null && Object.hasOwnProperty.call(message, "ping"))
                    $root.sidecast.v1.Ping.encode(message.ping, writer.uint32(/* id 14, wireType 2 =*/114).fork(), q + 1).ldelim();
                if (message.pong != null && Object.hasOwnProperty.call(message, "pong"))
                    $root.sidecast.v1.Pong.encode(message.pong, writer.uint32(/* id 15, wireType 2 =*/122).fork(), q + 1).ldelim();
                if (message.socketUp != null && Object.hasOwnProperty.call(message, "socketUp"))
                    $root.sidecast.v1.SocketUp.encode(message.socketUp, writer.uint32(/* id 20, wireType 2 =*/162).fork(), q + 1).ldelim();
                if (message.socketDown != null && Object.hasOwnProperty.call(message, "socketDown"))
                    $root.sidecast.v1.SocketDown.encode(message.socketDown, writer.uint32(/* id 21, wireType 2 =*/170).fork(), q + 1).ldelim();
                if (message.join != null && Object.hasOwnProperty.call(message, "join"))
                    $root.sidecast.v1.Join.encode(message.join, writer.uint32(/* id 22, wireType 2 =*/178).fork(), q + 1).ldelim();
                if (message.leave != null && Object.hasOwnProperty.call(message, "leave"))
                    $root.sidecast.v1.Leave.encode(message.leave, writer.uint32(/* id 23, wireType 2 =*/186).fork(), q + 1).ldelim();
                if (message.setData != null && Object.hasOwnProperty.call(message, "setData"))
                    $root.sidecast.v1.SetData.encode(message.setData, writer.uint32(/* id 24, wireType 2 =*/194).fork(), q + 1).ldelim();
                if (message.emit != null && Object.hasOwnProperty.call(message, "emit"))
                    $root.sidecast.v1.Emit.encode(message.emit, writer.uint32(/* id 30, wireType 2 =*/242).fork(), q + 1).ldelim();
                if (message.deliver != null && Object.hasOwnProperty.call(message, "deliver"))
                    $root.sidecast.v1.Deliver.encode(message.deliver, writer.uint32(/* id 31, wireType 2 =*/250).fork(), q + 1).ldelim();
                if (message.fetchSockets != null && Object.hasOwnProperty.call(message, "fetchSockets"))
                    $root.sidecast.v1.FetchSockets.encode(message.fetchSockets, writer.uint32(/* id 40, wireType 2 =*/322).fork(), q + 1).ldelim();
                if (message.socketList != null && Object.hasOwnProperty.call(message, "socketList"))
                    $root.sidecast.v1.SocketList.encode(message.socketList, writer.uint32(/* id 41, wireType 2 =*/330).fork(), q + 1).ldelim();
                if (message.rooms != null && Object.hasOwnProperty.call(message, "rooms"))
                    $root.sidecast.v1.RoomsRequest.encode(message.rooms, writer.uint32(/* id 42, wireType 2 =*/338).fork(), q + 1).ldelim();
                if (message.roomList != null && Object.hasOwnProperty.call(message, "roomList"))
                    $root.sidecast.v1.RoomList.encode(message.roomList, writer.uint32(/* id 43, wireType 2 =*/346).fork(), q + 1).ldelim();
                if (message.stats != null && Object.hasOwnProperty.call(message, "stats"))
                    $root.sidecast.v1.StatsRequest.encode(message.stats, writer.uint32(/* id 44, wireType 2 =*/354).fork(), q + 1).ldelim();
                if (message.statsReply != null && Object.hasOwnProperty.call(message, "statsReply"))
                    $root.sidecast.v1.Stats.encode(message.statsReply, writer.uint32(/* id 45, wireType 2 =*/362).fork(), q + 1).ldelim();
                if (message.apply != null && Object.hasOwnProperty.call(message, "apply"))
                    $root.sidecast.v1.Apply.encode(message.apply, writer.uint32(/* id 50, wireType 2 =*/402).fork(), q + 1).ldelim();
                if (message.serverEmit != null && Object.hasOwnProperty.call(message, "serverEmit"))
                    $root.sidecast.v1.ServerEmit.encode(message.serverEmit, writer.uint32(/* id 51, wireType 2 =*/410).fork(), q + 1).ldelim();
                if (message.serverMessage != null && Object.hasOwnProperty.call(message, "serverMessage"))
                    $root.sidecast.v1.ServerMessage.encode(message.serverMessage, writer.uint32(/* id 52, wireType 2 =*/418).fork(), q + 1).ldelim();
                if (message.ack != null && Object.hasOwnProperty.call(message, "ack"))
                    $root.sidecast.v1.Ack.encode(message.ack, writer.uint32(/* id 53, wireType 2 =*/426).fork(), q + 1).ldelim();
                if (message.progress != null && Object.hasOwnProperty.call(message, "progress"))
                    $root.sidecast.v1.Progress.encode(message.progress, writer.uint32(/* id 54, wireType 2 =*/434).fork(), q + 1).ldelim();
                if (message.gap != null && Object.hasOwnProperty.call(message, "gap"))
                    $root.sidecast.v1.Gap.encode(message.gap, writer.uint32(/* id 55, wireType 2 =*/442).fork(), q + 1).ldelim();
                if (message.nodes != null && Object.hasOwnProperty.call(message, "nodes"))
                    $root.sidecast.v1.NodesRequest.encode(message.nodes, writer.uint32(/* id 56, wireType 2 =*/450).fork(), q + 1).ldelim();
                if (message.nodeList != null && Object.hasOwnProperty.call(message, "nodeList"))
                    $root.sidecast.v1.NodeList.encode(message.nodeList, writer.uint32(/* id 57, wireType 2 =*/458).fork(), q + 1).ldelim();
                if (message.lookup != null && Object.hasOwnProperty.call(message, "lookup"))
                    $root.sidecast.v1.Lookup.encode(message.lookup, writer.uint32(/* id 60, wireType 2 =*/482).fork(), q + 1).ldelim();
                if (message.lookupResult != null && Object.hasOwnProperty.call(message, "lookupResult"))
                    $root.sidecast.v1.LookupResult.encode(message.lookupResult, writer.uint32(/* id 61, wireType 2 =*/490).fork(), q + 1).ldelim();
                if (message.sessionGet != null && Object.hasOwnProperty.call(message, "sessionGet"))
                    $root.sidecast.v1.SessionGet.encode(message.sessionGet, writer.uint32(/* id 62, wireType 2 =*/498).fork(), q + 1).ldelim();
                if (message.sessionData != null && Object.hasOwnProperty.call(message, "sessionData"))
                    $root.sidecast.v1.SessionData.encode(message.sessionData, writer.uint32(/* id 63, wireType 2 =*/506).fork(), q + 1).ldelim();
                if (message.sessionSet != null && Object.hasOwnProperty.call(message, "sessionSet"))
                    $root.sidecast.v1.SessionSet.encode(message.sessionSet, writer.uint32(/* id 64, wireType 2 =*/514).fork(), q + 1).ldelim();
                return writer;
            };

            /**
             * Decodes a Frame message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.Frame
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.Frame} Frame
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Frame.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.Frame();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.id = reader.uint64();
                            break;
                        }
                    case 10: {
                            message.hello = $root.sidecast.v1.Hello.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 11: {
                            message.welcome = $root.sidecast.v1.Welcome.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 12: {
                            message.error = $root.sidecast.v1.Error.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 13: {
                            message.ok = $root.sidecast.v1.Ok.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 14: {
                            message.ping = $root.sidecast.v1.Ping.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 15: {
                            message.pong = $root.sidecast.v1.Pong.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 20: {
                            message.socketUp = $root.sidecast.v1.SocketUp.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 21: {
                            message.socketDown = $root.sidecast.v1.SocketDown.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 22: {
                            message.join = $root.sidecast.v1.Join.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 23: {
                            message.leave = $root.sidecast.v1.Leave.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 24: {
                            message.setData = $root.sidecast.v1.SetData.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 30: {
                            message.emit = $root.sidecast.v1.Emit.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 31: {
                            message.deliver = $root.sidecast.v1.Deliver.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 40: {
                            message.fetchSockets = $root.sidecast.v1.FetchSockets.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 41: {
                            message.socketList = $root.sidecast.v1.SocketList.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 42: {
                            message.rooms = $root.sidecast.v1.RoomsRequest.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 43: {
                            message.roomList = $root.sidecast.v1.RoomList.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 44: {
                            message.stats = $root.sidecast.v1.StatsRequest.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 45: {
                            message.statsReply = $root.sidecast.v1.Stats.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 50: {
                            message.apply = $root.sidecast.v1.Apply.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 51: {
                            message.serverEmit = $root.sidecast.v1.ServerEmit.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 52: {
                            message.serverMessage = $root.sidecast.v1.ServerMessage.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 53: {
                            message.ack = $root.sidecast.v1.Ack.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 54: {
                            message.progress = $root.sidecast.v1.Progress.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 55: {
                            message.gap = $root.sidecast.v1.Gap.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 56: {
                            message.nodes = $root.sidecast.v1.NodesRequest.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 57: {
                            message.nodeList = $root.sidecast.v1.NodeList.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 60: {
                            message.lookup = $root.sidecast.v1.Lookup.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 61: {
                            message.lookupResult = $root.sidecast.v1.LookupResult.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 62: {
                            message.sessionGet = $root.sidecast.v1.SessionGet.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 63: {
                            message.sessionData = $root.sidecast.v1.SessionData.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 64: {
                            message.sessionSet = $root.sidecast.v1.SessionSet.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return Frame;
        })();

        /**
         * Version enum.
         * @name sidecast.v1.Version
         * @enum {number}
         * @property {number} VERSION_UNSPECIFIED=0 VERSION_UNSPECIFIED value
         * @property {number} VERSION_CURRENT=1 VERSION_CURRENT value
         */
        v1.Version = (function() {
            var valuesById = {}, values = Object.create(valuesById);
            values[valuesById[0] = "VERSION_UNSPECIFIED"] = 0;
            values[valuesById[1] = "VERSION_CURRENT"] = 1;
            return values;
        })();

        /**
         * Feature enum.
         * @name sidecast.v1.Feature
         * @enum {number}
         * @property {number} FEATURE_NONE=0 FEATURE_NONE value
         * @property {number} FEATURE_NODE_VERSIONS=1 FEATURE_NODE_VERSIONS value
         * @property {number} FEATURE_KEPT_ANSWERS=2 FEATURE_KEPT_ANSWERS value
         */
        v1.Feature = (function() {
            var valuesById = {}, values = Object.create(valuesById);
            values[valuesById[0] = "FEATURE_NONE"] = 0;
            values[valuesById[1] = "FEATURE_NODE_VERSIONS"] = 1;
            values[valuesById[2] = "FEATURE_KEPT_ANSWERS"] = 2;
            return values;
        })();

        v1.Hello = (function() {

            /**
             * Properties of a Hello.
             * @memberof sidecast.v1
             * @interface IHello
             * @property {number|null} [protocolVersion] Hello protocolVersion
             * @property {string|null} [clientName] Hello clientName
             * @property {number|null} [pid] Hello pid
             * @property {number|null} [features] Hello features
             */

            /**
             * Constructs a new Hello.
             * @memberof sidecast.v1
             * @classdesc Represents a Hello.
             * @implements IHello
             * @constructor
             * @param {sidecast.v1.IHello=} [properties] Properties to set
             */
            function Hello(properties) {
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * Hello protocolVersion.
             * @member {number} protocolVersion
             * @memberof sidecast.v1.Hello
             * @instance
             */
            Hello.prototype.protocolVersion = 0;

            /**
             * Hello clientName.
             * @member {string} clientName
             * @memberof sidecast.v1.Hello
             * @instance
             */
            Hello.prototype.clientName = "";

            /**
             * Hello pid.
             * @member {number} pid
             * @memberof sidecast.v1.Hello
             * @instance
             */
            Hello.prototype.pid = 0;

            /**
             * Hello features.
             * @member {number} features
             * @memberof sidecast.v1.Hello
             * @instance
             */
            Hello.prototype.features = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Creates a new Hello instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.Hello
             * @static
             * @param {sidecast.v1.IHello=} [properties] Properties to set
             * @returns {sidecast.v1.Hello} Hello instance
             */
            Hello.create = function create(properties) {
                return new Hello(properties);
            };

            /**
             * Encodes the specified Hello message. Does not implicitly {@link sidecast.v1.Hello.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.Hello
             * @static
             * @param {sidecast.v1.IHello} message Hello message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Hello.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.protocolVersion != null && Object.hasOwnProperty.call(message, "protocolVersion"))
                    writer.uint32(/* id 1, wireType 0 =*/8).uint32(message.protocolVersion);
                if (message.clientName != null && Object.hasOwnProperty.call(message, "clientName"))
                    writer.uint32(/* id 2, wireType 2 =*/18).string(message.clientName);
                if (message.pid != null && Object.hasOwnProperty.call(message, "pid"))
                    writer.uint32(/* id 3, wireType 0 =*/24).uint32(message.pid);
                if (message.features != null && Object.hasOwnProperty.call(message, "features"))
                    writer.uint32(/* id 4, wireType 0 =*/32).uint64(message.features);
                return writer;
            };

            /**
             * Decodes a Hello message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.Hello
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.Hello} Hello
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Hello.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.Hello();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.protocolVersion = reader.uint32();
                            break;
                        }
                    case 2: {
                            message.clientName = reader.string();
                            break;
                        }
                    case 3: {
                            message.pid = reader.uint32();
                            break;
                        }
                    case 4: {
                            message.features = reader.uint64();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return Hello;
        })();

        v1.Welcome = (function() {

            /**
             * Properties of a Welcome.
             * @memberof sidecast.v1
             * @interface IWelcome
             * @property {number|null} [protocolVersion] Welcome protocolVersion
             * @property {string|null} [serverVersion] Welcome serverVersion
             * @property {string|null} [nodeId] Welcome nodeId
             * @property {string|null} [nodeName] Welcome nodeName
             * @property {number|null} [maxFrameBytes] Welcome maxFrameBytes
             * @property {number|null} [connectionId] Welcome connectionId
             * @property {number|null} [features] Welcome features
             * @property {number|null} [minProtocolVersion] Welcome minProtocolVersion
             * @property {number|null} [maxPayloadBytes] Welcome maxPayloadBytes
             */

            /**
             * Constructs a new Welcome.
             * @memberof sidecast.v1
             * @classdesc Represents a Welcome.
             * @implements IWelcome
             * @constructor
             * @param {sidecast.v1.IWelcome=} [properties] Properties to set
             */
            function Welcome(properties) {
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * Welcome protocolVersion.
             * @member {number} protocolVersion
             * @memberof sidecast.v1.Welcome
             * @instance
             */
            Welcome.prototype.protocolVersion = 0;

            /**
             * Welcome serverVersion.
             * @member {string} serverVersion
             * @memberof sidecast.v1.Welcome
             * @instance
             */
            Welcome.prototype.serverVersion = "";

            /**
             * Welcome nodeId.
             * @member {string} nodeId
             * @memberof sidecast.v1.Welcome
             * @instance
             */
            Welcome.prototype.nodeId = "";

            /**
             * Welcome nodeName.
             * @member {string} nodeName
             * @memberof sidecast.v1.Welcome
             * @instance
             */
            Welcome.prototype.nodeName = "";

            /**
             * Welcome maxFrameBytes.
             * @member {number} maxFrameBytes
             * @memberof sidecast.v1.Welcome
             * @instance
             */
            Welcome.prototype.maxFrameBytes = 0;

            /**
             * Welcome connectionId.
             * @member {number} connectionId
             * @memberof sidecast.v1.Welcome
             * @instance
             */
            Welcome.prototype.connectionId = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Welcome features.
             * @member {number} features
             * @memberof sidecast.v1.Welcome
             * @instance
             */
            Welcome.prototype.features = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Welcome minProtocolVersion.
             * @member {number} minProtocolVersion
             * @memberof sidecast.v1.Welcome
             * @instance
             */
            Welcome.prototype.minProtocolVersion = 0;

            /**
             * Welcome maxPayloadBytes.
             * @member {number} maxPayloadBytes
             * @memberof sidecast.v1.Welcome
             * @instance
             */
            Welcome.prototype.maxPayloadBytes = 0;

            /**
             * Creates a new Welcome instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.Welcome
             * @static
             * @param {sidecast.v1.IWelcome=} [properties] Properties to set
             * @returns {sidecast.v1.Welcome} Welcome instance
             */
            Welcome.create = function create(properties) {
                return new Welcome(properties);
            };

            /**
             * Encodes the specified Welcome message. Does not implicitly {@link sidecast.v1.Welcome.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.Welcome
             * @static
             * @param {sidecast.v1.IWelcome} message Welcome message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Welcome.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.protocolVersion != null && Object.hasOwnProperty.call(message, "protocolVersion"))
                    writer.uint32(/* id 1, wireType 0 =*/8).uint32(message.protocolVersion);
                if (message.serverVersion != null && Object.hasOwnProperty.call(message, "serverVersion"))
                    writer.uint32(/* id 2, wireType 2 =*/18).string(message.serverVersion);
                if (message.nodeId != null && Object.hasOwnProperty.call(message, "nodeId"))
                    writer.uint32(/* id 3, wireType 2 =*/26).string(message.nodeId);
                if (message.nodeName != null && Object.hasOwnProperty.call(message, "nodeName"))
                    writer.uint32(/* id 4, wireType 2 =*/34).string(message.nodeName);
                if (message.maxFrameBytes != null && Object.hasOwnProperty.call(message, "maxFrameBytes"))
                    writer.uint32(/* id 5, wireType 0 =*/40).uint32(message.maxFrameBytes);
                if (message.connectionId != null && Object.hasOwnProperty.call(message, "connectionId"))
                    writer.uint32(/* id 6, wireType 0 =*/48).uint64(message.connectionId);
                if (message.features != null && Object.hasOwnProperty.call(message, "features"))
                    writer.uint32(/* id 7, wireType 0 =*/56).uint64(message.features);
                if (message.minProtocolVersion != null && Object.hasOwnProperty.call(message, "minProtocolVersion"))
                    writer.uint32(/* id 8, wireType 0 =*/64).uint32(message.minProtocolVersion);
                if (message.maxPayloadBytes != null && Object.hasOwnProperty.call(message, "maxPayloadBytes"))
                    writer.uint32(/* id 9, wireType 0 =*/72).uint32(message.maxPayloadBytes);
                return writer;
            };

            /**
             * Decodes a Welcome message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.Welcome
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.Welcome} Welcome
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Welcome.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.Welcome();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.protocolVersion = reader.uint32();
                            break;
                        }
                    case 2: {
                            message.serverVersion = reader.string();
                            break;
                        }
                    case 3: {
                            message.nodeId = reader.string();
                            break;
                        }
                    case 4: {
                            message.nodeName = reader.string();
                            break;
                        }
                    case 5: {
                            message.maxFrameBytes = reader.uint32();
                            break;
                        }
                    case 6: {
                            message.connectionId = reader.uint64();
                            break;
                        }
                    case 7: {
                            message.features = reader.uint64();
                            break;
                        }
                    case 8: {
                            message.minProtocolVersion = reader.uint32();
                            break;
                        }
                    case 9: {
                            message.maxPayloadBytes = reader.uint32();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return Welcome;
        })();

        /**
         * ErrorCode enum.
         * @name sidecast.v1.ErrorCode
         * @enum {number}
         * @property {number} ERROR_UNSPECIFIED=0 ERROR_UNSPECIFIED value
         * @property {number} ERROR_MALFORMED=1 ERROR_MALFORMED value
         * @property {number} ERROR_TOO_LARGE=2 ERROR_TOO_LARGE value
         * @property {number} ERROR_UNKNOWN_MESSAGE=3 ERROR_UNKNOWN_MESSAGE value
         * @property {number} ERROR_HANDSHAKE=4 ERROR_HANDSHAKE value
         * @property {number} ERROR_VERSION=5 ERROR_VERSION value
         * @property {number} ERROR_DUPLICATE=6 ERROR_DUPLICATE value
         * @property {number} ERROR_NOT_FOUND=7 ERROR_NOT_FOUND value
         * @property {number} ERROR_INVALID=8 ERROR_INVALID value
         * @property {number} ERROR_LIMIT=9 ERROR_LIMIT value
         * @property {number} ERROR_SHUTTING_DOWN=10 ERROR_SHUTTING_DOWN value
         * @property {number} ERROR_TIMEOUT=11 ERROR_TIMEOUT value
         * @property {number} ERROR_UNAVAILABLE=12 ERROR_UNAVAILABLE value
         * @property {number} ERROR_FORBIDDEN=13 ERROR_FORBIDDEN value
         */
        v1.ErrorCode = (function() {
            var valuesById = {}, values = Object.create(valuesById);
            values[valuesById[0] = "ERROR_UNSPECIFIED"] = 0;
            values[valuesById[1] = "ERROR_MALFORMED"] = 1;
            values[valuesById[2] = "ERROR_TOO_LARGE"] = 2;
            values[valuesById[3] = "ERROR_UNKNOWN_MESSAGE"] = 3;
            values[valuesById[4] = "ERROR_HANDSHAKE"] = 4;
            values[valuesById[5] = "ERROR_VERSION"] = 5;
            values[valuesById[6] = "ERROR_DUPLICATE"] = 6;
            values[valuesById[7] = "ERROR_NOT_FOUND"] = 7;
            values[valuesById[8] = "ERROR_INVALID"] = 8;
            values[valuesById[9] = "ERROR_LIMIT"] = 9;
            values[valuesById[10] = "ERROR_SHUTTING_DOWN"] = 10;
            values[valuesById[11] = "ERROR_TIMEOUT"] = 11;
            values[valuesById[12] = "ERROR_UNAVAILABLE"] = 12;
            values[valuesById[13] = "ERROR_FORBIDDEN"] = 13;
            return values;
        })();

        v1.Error = (function() {

            /**
             * Properties of an Error.
             * @memberof sidecast.v1
             * @interface IError
             * @property {sidecast.v1.ErrorCode|null} [code] Error code
             * @property {string|null} [message] Error message
             * @property {string|null} [ref] Error ref
             * @property {boolean|null} [fatal] Error fatal
             */

            /**
             * Constructs a new Error.
             * @memberof sidecast.v1
             * @classdesc Represents an Error.
             * @implements IError
             * @constructor
             * @param {sidecast.v1.IError=} [properties] Properties to set
             */
            function Error(properties) {
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * Error code.
             * @member {sidecast.v1.ErrorCode} code
             * @memberof sidecast.v1.Error
             * @instance
             */
            Error.prototype.code = 0;

            /**
             * Error message.
             * @member {string} message
             * @memberof sidecast.v1.Error
             * @instance
             */
            Error.prototype.message = "";

            /**
             * Error ref.
             * @member {string} ref
             * @memberof sidecast.v1.Error
             * @instance
             */
            Error.prototype.ref = "";

            /**
             * Error fatal.
             * @member {boolean} fatal
             * @memberof sidecast.v1.Error
             * @instance
             */
            Error.prototype.fatal = false;

            /**
             * Creates a new Error instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.Error
             * @static
             * @param {sidecast.v1.IError=} [properties] Properties to set
             * @returns {sidecast.v1.Error} Error instance
             */
            Error.create = function create(properties) {
                return new Error(properties);
            };

            /**
             * Encodes the specified Error message. Does not implicitly {@link sidecast.v1.Error.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.Error
             * @static
             * @param {sidecast.v1.IError} message Error message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Error.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.code != null && Object.hasOwnProperty.call(message, "code"))
                    writer.uint32(/* id 1, wireType 0 =*/8).int32(message.code);
                if (message.message != null && Object.hasOwnProperty.call(message, "message"))
                    writer.uint32(/* id 2, wireType 2 =*/18).string(message.message);
                if (message.ref != null && Object.hasOwnProperty.call(message, "ref"))
                    writer.uint32(/* id 3, wireType 2 =*/26).string(message.ref);
                if (message.fatal != null && Object.hasOwnProperty.call(message, "fatal"))
                    writer.uint32(/* id 4, wireType 0 =*/32).bool(message.fatal);
                return writer;
            };

            /**
             * Decodes an Error message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.Error
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.Error} Error
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Error.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.Error();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.code = reader.int32();
                            break;
                        }
                    case 2: {
                            message.message = reader.string();
                            break;
                        }
                    case 3: {
                            message.ref = reader.string();
                            break;
                        }
                    case 4: {
                            message.fatal = reader.bool();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return Error;
        })();

        v1.Ok = (function() {

            /**
             * Properties of an Ok.
             * @memberof sidecast.v1
             * @interface IOk
             */

            /**
             * Constructs a new Ok.
             * @memberof sidecast.v1
             * @classdesc Represents an Ok.
             * @implements IOk
             * @constructor
             * @param {sidecast.v1.IOk=} [properties] Properties to set
             */
            function Ok(properties) {
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * Creates a new Ok instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.Ok
             * @static
             * @param {sidecast.v1.IOk=} [properties] Properties to set
             * @returns {sidecast.v1.Ok} Ok instance
             */
            Ok.create = function create(properties) {
                return new Ok(properties);
            };

            /**
             * Encodes the specified Ok message. Does not implicitly {@link sidecast.v1.Ok.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.Ok
             * @static
             * @param {sidecast.v1.IOk} message Ok message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Ok.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                return writer;
            };

            /**
             * Decodes an Ok message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.Ok
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.Ok} Ok
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Ok.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.Ok();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return Ok;
        })();

        v1.Ping = (function() {

            /**
             * Properties of a Ping.
             * @memberof sidecast.v1
             * @interface IPing
             * @property {number|null} [nonce] Ping nonce
             */

            /**
             * Constructs a new Ping.
             * @memberof sidecast.v1
             * @classdesc Represents a Ping.
             * @implements IPing
             * @constructor
             * @param {sidecast.v1.IPing=} [properties] Properties to set
             */
            function Ping(properties) {
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * Ping nonce.
             * @member {number} nonce
             * @memberof sidecast.v1.Ping
             * @instance
             */
            Ping.prototype.nonce = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Creates a new Ping instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.Ping
             * @static
             * @param {sidecast.v1.IPing=} [properties] Properties to set
             * @returns {sidecast.v1.Ping} Ping instance
             */
            Ping.create = function create(properties) {
                return new Ping(properties);
            };

            /**
             * Encodes the specified Ping message. Does not implicitly {@link sidecast.v1.Ping.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.Ping
             * @static
             * @param {sidecast.v1.IPing} message Ping message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Ping.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.nonce != null && Object.hasOwnProperty.call(message, "nonce"))
                    writer.uint32(/* id 1, wireType 0 =*/8).uint64(message.nonce);
                return writer;
            };

            /**
             * Decodes a Ping message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.Ping
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.Ping} Ping
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Ping.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.Ping();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.nonce = reader.uint64();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return Ping;
        })();

        v1.Pong = (function() {

            /**
             * Properties of a Pong.
             * @memberof sidecast.v1
             * @interface IPong
             * @property {number|null} [nonce] Pong nonce
             */

            /**
             * Constructs a new Pong.
             * @memberof sidecast.v1
             * @classdesc Represents a Pong.
             * @implements IPong
             * @constructor
             * @param {sidecast.v1.IPong=} [properties] Properties to set
             */
            function Pong(properties) {
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * Pong nonce.
             * @member {number} nonce
             * @memberof sidecast.v1.Pong
             * @instance
             */
            Pong.prototype.nonce = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Creates a new Pong instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.Pong
             * @static
             * @param {sidecast.v1.IPong=} [properties] Properties to set
             * @returns {sidecast.v1.Pong} Pong instance
             */
            Pong.create = function create(properties) {
                return new Pong(properties);
            };

            /**
             * Encodes the specified Pong message. Does not implicitly {@link sidecast.v1.Pong.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.Pong
             * @static
             * @param {sidecast.v1.IPong} message Pong message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Pong.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.nonce != null && Object.hasOwnProperty.call(message, "nonce"))
                    writer.uint32(/* id 1, wireType 0 =*/8).uint64(message.nonce);
                return writer;
            };

            /**
             * Decodes a Pong message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.Pong
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.Pong} Pong
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Pong.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.Pong();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.nonce = reader.uint64();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return Pong;
        })();

        v1.SocketUp = (function() {

            /**
             * Properties of a SocketUp.
             * @memberof sidecast.v1
             * @interface ISocketUp
             * @property {string|null} [socketId] SocketUp socketId
             * @property {string|null} [sessionId] SocketUp sessionId
             * @property {string|null} [userId] SocketUp userId
             * @property {Uint8Array|null} [data] SocketUp data
             * @property {Array.<string>|null} [rooms] SocketUp rooms
             */

            /**
             * Constructs a new SocketUp.
             * @memberof sidecast.v1
             * @classdesc Represents a SocketUp.
             * @implements ISocketUp
             * @constructor
             * @param {sidecast.v1.ISocketUp=} [properties] Properties to set
             */
            function SocketUp(properties) {
                this.rooms = [];
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * SocketUp socketId.
             * @member {string} socketId
             * @memberof sidecast.v1.SocketUp
             * @instance
             */
            SocketUp.prototype.socketId = "";

            /**
             * SocketUp sessionId.
             * @member {string} sessionId
             * @memberof sidecast.v1.SocketUp
             * @instance
             */
            SocketUp.prototype.sessionId = "";

            /**
             * SocketUp userId.
             * @member {string} userId
             * @memberof sidecast.v1.SocketUp
             * @instance
             */
            SocketUp.prototype.userId = "";

            /**
             * SocketUp data.
             * @member {Uint8Array} data
             * @memberof sidecast.v1.SocketUp
             * @instance
             */
            SocketUp.prototype.data = $util.newBuffer([]);

            /**
             * SocketUp rooms.
             * @member {Array.<string>} rooms
             * @memberof sidecast.v1.SocketUp
             * @instance
             */
            SocketUp.prototype.rooms = $util.emptyArray;

            /**
             * Creates a new SocketUp instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.SocketUp
             * @static
             * @param {sidecast.v1.ISocketUp=} [properties] Properties to set
             * @returns {sidecast.v1.SocketUp} SocketUp instance
             */
            SocketUp.create = function create(properties) {
                return new SocketUp(properties);
            };

            /**
             * Encodes the specified SocketUp message. Does not implicitly {@link sidecast.v1.SocketUp.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.SocketUp
             * @static
             * @param {sidecast.v1.ISocketUp} message SocketUp message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            SocketUp.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.socketId != null && Object.hasOwnProperty.call(message, "socketId"))
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.socketId);
                if (message.sessionId != null && Object.hasOwnProperty.call(message, "sessionId"))
                    writer.uint32(/* id 2, wireType 2 =*/18).string(message.sessionId);
                if (message.userId != null && Object.hasOwnProperty.call(message, "userId"))
                    writer.uint32(/* id 3, wireType 2 =*/26).string(message.userId);
                if (message.data != null && Object.hasOwnProperty.call(message, "data"))
                    writer.uint32(/* id 4, wireType 2 =*/34).bytes(message.data);
                if (message.rooms != null && message.rooms.length)
                    for (var i = 0; i < message.rooms.length; ++i)
                        writer.uint32(/* id 5, wireType 2 =*/42).string(message.rooms[i]);
                return writer;
            };

            /**
             * Decodes a SocketUp message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.SocketUp
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.SocketUp} SocketUp
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            SocketUp.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.SocketUp();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.socketId = reader.string();
                            break;
                        }
                    case 2: {
                            message.sessionId = reader.string();
                            break;
                        }
                    case 3: {
                            message.userId = reader.string();
                            break;
                        }
                    case 4: {
                            message.data = reader.bytes();
                            break;
                        }
                    case 5: {
                            if (!(message.rooms && message.rooms.length))
                                message.rooms = [];
                            message.rooms.push(reader.string());
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return SocketUp;
        })();

        v1.SocketDown = (function() {

            /**
             * Properties of a SocketDown.
             * @memberof sidecast.v1
             * @interface ISocketDown
             * @property {string|null} [socketId] SocketDown socketId
             */

            /**
             * Constructs a new SocketDown.
             * @memberof sidecast.v1
             * @classdesc Represents a SocketDown.
             * @implements ISocketDown
             * @constructor
             * @param {sidecast.v1.ISocketDown=} [properties] Properties to set
             */
            function SocketDown(properties) {
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * SocketDown socketId.
             * @member {string} socketId
             * @memberof sidecast.v1.SocketDown
             * @instance
             */
            SocketDown.prototype.socketId = "";

            /**
             * Creates a new SocketDown instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.SocketDown
             * @static
             * @param {sidecast.v1.ISocketDown=} [properties] Properties to set
             * @returns {sidecast.v1.SocketDown} SocketDown instance
             */
            SocketDown.create = function create(properties) {
                return new SocketDown(properties);
            };

            /**
             * Encodes the specified SocketDown message. Does not implicitly {@link sidecast.v1.SocketDown.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.SocketDown
             * @static
             * @param {sidecast.v1.ISocketDown} message SocketDown message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            SocketDown.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.socketId != null && Object.hasOwnProperty.call(message, "socketId"))
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.socketId);
                return writer;
            };

            /**
             * Decodes a SocketDown message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.SocketDown
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.SocketDown} SocketDown
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            SocketDown.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.SocketDown();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.socketId = reader.string();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return SocketDown;
        })();

        v1.Join = (function() {

            /**
             * Properties of a Join.
             * @memberof sidecast.v1
             * @interface IJoin
             * @property {string|null} [socketId] Join socketId
             * @property {Array.<string>|null} [rooms] Join rooms
             */

            /**
             * Constructs a new Join.
             * @memberof sidecast.v1
             * @classdesc Represents a Join.
             * @implements IJoin
             * @constructor
             * @param {sidecast.v1.IJoin=} [properties] Properties to set
             */
            function Join(properties) {
                this.rooms = [];
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * Join socketId.
             * @member {string} socketId
             * @memberof sidecast.v1.Join
             * @instance
             */
            Join.prototype.socketId = "";

            /**
             * Join rooms.
             * @member {Array.<string>} rooms
             * @memberof sidecast.v1.Join
             * @instance
             */
            Join.prototype.rooms = $util.emptyArray;

            /**
             * Creates a new Join instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.Join
             * @static
             * @param {sidecast.v1.IJoin=} [properties] Properties to set
             * @returns {sidecast.v1.Join} Join instance
             */
            Join.create = function create(properties) {
                return new Join(properties);
            };

            /**
             * Encodes the specified Join message. Does not implicitly {@link sidecast.v1.Join.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.Join
             * @static
             * @param {sidecast.v1.IJoin} message Join message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Join.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.socketId != null && Object.hasOwnProperty.call(message, "socketId"))
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.socketId);
                if (message.rooms != null && message.rooms.length)
                    for (var i = 0; i < message.rooms.length; ++i)
                        writer.uint32(/* id 2, wireType 2 =*/18).string(message.rooms[i]);
                return writer;
            };

            /**
             * Decodes a Join message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.Join
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.Join} Join
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Join.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.Join();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.socketId = reader.string();
                            break;
                        }
                    case 2: {
                            if (!(message.rooms && message.rooms.length))
                                message.rooms = [];
                            message.rooms.push(reader.string());
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return Join;
        })();

        v1.Leave = (function() {

            /**
             * Properties of a Leave.
             * @memberof sidecast.v1
             * @interface ILeave
             * @property {string|null} [socketId] Leave socketId
             * @property {Array.<string>|null} [rooms] Leave rooms
             */

            /**
             * Constructs a new Leave.
             * @memberof sidecast.v1
             * @classdesc Represents a Leave.
             * @implements ILeave
             * @constructor
             * @param {sidecast.v1.ILeave=} [properties] Properties to set
             */
            function Leave(properties) {
                this.rooms = [];
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * Leave socketId.
             * @member {string} socketId
             * @memberof sidecast.v1.Leave
             * @instance
             */
            Leave.prototype.socketId = "";

            /**
             * Leave rooms.
             * @member {Array.<string>} rooms
             * @memberof sidecast.v1.Leave
             * @instance
             */
            Leave.prototype.rooms = $util.emptyArray;

            /**
             * Creates a new Leave instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.Leave
             * @static
             * @param {sidecast.v1.ILeave=} [properties] Properties to set
             * @returns {sidecast.v1.Leave} Leave instance
             */
            Leave.create = function create(properties) {
                return new Leave(properties);
            };

            /**
             * Encodes the specified Leave message. Does not implicitly {@link sidecast.v1.Leave.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.Leave
             * @static
             * @param {sidecast.v1.ILeave} message Leave message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Leave.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.socketId != null && Object.hasOwnProperty.call(message, "socketId"))
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.socketId);
                if (message.rooms != null && message.rooms.length)
                    for (var i = 0; i < message.rooms.length; ++i)
                        writer.uint32(/* id 2, wireType 2 =*/18).string(message.rooms[i]);
                return writer;
            };

            /**
             * Decodes a Leave message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.Leave
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.Leave} Leave
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Leave.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.Leave();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.socketId = reader.string();
                            break;
                        }
                    case 2: {
                            if (!(message.rooms && message.rooms.length))
                                message.rooms = [];
                            message.rooms.push(reader.string());
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return Leave;
        })();

        v1.SetData = (function() {

            /**
             * Properties of a SetData.
             * @memberof sidecast.v1
             * @interface ISetData
             * @property {string|null} [socketId] SetData socketId
             * @property {Uint8Array|null} [data] SetData data
             */

            /**
             * Constructs a new SetData.
             * @memberof sidecast.v1
             * @classdesc Represents a SetData.
             * @implements ISetData
             * @constructor
             * @param {sidecast.v1.ISetData=} [properties] Properties to set
             */
            function SetData(properties) {
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * SetData socketId.
             * @member {string} socketId
             * @memberof sidecast.v1.SetData
             * @instance
             */
            SetData.prototype.socketId = "";

            /**
             * SetData data.
             * @member {Uint8Array} data
             * @memberof sidecast.v1.SetData
             * @instance
             */
            SetData.prototype.data = $util.newBuffer([]);

            /**
             * Creates a new SetData instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.SetData
             * @static
             * @param {sidecast.v1.ISetData=} [properties] Properties to set
             * @returns {sidecast.v1.SetData} SetData instance
             */
            SetData.create = function create(properties) {
                return new SetData(properties);
            };

            /**
             * Encodes the specified SetData message. Does not implicitly {@link sidecast.v1.SetData.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.SetData
             * @static
             * @param {sidecast.v1.ISetData} message SetData message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            SetData.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.socketId != null && Object.hasOwnProperty.call(message, "socketId"))
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.socketId);
                if (message.data != null && Object.hasOwnProperty.call(message, "data"))
                    writer.uint32(/* id 2, wireType 2 =*/18).bytes(message.data);
                return writer;
            };

            /**
             * Decodes a SetData message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.SetData
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.SetData} SetData
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            SetData.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.SetData();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.socketId = reader.string();
                            break;
                        }
                    case 2: {
                            message.data = reader.bytes();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return SetData;
        })();

        v1.Selector = (function() {

            /**
             * Properties of a Selector.
             * @memberof sidecast.v1
             * @interface ISelector
             * @property {Array.<string>|null} [rooms] Selector rooms
             * @property {Array.<string>|null} [socketIds] Selector socketIds
             * @property {boolean|null} [all] Selector all
             * @property {Array.<string>|null} [exceptRooms] Selector exceptRooms
             * @property {Array.<string>|null} [exceptIds] Selector exceptIds
             * @property {Array.<string>|null} [userIds] Selector userIds
             */

            /**
             * Constructs a new Selector.
             * @memberof sidecast.v1
             * @classdesc Represents a Selector.
             * @implements ISelector
             * @constructor
             * @param {sidecast.v1.ISelector=} [properties] Properties to set
             */
            function Selector(properties) {
                this.rooms = [];
                this.socketIds = [];
                this.exceptRooms = [];
                this.exceptIds = [];
                this.userIds = [];
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * Selector rooms.
             * @member {Array.<string>} rooms
             * @memberof sidecast.v1.Selector
             * @instance
             */
            Selector.prototype.rooms = $util.emptyArray;

            /**
             * Selector socketIds.
             * @member {Array.<string>} socketIds
             * @memberof sidecast.v1.Selector
             * @instance
             */
            Selector.prototype.socketIds = $util.emptyArray;

            /**
             * Selector all.
             * @member {boolean} all
             * @memberof sidecast.v1.Selector
             * @instance
             */
            Selector.prototype.all = false;

            /**
             * Selector exceptRooms.
             * @member {Array.<string>} exceptRooms
             * @memberof sidecast.v1.Selector
             * @instance
             */
            Selector.prototype.exceptRooms = $util.emptyArray;

            /**
             * Selector exceptIds.
             * @member {Array.<string>} exceptIds
             * @memberof sidecast.v1.Selector
             * @instance
             */
            Selector.prototype.exceptIds = $util.emptyArray;

            /**
             * Selector userIds.
             * @member {Array.<string>} userIds
             * @memberof sidecast.v1.Selector
             * @instance
             */
            Selector.prototype.userIds = $util.emptyArray;

            /**
             * Creates a new Selector instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.Selector
             * @static
             * @param {sidecast.v1.ISelector=} [properties] Properties to set
             * @returns {sidecast.v1.Selector} Selector instance
             */
            Selector.create = function create(properties) {
                return new Selector(properties);
            };

            /**
             * Encodes the specified Selector message. Does not implicitly {@link sidecast.v1.Selector.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.Selector
             * @static
             * @param {sidecast.v1.ISelector} message Selector message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Selector.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.rooms != null && message.rooms.length)
                    for (var i = 0; i < message.rooms.length; ++i)
                        writer.uint32(/* id 1, wireType 2 =*/10).string(message.rooms[i]);
                if (message.socketIds != null && message.socketIds.length)
                    for (var i = 0; i < message.socketIds.length; ++i)
                        writer.uint32(/* id 2, wireType 2 =*/18).string(message.socketIds[i]);
                if (message.all != null && Object.hasOwnProperty.call(message, "all"))
                    writer.uint32(/* id 3, wireType 0 =*/24).bool(message.all);
                if (message.exceptRooms != null && message.exceptRooms.length)
                    for (var i = 0; i < message.exceptRooms.length; ++i)
                        writer.uint32(/* id 4, wireType 2 =*/34).string(message.exceptRooms[i]);
                if (message.exceptIds != null && message.exceptIds.length)
                    for (var i = 0; i < message.exceptIds.length; ++i)
                        writer.uint32(/* id 5, wireType 2 =*/42).string(message.exceptIds[i]);
                if (message.userIds != null && message.userIds.length)
                    for (var i = 0; i < message.userIds.length; ++i)
                        writer.uint32(/* id 6, wireType 2 =*/50).string(message.userIds[i]);
                return writer;
            };

            /**
             * Decodes a Selector message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.Selector
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.Selector} Selector
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Selector.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.Selector();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            if (!(message.rooms && message.rooms.length))
                                message.rooms = [];
                            message.rooms.push(reader.string());
                            break;
                        }
                    case 2: {
                            if (!(message.socketIds && message.socketIds.length))
                                message.socketIds = [];
                            message.socketIds.push(reader.string());
                            break;
                        }
                    case 3: {
                            message.all = reader.bool();
                            break;
                        }
                    case 4: {
                            if (!(message.exceptRooms && message.exceptRooms.length))
                                message.exceptRooms = [];
                            message.exceptRooms.push(reader.string());
                            break;
                        }
                    case 5: {
                            if (!(message.exceptIds && message.exceptIds.length))
                                message.exceptIds = [];
                            message.exceptIds.push(reader.string());
                            break;
                        }
                    case 6: {
                            if (!(message.userIds && message.userIds.length))
                                message.userIds = [];
                            message.userIds.push(reader.string());
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return Selector;
        })();

        v1.Emit = (function() {

            /**
             * Properties of an Emit.
             * @memberof sidecast.v1
             * @interface IEmit
             * @property {sidecast.v1.ISelector|null} [to] Emit to
             * @property {Uint8Array|null} [payload] Emit payload
             * @property {boolean|null} [volatile] Emit volatile
             * @property {boolean|null} [includeSelf] Emit includeSelf
             * @property {boolean|null} [local] Emit local
             * @property {boolean|null} [wantAck] Emit wantAck
             */

            /**
             * Constructs a new Emit.
             * @memberof sidecast.v1
             * @classdesc Represents an Emit.
             * @implements IEmit
             * @constructor
             * @param {sidecast.v1.IEmit=} [properties] Properties to set
             */
            function Emit(properties) {
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * Emit to.
             * @member {sidecast.v1.ISelector|null|undefined} to
             * @memberof sidecast.v1.Emit
             * @instance
             */
            Emit.prototype.to = null;

            /**
             * Emit payload.
             * @member {Uint8Array} payload
             * @memberof sidecast.v1.Emit
             * @instance
             */
            Emit.prototype.payload = $util.newBuffer([]);

            /**
             * Emit volatile.
             * @member {boolean} volatile
             * @memberof sidecast.v1.Emit
             * @instance
             */
            Emit.prototype.volatile = false;

            /**
             * Emit includeSelf.
             * @member {boolean} includeSelf
             * @memberof sidecast.v1.Emit
             * @instance
             */
            Emit.prototype.includeSelf = false;

            /**
             * Emit local.
             * @member {boolean} local
             * @memberof sidecast.v1.Emit
             * @instance
             */
            Emit.prototype.local = false;

            /**
             * Emit wantAck.
             * @member {boolean} wantAck
             * @memberof sidecast.v1.Emit
             * @instance
             */
            Emit.prototype.wantAck = false;

            /**
             * Creates a new Emit instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.Emit
             * @static
             * @param {sidecast.v1.IEmit=} [properties] Properties to set
             * @returns {sidecast.v1.Emit} Emit instance
             */
            Emit.create = function create(properties) {
                return new Emit(properties);
            };

            /**
             * Encodes the specified Emit message. Does not implicitly {@link sidecast.v1.Emit.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.Emit
             * @static
             * @param {sidecast.v1.IEmit} message Emit message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Emit.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.to != null && Object.hasOwnProperty.call(message, "to"))
                    $root.sidecast.v1.Selector.encode(message.to, writer.uint32(/* id 1, wireType 2 =*/10).fork(), q + 1).ldelim();
                if (message.payload != null && Object.hasOwnProperty.call(message, "payload"))
                    writer.uint32(/* id 2, wireType 2 =*/18).bytes(message.payload);
                if (message.volatile != null && Object.hasOwnProperty.call(message, "volatile"))
                    writer.uint32(/* id 3, wireType 0 =*/24).bool(message.volatile);
                if (message.includeSelf != null && Object.hasOwnProperty.call(message, "includeSelf"))
                    writer.uint32(/* id 4, wireType 0 =*/32).bool(message.includeSelf);
                if (message.local != null && Object.hasOwnProperty.call(message, "local"))
                    writer.uint32(/* id 5, wireType 0 =*/40).bool(message.local);
                if (message.wantAck != null && Object.hasOwnProperty.call(message, "wantAck"))
                    writer.uint32(/* id 6, wireType 0 =*/48).bool(message.wantAck);
                return writer;
            };

            /**
             * Decodes an Emit message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.Emit
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.Emit} Emit
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Emit.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.Emit();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.to = $root.sidecast.v1.Selector.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 2: {
                            message.payload = reader.bytes();
                            break;
                        }
                    case 3: {
                            message.volatile = reader.bool();
                            break;
                        }
                    case 4: {
                            message.includeSelf = reader.bool();
                            break;
                        }
                    case 5: {
                            message.local = reader.bool();
                            break;
                        }
                    case 6: {
                            message.wantAck = reader.bool();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return Emit;
        })();

        v1.Deliver = (function() {

            /**
             * Properties of a Deliver.
             * @memberof sidecast.v1
             * @interface IDeliver
             * @property {sidecast.v1.ISelector|null} [to] Deliver to
             * @property {Uint8Array|null} [payload] Deliver payload
             * @property {boolean|null} [volatile] Deliver volatile
             * @property {number|null} [ackId] Deliver ackId
             */

            /**
             * Constructs a new Deliver.
             * @memberof sidecast.v1
             * @classdesc Represents a Deliver.
             * @implements IDeliver
             * @constructor
             * @param {sidecast.v1.IDeliver=} [properties] Properties to set
             */
            function Deliver(properties) {
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * Deliver to.
             * @member {sidecast.v1.ISelector|null|undefined} to
             * @memberof sidecast.v1.Deliver
             * @instance
             */
            Deliver.prototype.to = null;

            /**
             * Deliver payload.
             * @member {Uint8Array} payload
             * @memberof sidecast.v1.Deliver
             * @instance
             */
            Deliver.prototype.payload = $util.newBuffer([]);

            /**
             * Deliver volatile.
             * @member {boolean} volatile
             * @memberof sidecast.v1.Deliver
             * @instance
             */
            Deliver.prototype.volatile = false;

            /**
             * Deliver ackId.
             * @member {number} ackId
             * @memberof sidecast.v1.Deliver
             * @instance
             */
            Deliver.prototype.ackId = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Creates a new Deliver instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.Deliver
             * @static
             * @param {sidecast.v1.IDeliver=} [properties] Properties to set
             * @returns {sidecast.v1.Deliver} Deliver instance
             */
            Deliver.create = function create(properties) {
                return new Deliver(properties);
            };

            /**
             * Encodes the specified Deliver message. Does not implicitly {@link sidecast.v1.Deliver.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.Deliver
             * @static
             * @param {sidecast.v1.IDeliver} message Deliver message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Deliver.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.to != null && Object.hasOwnProperty.call(message, "to"))
                    $root.sidecast.v1.Selector.encode(message.to, writer.uint32(/* id 1, wireType 2 =*/10).fork(), q + 1).ldelim();
                if (message.payload != null && Object.hasOwnProperty.call(message, "payload"))
                    writer.uint32(/* id 2, wireType 2 =*/18).bytes(message.payload);
                if (message.volatile != null && Object.hasOwnProperty.call(message, "volatile"))
                    writer.uint32(/* id 3, wireType 0 =*/24).bool(message.volatile);
                if (message.ackId != null && Object.hasOwnProperty.call(message, "ackId"))
                    writer.uint32(/* id 4, wireType 0 =*/32).uint64(message.ackId);
                return writer;
            };

            /**
             * Decodes a Deliver message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.Deliver
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.Deliver} Deliver
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Deliver.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.Deliver();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.to = $root.sidecast.v1.Selector.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 2: {
                            message.payload = reader.bytes();
                            break;
                        }
                    case 3: {
                            message.volatile = reader.bool();
                            break;
                        }
                    case 4: {
                            message.ackId = reader.uint64();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return Deliver;
        })();

        v1.SocketInfo = (function() {

            /**
             * Properties of a SocketInfo.
             * @memberof sidecast.v1
             * @interface ISocketInfo
             * @property {string|null} [socketId] SocketInfo socketId
             * @property {string|null} [sessionId] SocketInfo sessionId
             * @property {string|null} [userId] SocketInfo userId
             * @property {Uint8Array|null} [data] SocketInfo data
             * @property {Array.<string>|null} [rooms] SocketInfo rooms
             * @property {string|null} [nodeId] SocketInfo nodeId
             */

            /**
             * Constructs a new SocketInfo.
             * @memberof sidecast.v1
             * @classdesc Represents a SocketInfo.
             * @implements ISocketInfo
             * @constructor
             * @param {sidecast.v1.ISocketInfo=} [properties] Properties to set
             */
            function SocketInfo(properties) {
                this.rooms = [];
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * SocketInfo socketId.
             * @member {string} socketId
             * @memberof sidecast.v1.SocketInfo
             * @instance
             */
            SocketInfo.prototype.socketId = "";

            /**
             * SocketInfo sessionId.
             * @member {string} sessionId
             * @memberof sidecast.v1.SocketInfo
             * @instance
             */
            SocketInfo.prototype.sessionId = "";

            /**
             * SocketInfo userId.
             * @member {string} userId
             * @memberof sidecast.v1.SocketInfo
             * @instance
             */
            SocketInfo.prototype.userId = "";

            /**
             * SocketInfo data.
             * @member {Uint8Array} data
             * @memberof sidecast.v1.SocketInfo
             * @instance
             */
            SocketInfo.prototype.data = $util.newBuffer([]);

            /**
             * SocketInfo rooms.
             * @member {Array.<string>} rooms
             * @memberof sidecast.v1.SocketInfo
             * @instance
             */
            SocketInfo.prototype.rooms = $util.emptyArray;

            /**
             * SocketInfo nodeId.
             * @member {string} nodeId
             * @memberof sidecast.v1.SocketInfo
             * @instance
             */
            SocketInfo.prototype.nodeId = "";

            /**
             * Creates a new SocketInfo instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.SocketInfo
             * @static
             * @param {sidecast.v1.ISocketInfo=} [properties] Properties to set
             * @returns {sidecast.v1.SocketInfo} SocketInfo instance
             */
            SocketInfo.create = function create(properties) {
                return new SocketInfo(properties);
            };

            /**
             * Encodes the specified SocketInfo message. Does not implicitly {@link sidecast.v1.SocketInfo.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.SocketInfo
             * @static
             * @param {sidecast.v1.ISocketInfo} message SocketInfo message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            SocketInfo.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.socketId != null && Object.hasOwnProperty.call(message, "socketId"))
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.socketId);
                if (message.sessionId != null && Object.hasOwnProperty.call(message, "sessionId"))
                    writer.uint32(/* id 2, wireType 2 =*/18).string(message.sessionId);
                if (message.userId != null && Object.hasOwnProperty.call(message, "userId"))
                    writer.uint32(/* id 3, wireType 2 =*/26).string(message.userId);
                if (message.data != null && Object.hasOwnProperty.call(message, "data"))
                    writer.uint32(/* id 4, wireType 2 =*/34).bytes(message.data);
                if (message.rooms != null && message.rooms.length)
                    for (var i = 0; i < message.rooms.length; ++i)
                        writer.uint32(/* id 5, wireType 2 =*/42).string(message.rooms[i]);
                if (message.nodeId != null && Object.hasOwnProperty.call(message, "nodeId"))
                    writer.uint32(/* id 6, wireType 2 =*/50).string(message.nodeId);
                return writer;
            };

            /**
             * Decodes a SocketInfo message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.SocketInfo
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.SocketInfo} SocketInfo
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            SocketInfo.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.SocketInfo();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.socketId = reader.string();
                            break;
                        }
                    case 2: {
                            message.sessionId = reader.string();
                            break;
                        }
                    case 3: {
                            message.userId = reader.string();
                            break;
                        }
                    case 4: {
                            message.data = reader.bytes();
                            break;
                        }
                    case 5: {
                            if (!(message.rooms && message.rooms.length))
                                message.rooms = [];
                            message.rooms.push(reader.string());
                            break;
                        }
                    case 6: {
                            message.nodeId = reader.string();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return SocketInfo;
        })();

        v1.FetchSockets = (function() {

            /**
             * Properties of a FetchSockets.
             * @memberof sidecast.v1
             * @interface IFetchSockets
             * @property {sidecast.v1.ISelector|null} [filter] FetchSockets filter
             * @property {boolean|null} [withData] FetchSockets withData
             * @property {boolean|null} [withRooms] FetchSockets withRooms
             * @property {boolean|null} [local] FetchSockets local
             * @property {boolean|null} [excludeSelf] FetchSockets excludeSelf
             * @property {boolean|null} [cacheAnswers] FetchSockets cacheAnswers
             * @property {Array.<sidecast.v1.IKnownAnswer>|null} [known] FetchSockets known
             */

            /**
             * Constructs a new FetchSockets.
             * @memberof sidecast.v1
             * @classdesc Represents a FetchSockets.
             * @implements IFetchSockets
             * @constructor
             * @param {sidecast.v1.IFetchSockets=} [properties] Properties to set
             */
            function FetchSockets(properties) {
                this.known = [];
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * FetchSockets filter.
             * @member {sidecast.v1.ISelector|null|undefined} filter
             * @memberof sidecast.v1.FetchSockets
             * @instance
             */
            FetchSockets.prototype.filter = null;

            /**
             * FetchSockets withData.
             * @member {boolean} withData
             * @memberof sidecast.v1.FetchSockets
             * @instance
             */
            FetchSockets.prototype.withData = false;

            /**
             * FetchSockets withRooms.
             * @member {boolean} withRooms
             * @memberof sidecast.v1.FetchSockets
             * @instance
             */
            FetchSockets.prototype.withRooms = false;

            /**
             * FetchSockets local.
             * @member {boolean} local
             * @memberof sidecast.v1.FetchSockets
             * @instance
             */
            FetchSockets.prototype.local = false;

            /**
             * FetchSockets excludeSelf.
             * @member {boolean} excludeSelf
             * @memberof sidecast.v1.FetchSockets
             * @instance
             */
            FetchSockets.prototype.excludeSelf = false;

            /**
             * FetchSockets cacheAnswers.
             * @member {boolean} cacheAnswers
             * @memberof sidecast.v1.FetchSockets
             * @instance
             */
            FetchSockets.prototype.cacheAnswers = false;

            /**
             * FetchSockets known.
             * @member {Array.<sidecast.v1.IKnownAnswer>} known
             * @memberof sidecast.v1.FetchSockets
             * @instance
             */
            FetchSockets.prototype.known = $util.emptyArray;

            /**
             * Creates a new FetchSockets instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.FetchSockets
             * @static
             * @param {sidecast.v1.IFetchSockets=} [properties] Properties to set
             * @returns {sidecast.v1.FetchSockets} FetchSockets instance
             */
            FetchSockets.create = function create(properties) {
                return new FetchSockets(properties);
            };

            /**
             * Encodes the specified FetchSockets message. Does not implicitly {@link sidecast.v1.FetchSockets.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.FetchSockets
             * @static
             * @param {sidecast.v1.IFetchSockets} message FetchSockets message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            FetchSockets.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.filter != null && Object.hasOwnProperty.call(message, "filter"))
                    $root.sidecast.v1.Selector.encode(message.filter, writer.uint32(/* id 1, wireType 2 =*/10).fork(), q + 1).ldelim();
                if (message.withData != null && Object.hasOwnProperty.call(message, "withData"))
                    writer.uint32(/* id 2, wireType 0 =*/16).bool(message.withData);
                if (message.withRooms != null && Object.hasOwnProperty.call(message, "withRooms"))
                    writer.uint32(/* id 3, wireType 0 =*/24).bool(message.withRooms);
                if (message.local != null && Object.hasOwnProperty.call(message, "local"))
                    writer.uint32(/* id 4, wireType 0 =*/32).bool(message.local);
                if (message.excludeSelf != null && Object.hasOwnProperty.call(message, "excludeSelf"))
                    writer.uint32(/* id 5, wireType 0 =*/40).bool(message.excludeSelf);
                if (message.cacheAnswers != null && Object.hasOwnProperty.call(message, "cacheAnswers"))
                    writer.uint32(/* id 6, wireType 0 =*/48).bool(message.cacheAnswers);
                if (message.known != null && message.known.length)
                    for (var i = 0; i < message.known.length; ++i)
                        $root.sidecast.v1.KnownAnswer.encode(message.known[i], writer.uint32(/* id 7, wireType 2 =*/58).fork(), q + 1).ldelim();
                return writer;
            };

            /**
             * Decodes a FetchSockets message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.FetchSockets
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.FetchSockets} FetchSockets
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            FetchSockets.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.FetchSockets();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.filter = $root.sidecast.v1.Selector.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 2: {
                            message.withData = reader.bool();
                            break;
                        }
                    case 3: {
                            message.withRooms = reader.bool();
                            break;
                        }
                    case 4: {
                            message.local = reader.bool();
                            break;
                        }
                    case 5: {
                            message.excludeSelf = reader.bool();
                            break;
                        }
                    case 6: {
                            message.cacheAnswers = reader.bool();
                            break;
                        }
                    case 7: {
                            if (!(message.known && message.known.length))
                                message.known = [];
                            message.known.push($root.sidecast.v1.KnownAnswer.decode(reader, reader.uint32(), undefined, long + 1));
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return FetchSockets;
        })();

        v1.KnownAnswer = (function() {

            /**
             * Properties of a KnownAnswer.
             * @memberof sidecast.v1
             * @interface IKnownAnswer
             * @property {string|null} [nodeId] KnownAnswer nodeId
             * @property {string|null} [etag] KnownAnswer etag
             */

            /**
             * Constructs a new KnownAnswer.
             * @memberof sidecast.v1
             * @classdesc Represents a KnownAnswer.
             * @implements IKnownAnswer
             * @constructor
             * @param {sidecast.v1.IKnownAnswer=} [properties] Properties to set
             */
            function KnownAnswer(properties) {
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * KnownAnswer nodeId.
             * @member {string} nodeId
             * @memberof sidecast.v1.KnownAnswer
             * @instance
             */
            KnownAnswer.prototype.nodeId = "";

            /**
             * KnownAnswer etag.
             * @member {string} etag
             * @memberof sidecast.v1.KnownAnswer
             * @instance
             */
            KnownAnswer.prototype.etag = "";

            /**
             * Creates a new KnownAnswer instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.KnownAnswer
             * @static
             * @param {sidecast.v1.IKnownAnswer=} [properties] Properties to set
             * @returns {sidecast.v1.KnownAnswer} KnownAnswer instance
             */
            KnownAnswer.create = function create(properties) {
                return new KnownAnswer(properties);
            };

            /**
             * Encodes the specified KnownAnswer message. Does not implicitly {@link sidecast.v1.KnownAnswer.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.KnownAnswer
             * @static
             * @param {sidecast.v1.IKnownAnswer} message KnownAnswer message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            KnownAnswer.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.nodeId != null && Object.hasOwnProperty.call(message, "nodeId"))
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.nodeId);
                if (message.etag != null && Object.hasOwnProperty.call(message, "etag"))
                    writer.uint32(/* id 2, wireType 2 =*/18).string(message.etag);
                return writer;
            };

            /**
             * Decodes a KnownAnswer message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.KnownAnswer
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.KnownAnswer} KnownAnswer
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            KnownAnswer.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.KnownAnswer();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.nodeId = reader.string();
                            break;
                        }
                    case 2: {
                            message.etag = reader.string();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return KnownAnswer;
        })();

        v1.SocketList = (function() {

            /**
             * Properties of a SocketList.
             * @memberof sidecast.v1
             * @interface ISocketList
             * @property {Array.<sidecast.v1.ISocketInfo>|null} [sockets] SocketList sockets
             * @property {boolean|null} [more] SocketList more
             * @property {string|null} [nodeId] SocketList nodeId
             * @property {string|null} [etag] SocketList etag
             * @property {boolean|null} [unchanged] SocketList unchanged
             */

            /**
             * Constructs a new SocketList.
             * @memberof sidecast.v1
             * @classdesc Represents a SocketList.
             * @implements ISocketList
             * @constructor
             * @param {sidecast.v1.ISocketList=} [properties] Properties to set
             */
            function SocketList(properties) {
                this.sockets = [];
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * SocketList sockets.
             * @member {Array.<sidecast.v1.ISocketInfo>} sockets
             * @memberof sidecast.v1.SocketList
             * @instance
             */
            SocketList.prototype.sockets = $util.emptyArray;

            /**
             * SocketList more.
             * @member {boolean} more
             * @memberof sidecast.v1.SocketList
             * @instance
             */
            SocketList.prototype.more = false;

            /**
             * SocketList nodeId.
             * @member {string} nodeId
             * @memberof sidecast.v1.SocketList
             * @instance
             */
            SocketList.prototype.nodeId = "";

            /**
             * SocketList etag.
             * @member {string} etag
             * @memberof sidecast.v1.SocketList
             * @instance
             */
            SocketList.prototype.etag = "";

            /**
             * SocketList unchanged.
             * @member {boolean} unchanged
             * @memberof sidecast.v1.SocketList
             * @instance
             */
            SocketList.prototype.unchanged = false;

            /**
             * Creates a new SocketList instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.SocketList
             * @static
             * @param {sidecast.v1.ISocketList=} [properties] Properties to set
             * @returns {sidecast.v1.SocketList} SocketList instance
             */
            SocketList.create = function create(properties) {
                return new SocketList(properties);
            };

            /**
             * Encodes the specified SocketList message. Does not implicitly {@link sidecast.v1.SocketList.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.SocketList
             * @static
             * @param {sidecast.v1.ISocketList} message SocketList message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            SocketList.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.sockets != null && message.sockets.length)
                    for (var i = 0; i < message.sockets.length; ++i)
                        $root.sidecast.v1.SocketInfo.encode(message.sockets[i], writer.uint32(/* id 1, wireType 2 =*/10).fork(), q + 1).ldelim();
                if (message.more != null && Object.hasOwnProperty.call(message, "more"))
                    writer.uint32(/* id 2, wireType 0 =*/16).bool(message.more);
                if (message.nodeId != null && Object.hasOwnProperty.call(message, "nodeId"))
                    writer.uint32(/* id 3, wireType 2 =*/26).string(message.nodeId);
                if (message.etag != null && Object.hasOwnProperty.call(message, "etag"))
                    writer.uint32(/* id 4, wireType 2 =*/34).string(message.etag);
                if (message.unchanged != null && Object.hasOwnProperty.call(message, "unchanged"))
                    writer.uint32(/* id 5, wireType 0 =*/40).bool(message.unchanged);
                return writer;
            };

            /**
             * Decodes a SocketList message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.SocketList
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.SocketList} SocketList
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            SocketList.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.SocketList();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            if (!(message.sockets && message.sockets.length))
                                message.sockets = [];
                            message.sockets.push($root.sidecast.v1.SocketInfo.decode(reader, reader.uint32(), undefined, long + 1));
                            break;
                        }
                    case 2: {
                            message.more = reader.bool();
                            break;
                        }
                    case 3: {
                            message.nodeId = reader.string();
                            break;
                        }
                    case 4: {
                            message.etag = reader.string();
                            break;
                        }
                    case 5: {
                            message.unchanged = reader.bool();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return SocketList;
        })();

        v1.RoomsRequest = (function() {

            /**
             * Properties of a RoomsRequest.
             * @memberof sidecast.v1
             * @interface IRoomsRequest
             * @property {Array.<string>|null} [names] RoomsRequest names
             */

            /**
             * Constructs a new RoomsRequest.
             * @memberof sidecast.v1
             * @classdesc Represents a RoomsRequest.
             * @implements IRoomsRequest
             * @constructor
             * @param {sidecast.v1.IRoomsRequest=} [properties] Properties to set
             */
            function RoomsRequest(properties) {
                this.names = [];
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * RoomsRequest names.
             * @member {Array.<string>} names
             * @memberof sidecast.v1.RoomsRequest
             * @instance
             */
            RoomsRequest.prototype.names = $util.emptyArray;

            /**
             * Creates a new RoomsRequest instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.RoomsRequest
             * @static
             * @param {sidecast.v1.IRoomsRequest=} [properties] Properties to set
             * @returns {sidecast.v1.RoomsRequest} RoomsRequest instance
             */
            RoomsRequest.create = function create(properties) {
                return new RoomsRequest(properties);
            };

            /**
             * Encodes the specified RoomsRequest message. Does not implicitly {@link sidecast.v1.RoomsRequest.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.RoomsRequest
             * @static
             * @param {sidecast.v1.IRoomsRequest} message RoomsRequest message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            RoomsRequest.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.names != null && message.names.length)
                    for (var i = 0; i < message.names.length; ++i)
                        writer.uint32(/* id 1, wireType 2 =*/10).string(message.names[i]);
                return writer;
            };

            /**
             * Decodes a RoomsRequest message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.RoomsRequest
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.RoomsRequest} RoomsRequest
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            RoomsRequest.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.RoomsRequest();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            if (!(message.names && message.names.length))
                                message.names = [];
                            message.names.push(reader.string());
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return RoomsRequest;
        })();

        v1.RoomInfo = (function() {

            /**
             * Properties of a RoomInfo.
             * @memberof sidecast.v1
             * @interface IRoomInfo
             * @property {string|null} [name] RoomInfo name
             * @property {number|null} [size] RoomInfo size
             */

            /**
             * Constructs a new RoomInfo.
             * @memberof sidecast.v1
             * @classdesc Represents a RoomInfo.
             * @implements IRoomInfo
             * @constructor
             * @param {sidecast.v1.IRoomInfo=} [properties] Properties to set
             */
            function RoomInfo(properties) {
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * RoomInfo name.
             * @member {string} name
             * @memberof sidecast.v1.RoomInfo
             * @instance
             */
            RoomInfo.prototype.name = "";

            /**
             * RoomInfo size.
             * @member {number} size
             * @memberof sidecast.v1.RoomInfo
             * @instance
             */
            RoomInfo.prototype.size = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Creates a new RoomInfo instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.RoomInfo
             * @static
             * @param {sidecast.v1.IRoomInfo=} [properties] Properties to set
             * @returns {sidecast.v1.RoomInfo} RoomInfo instance
             */
            RoomInfo.create = function create(properties) {
                return new RoomInfo(properties);
            };

            /**
             * Encodes the specified RoomInfo message. Does not implicitly {@link sidecast.v1.RoomInfo.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.RoomInfo
             * @static
             * @param {sidecast.v1.IRoomInfo} message RoomInfo message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            RoomInfo.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.name != null && Object.hasOwnProperty.call(message, "name"))
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.name);
                if (message.size != null && Object.hasOwnProperty.call(message, "size"))
                    writer.uint32(/* id 2, wireType 0 =*/16).uint64(message.size);
                return writer;
            };

            /**
             * Decodes a RoomInfo message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.RoomInfo
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.RoomInfo} RoomInfo
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            RoomInfo.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.RoomInfo();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.name = reader.string();
                            break;
                        }
                    case 2: {
                            message.size = reader.uint64();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return RoomInfo;
        })();

        v1.RoomList = (function() {

            /**
             * Properties of a RoomList.
             * @memberof sidecast.v1
             * @interface IRoomList
             * @property {Array.<sidecast.v1.IRoomInfo>|null} [rooms] RoomList rooms
             * @property {boolean|null} [more] RoomList more
             */

            /**
             * Constructs a new RoomList.
             * @memberof sidecast.v1
             * @classdesc Represents a RoomList.
             * @implements IRoomList
             * @constructor
             * @param {sidecast.v1.IRoomList=} [properties] Properties to set
             */
            function RoomList(properties) {
                this.rooms = [];
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * RoomList rooms.
             * @member {Array.<sidecast.v1.IRoomInfo>} rooms
             * @memberof sidecast.v1.RoomList
             * @instance
             */
            RoomList.prototype.rooms = $util.emptyArray;

            /**
             * RoomList more.
             * @member {boolean} more
             * @memberof sidecast.v1.RoomList
             * @instance
             */
            RoomList.prototype.more = false;

            /**
             * Creates a new RoomList instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.RoomList
             * @static
             * @param {sidecast.v1.IRoomList=} [properties] Properties to set
             * @returns {sidecast.v1.RoomList} RoomList instance
             */
            RoomList.create = function create(properties) {
                return new RoomList(properties);
            };

            /**
             * Encodes the specified RoomList message. Does not implicitly {@link sidecast.v1.RoomList.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.RoomList
             * @static
             * @param {sidecast.v1.IRoomList} message RoomList message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            RoomList.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.rooms != null && message.rooms.length)
                    for (var i = 0; i < message.rooms.length; ++i)
                        $root.sidecast.v1.RoomInfo.encode(message.rooms[i], writer.uint32(/* id 1, wireType 2 =*/10).fork(), q + 1).ldelim();
                if (message.more != null && Object.hasOwnProperty.call(message, "more"))
                    writer.uint32(/* id 2, wireType 0 =*/16).bool(message.more);
                return writer;
            };

            /**
             * Decodes a RoomList message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.RoomList
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.RoomList} RoomList
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            RoomList.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.RoomList();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            if (!(message.rooms && message.rooms.length))
                                message.rooms = [];
                            message.rooms.push($root.sidecast.v1.RoomInfo.decode(reader, reader.uint32(), undefined, long + 1));
                            break;
                        }
                    case 2: {
                            message.more = reader.bool();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return RoomList;
        })();

        v1.StatsRequest = (function() {

            /**
             * Properties of a StatsRequest.
             * @memberof sidecast.v1
             * @interface IStatsRequest
             */

            /**
             * Constructs a new StatsRequest.
             * @memberof sidecast.v1
             * @classdesc Represents a StatsRequest.
             * @implements IStatsRequest
             * @constructor
             * @param {sidecast.v1.IStatsRequest=} [properties] Properties to set
             */
            function StatsRequest(properties) {
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * Creates a new StatsRequest instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.StatsRequest
             * @static
             * @param {sidecast.v1.IStatsRequest=} [properties] Properties to set
             * @returns {sidecast.v1.StatsRequest} StatsRequest instance
             */
            StatsRequest.create = function create(properties) {
                return new StatsRequest(properties);
            };

            /**
             * Encodes the specified StatsRequest message. Does not implicitly {@link sidecast.v1.StatsRequest.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.StatsRequest
             * @static
             * @param {sidecast.v1.IStatsRequest} message StatsRequest message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            StatsRequest.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                return writer;
            };

            /**
             * Decodes a StatsRequest message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.StatsRequest
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.StatsRequest} StatsRequest
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            StatsRequest.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.StatsRequest();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return StatsRequest;
        })();

        v1.Stat = (function() {

            /**
             * Properties of a Stat.
             * @memberof sidecast.v1
             * @interface IStat
             * @property {string|null} [name] Stat name
             * @property {number|null} [value] Stat value
             */

            /**
             * Constructs a new Stat.
             * @memberof sidecast.v1
             * @classdesc Represents a Stat.
             * @implements IStat
             * @constructor
             * @param {sidecast.v1.IStat=} [properties] Properties to set
             */
            function Stat(properties) {
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * Stat name.
             * @member {string} name
             * @memberof sidecast.v1.Stat
             * @instance
             */
            Stat.prototype.name = "";

            /**
             * Stat value.
             * @member {number} value
             * @memberof sidecast.v1.Stat
             * @instance
             */
            Stat.prototype.value = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Creates a new Stat instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.Stat
             * @static
             * @param {sidecast.v1.IStat=} [properties] Properties to set
             * @returns {sidecast.v1.Stat} Stat instance
             */
            Stat.create = function create(properties) {
                return new Stat(properties);
            };

            /**
             * Encodes the specified Stat message. Does not implicitly {@link sidecast.v1.Stat.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.Stat
             * @static
             * @param {sidecast.v1.IStat} message Stat message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Stat.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.name != null && Object.hasOwnProperty.call(message, "name"))
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.name);
                if (message.value != null && Object.hasOwnProperty.call(message, "value"))
                    writer.uint32(/* id 2, wireType 0 =*/16).uint64(message.value);
                return writer;
            };

            /**
             * Decodes a Stat message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.Stat
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.Stat} Stat
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Stat.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.Stat();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.name = reader.string();
                            break;
                        }
                    case 2: {
                            message.value = reader.uint64();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return Stat;
        })();

        v1.Stats = (function() {

            /**
             * Properties of a Stats.
             * @memberof sidecast.v1
             * @interface IStats
             * @property {Array.<sidecast.v1.IStat>|null} [stats] Stats stats
             */

            /**
             * Constructs a new Stats.
             * @memberof sidecast.v1
             * @classdesc Represents a Stats.
             * @implements IStats
             * @constructor
             * @param {sidecast.v1.IStats=} [properties] Properties to set
             */
            function Stats(properties) {
                this.stats = [];
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * Stats stats.
             * @member {Array.<sidecast.v1.IStat>} stats
             * @memberof sidecast.v1.Stats
             * @instance
             */
            Stats.prototype.stats = $util.emptyArray;

            /**
             * Creates a new Stats instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.Stats
             * @static
             * @param {sidecast.v1.IStats=} [properties] Properties to set
             * @returns {sidecast.v1.Stats} Stats instance
             */
            Stats.create = function create(properties) {
                return new Stats(properties);
            };

            /**
             * Encodes the specified Stats message. Does not implicitly {@link sidecast.v1.Stats.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.Stats
             * @static
             * @param {sidecast.v1.IStats} message Stats message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Stats.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.stats != null && message.stats.length)
                    for (var i = 0; i < message.stats.length; ++i)
                        $root.sidecast.v1.Stat.encode(message.stats[i], writer.uint32(/* id 1, wireType 2 =*/10).fork(), q + 1).ldelim();
                return writer;
            };

            /**
             * Decodes a Stats message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.Stats
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.Stats} Stats
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Stats.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.Stats();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            if (!(message.stats && message.stats.length))
                                message.stats = [];
                            message.stats.push($root.sidecast.v1.Stat.decode(reader, reader.uint32(), undefined, long + 1));
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return Stats;
        })();

        v1.Apply = (function() {

            /**
             * Properties of an Apply.
             * @memberof sidecast.v1
             * @interface IApply
             * @property {sidecast.v1.ISelector|null} [filter] Apply filter
             * @property {Array.<string>|null} [join] Apply join
             * @property {Array.<string>|null} [leave] Apply leave
             * @property {boolean|null} [disconnect] Apply disconnect
             * @property {boolean|null} [close] Apply close
             * @property {boolean|null} [local] Apply local
             */

            /**
             * Constructs a new Apply.
             * @memberof sidecast.v1
             * @classdesc Represents an Apply.
             * @implements IApply
             * @constructor
             * @param {sidecast.v1.IApply=} [properties] Properties to set
             */
            function Apply(properties) {
                this.join = [];
                this.leave = [];
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * Apply filter.
             * @member {sidecast.v1.ISelector|null|undefined} filter
             * @memberof sidecast.v1.Apply
             * @instance
             */
            Apply.prototype.filter = null;

            /**
             * Apply join.
             * @member {Array.<string>} join
             * @memberof sidecast.v1.Apply
             * @instance
             */
            Apply.prototype.join = $util.emptyArray;

            /**
             * Apply leave.
             * @member {Array.<string>} leave
             * @memberof sidecast.v1.Apply
             * @instance
             */
            Apply.prototype.leave = $util.emptyArray;

            /**
             * Apply disconnect.
             * @member {boolean} disconnect
             * @memberof sidecast.v1.Apply
             * @instance
             */
            Apply.prototype.disconnect = false;

            /**
             * Apply close.
             * @member {boolean} close
             * @memberof sidecast.v1.Apply
             * @instance
             */
            Apply.prototype.close = false;

            /**
             * Apply local.
             * @member {boolean} local
             * @memberof sidecast.v1.Apply
             * @instance
             */
            Apply.prototype.local = false;

            /**
             * Creates a new Apply instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.Apply
             * @static
             * @param {sidecast.v1.IApply=} [properties] Properties to set
             * @returns {sidecast.v1.Apply} Apply instance
             */
            Apply.create = function create(properties) {
                return new Apply(properties);
            };

            /**
             * Encodes the specified Apply message. Does not implicitly {@link sidecast.v1.Apply.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.Apply
             * @static
             * @param {sidecast.v1.IApply} message Apply message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Apply.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.filter != null && Object.hasOwnProperty.call(message, "filter"))
                    $root.sidecast.v1.Selector.encode(message.filter, writer.uint32(/* id 1, wireType 2 =*/10).fork(), q + 1).ldelim();
                if (message.join != null && message.join.length)
                    for (var i = 0; i < message.join.length; ++i)
                        writer.uint32(/* id 2, wireType 2 =*/18).string(message.join[i]);
                if (message.leave != null && message.leave.length)
                    for (var i = 0; i < message.leave.length; ++i)
                        writer.uint32(/* id 3, wireType 2 =*/26).string(message.leave[i]);
                if (message.disconnect != null && Object.hasOwnProperty.call(message, "disconnect"))
                    writer.uint32(/* id 4, wireType 0 =*/32).bool(message.disconnect);
                if (message.close != null && Object.hasOwnProperty.call(message, "close"))
                    writer.uint32(/* id 5, wireType 0 =*/40).bool(message.close);
                if (message.local != null && Object.hasOwnProperty.call(message, "local"))
                    writer.uint32(/* id 6, wireType 0 =*/48).bool(message.local);
                return writer;
            };

            /**
             * Decodes an Apply message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.Apply
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.Apply} Apply
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Apply.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.Apply();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.filter = $root.sidecast.v1.Selector.decode(reader, reader.uint32(), undefined, long + 1);
                            break;
                        }
                    case 2: {
                            if (!(message.join && message.join.length))
                                message.join = [];
                            message.join.push(reader.string());
                            break;
                        }
                    case 3: {
                            if (!(message.leave && message.leave.length))
                                message.leave = [];
                            message.leave.push(reader.string());
                            break;
                        }
                    case 4: {
                            message.disconnect = reader.bool();
                            break;
                        }
                    case 5: {
                            message.close = reader.bool();
                            break;
                        }
                    case 6: {
                            message.local = reader.bool();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return Apply;
        })();

        v1.ServerEmit = (function() {

            /**
             * Properties of a ServerEmit.
             * @memberof sidecast.v1
             * @interface IServerEmit
             * @property {Uint8Array|null} [payload] ServerEmit payload
             * @property {boolean|null} [wantAck] ServerEmit wantAck
             * @property {boolean|null} [local] ServerEmit local
             */

            /**
             * Constructs a new ServerEmit.
             * @memberof sidecast.v1
             * @classdesc Represents a ServerEmit.
             * @implements IServerEmit
             * @constructor
             * @param {sidecast.v1.IServerEmit=} [properties] Properties to set
             */
            function ServerEmit(properties) {
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * ServerEmit payload.
             * @member {Uint8Array} payload
             * @memberof sidecast.v1.ServerEmit
             * @instance
             */
            ServerEmit.prototype.payload = $util.newBuffer([]);

            /**
             * ServerEmit wantAck.
             * @member {boolean} wantAck
             * @memberof sidecast.v1.ServerEmit
             * @instance
             */
            ServerEmit.prototype.wantAck = false;

            /**
             * ServerEmit local.
             * @member {boolean} local
             * @memberof sidecast.v1.ServerEmit
             * @instance
             */
            ServerEmit.prototype.local = false;

            /**
             * Creates a new ServerEmit instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.ServerEmit
             * @static
             * @param {sidecast.v1.IServerEmit=} [properties] Properties to set
             * @returns {sidecast.v1.ServerEmit} ServerEmit instance
             */
            ServerEmit.create = function create(properties) {
                return new ServerEmit(properties);
            };

            /**
             * Encodes the specified ServerEmit message. Does not implicitly {@link sidecast.v1.ServerEmit.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.ServerEmit
             * @static
             * @param {sidecast.v1.IServerEmit} message ServerEmit message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            ServerEmit.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.payload != null && Object.hasOwnProperty.call(message, "payload"))
                    writer.uint32(/* id 1, wireType 2 =*/10).bytes(message.payload);
                if (message.wantAck != null && Object.hasOwnProperty.call(message, "wantAck"))
                    writer.uint32(/* id 2, wireType 0 =*/16).bool(message.wantAck);
                if (message.local != null && Object.hasOwnProperty.call(message, "local"))
                    writer.uint32(/* id 3, wireType 0 =*/24).bool(message.local);
                return writer;
            };

            /**
             * Decodes a ServerEmit message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.ServerEmit
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.ServerEmit} ServerEmit
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            ServerEmit.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.ServerEmit();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.payload = reader.bytes();
                            break;
                        }
                    case 2: {
                            message.wantAck = reader.bool();
                            break;
                        }
                    case 3: {
                            message.local = reader.bool();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return ServerEmit;
        })();

        v1.ServerMessage = (function() {

            /**
             * Properties of a ServerMessage.
             * @memberof sidecast.v1
             * @interface IServerMessage
             * @property {Uint8Array|null} [payload] ServerMessage payload
             * @property {number|null} [ackId] ServerMessage ackId
             * @property {string|null} [originNode] ServerMessage originNode
             */

            /**
             * Constructs a new ServerMessage.
             * @memberof sidecast.v1
             * @classdesc Represents a ServerMessage.
             * @implements IServerMessage
             * @constructor
             * @param {sidecast.v1.IServerMessage=} [properties] Properties to set
             */
            function ServerMessage(properties) {
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * ServerMessage payload.
             * @member {Uint8Array} payload
             * @memberof sidecast.v1.ServerMessage
             * @instance
             */
            ServerMessage.prototype.payload = $util.newBuffer([]);

            /**
             * ServerMessage ackId.
             * @member {number} ackId
             * @memberof sidecast.v1.ServerMessage
             * @instance
             */
            ServerMessage.prototype.ackId = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * ServerMessage originNode.
             * @member {string} originNode
             * @memberof sidecast.v1.ServerMessage
             * @instance
             */
            ServerMessage.prototype.originNode = "";

            /**
             * Creates a new ServerMessage instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.ServerMessage
             * @static
             * @param {sidecast.v1.IServerMessage=} [properties] Properties to set
             * @returns {sidecast.v1.ServerMessage} ServerMessage instance
             */
            ServerMessage.create = function create(properties) {
                return new ServerMessage(properties);
            };

            /**
             * Encodes the specified ServerMessage message. Does not implicitly {@link sidecast.v1.ServerMessage.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.ServerMessage
             * @static
             * @param {sidecast.v1.IServerMessage} message ServerMessage message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            ServerMessage.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.payload != null && Object.hasOwnProperty.call(message, "payload"))
                    writer.uint32(/* id 1, wireType 2 =*/10).bytes(message.payload);
                if (message.ackId != null && Object.hasOwnProperty.call(message, "ackId"))
                    writer.uint32(/* id 2, wireType 0 =*/16).uint64(message.ackId);
                if (message.originNode != null && Object.hasOwnProperty.call(message, "originNode"))
                    writer.uint32(/* id 3, wireType 2 =*/26).string(message.originNode);
                return writer;
            };

            /**
             * Decodes a ServerMessage message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.ServerMessage
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.ServerMessage} ServerMessage
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            ServerMessage.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.ServerMessage();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.payload = reader.bytes();
                            break;
                        }
                    case 2: {
                            message.ackId = reader.uint64();
                            break;
                        }
                    case 3: {
                            message.originNode = reader.string();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return ServerMessage;
        })();

        v1.Ack = (function() {

            /**
             * Properties of an Ack.
             * @memberof sidecast.v1
             * @interface IAck
             * @property {number|null} [ackId] Ack ackId
             * @property {number|null} [expect] Ack expect
             * @property {Array.<Uint8Array>|null} [payloads] Ack payloads
             * @property {boolean|null} [done] Ack done
             */

            /**
             * Constructs a new Ack.
             * @memberof sidecast.v1
             * @classdesc Represents an Ack.
             * @implements IAck
             * @constructor
             * @param {sidecast.v1.IAck=} [properties] Properties to set
             */
            function Ack(properties) {
                this.payloads = [];
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * Ack ackId.
             * @member {number} ackId
             * @memberof sidecast.v1.Ack
             * @instance
             */
            Ack.prototype.ackId = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Ack expect.
             * @member {number} expect
             * @memberof sidecast.v1.Ack
             * @instance
             */
            Ack.prototype.expect = 0;

            /**
             * Ack payloads.
             * @member {Array.<Uint8Array>} payloads
             * @memberof sidecast.v1.Ack
             * @instance
             */
            Ack.prototype.payloads = $util.emptyArray;

            /**
             * Ack done.
             * @member {boolean} done
             * @memberof sidecast.v1.Ack
             * @instance
             */
            Ack.prototype.done = false;

            /**
             * Creates a new Ack instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.Ack
             * @static
             * @param {sidecast.v1.IAck=} [properties] Properties to set
             * @returns {sidecast.v1.Ack} Ack instance
             */
            Ack.create = function create(properties) {
                return new Ack(properties);
            };

            /**
             * Encodes the specified Ack message. Does not implicitly {@link sidecast.v1.Ack.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.Ack
             * @static
             * @param {sidecast.v1.IAck} message Ack message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Ack.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.ackId != null && Object.hasOwnProperty.call(message, "ackId"))
                    writer.uint32(/* id 1, wireType 0 =*/8).uint64(message.ackId);
                if (message.expect != null && Object.hasOwnProperty.call(message, "expect"))
                    writer.uint32(/* id 2, wireType 0 =*/16).uint32(message.expect);
                if (message.payloads != null && message.payloads.length)
                    for (var i = 0; i < message.payloads.length; ++i)
                        writer.uint32(/* id 3, wireType 2 =*/26).bytes(message.payloads[i]);
                if (message.done != null && Object.hasOwnProperty.call(message, "done"))
                    writer.uint32(/* id 4, wireType 0 =*/32).bool(message.done);
                return writer;
            };

            /**
             * Decodes an Ack message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.Ack
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.Ack} Ack
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Ack.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.Ack();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.ackId = reader.uint64();
                            break;
                        }
                    case 2: {
                            message.expect = reader.uint32();
                            break;
                        }
                    case 3: {
                            if (!(message.payloads && message.payloads.length))
                                message.payloads = [];
                            message.payloads.push(reader.bytes());
                            break;
                        }
                    case 4: {
                            message.done = reader.bool();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return Ack;
        })();

        v1.Progress = (function() {

            /**
             * Properties of a Progress.
             * @memberof sidecast.v1
             * @interface IProgress
             * @property {number|null} [expect] Progress expect
             * @property {Array.<Uint8Array>|null} [payloads] Progress payloads
             * @property {boolean|null} [done] Progress done
             * @property {boolean|null} [timedOut] Progress timedOut
             * @property {number|null} [nodesExpected] Progress nodesExpected
             * @property {number|null} [nodesAnswered] Progress nodesAnswered
             * @property {Array.<string>|null} [nodesMissing] Progress nodesMissing
             */

            /**
             * Constructs a new Progress.
             * @memberof sidecast.v1
             * @classdesc Represents a Progress.
             * @implements IProgress
             * @constructor
             * @param {sidecast.v1.IProgress=} [properties] Properties to set
             */
            function Progress(properties) {
                this.payloads = [];
                this.nodesMissing = [];
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * Progress expect.
             * @member {number} expect
             * @memberof sidecast.v1.Progress
             * @instance
             */
            Progress.prototype.expect = 0;

            /**
             * Progress payloads.
             * @member {Array.<Uint8Array>} payloads
             * @memberof sidecast.v1.Progress
             * @instance
             */
            Progress.prototype.payloads = $util.emptyArray;

            /**
             * Progress done.
             * @member {boolean} done
             * @memberof sidecast.v1.Progress
             * @instance
             */
            Progress.prototype.done = false;

            /**
             * Progress timedOut.
             * @member {boolean} timedOut
             * @memberof sidecast.v1.Progress
             * @instance
             */
            Progress.prototype.timedOut = false;

            /**
             * Progress nodesExpected.
             * @member {number} nodesExpected
             * @memberof sidecast.v1.Progress
             * @instance
             */
            Progress.prototype.nodesExpected = 0;

            /**
             * Progress nodesAnswered.
             * @member {number} nodesAnswered
             * @memberof sidecast.v1.Progress
             * @instance
             */
            Progress.prototype.nodesAnswered = 0;

            /**
             * Progress nodesMissing.
             * @member {Array.<string>} nodesMissing
             * @memberof sidecast.v1.Progress
             * @instance
             */
            Progress.prototype.nodesMissing = $util.emptyArray;

            /**
             * Creates a new Progress instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.Progress
             * @static
             * @param {sidecast.v1.IProgress=} [properties] Properties to set
             * @returns {sidecast.v1.Progress} Progress instance
             */
            Progress.create = function create(properties) {
                return new Progress(properties);
            };

            /**
             * Encodes the specified Progress message. Does not implicitly {@link sidecast.v1.Progress.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.Progress
             * @static
             * @param {sidecast.v1.IProgress} message Progress message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Progress.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.expect != null && Object.hasOwnProperty.call(message, "expect"))
                    writer.uint32(/* id 1, wireType 0 =*/8).uint32(message.expect);
                if (message.payloads != null && message.payloads.length)
                    for (var i = 0; i < message.payloads.length; ++i)
                        writer.uint32(/* id 2, wireType 2 =*/18).bytes(message.payloads[i]);
                if (message.done != null && Object.hasOwnProperty.call(message, "done"))
                    writer.uint32(/* id 3, wireType 0 =*/24).bool(message.done);
                if (message.timedOut != null && Object.hasOwnProperty.call(message, "timedOut"))
                    writer.uint32(/* id 4, wireType 0 =*/32).bool(message.timedOut);
                if (message.nodesExpected != null && Object.hasOwnProperty.call(message, "nodesExpected"))
                    writer.uint32(/* id 5, wireType 0 =*/40).uint32(message.nodesExpected);
                if (message.nodesAnswered != null && Object.hasOwnProperty.call(message, "nodesAnswered"))
                    writer.uint32(/* id 6, wireType 0 =*/48).uint32(message.nodesAnswered);
                if (message.nodesMissing != null && message.nodesMissing.length)
                    for (var i = 0; i < message.nodesMissing.length; ++i)
                        writer.uint32(/* id 7, wireType 2 =*/58).string(message.nodesMissing[i]);
                return writer;
            };

            /**
             * Decodes a Progress message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.Progress
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.Progress} Progress
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Progress.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.Progress();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.expect = reader.uint32();
                            break;
                        }
                    case 2: {
                            if (!(message.payloads && message.payloads.length))
                                message.payloads = [];
                            message.payloads.push(reader.bytes());
                            break;
                        }
                    case 3: {
                            message.done = reader.bool();
                            break;
                        }
                    case 4: {
                            message.timedOut = reader.bool();
                            break;
                        }
                    case 5: {
                            message.nodesExpected = reader.uint32();
                            break;
                        }
                    case 6: {
                            message.nodesAnswered = reader.uint32();
                            break;
                        }
                    case 7: {
                            if (!(message.nodesMissing && message.nodesMissing.length))
                                message.nodesMissing = [];
                            message.nodesMissing.push(reader.string());
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return Progress;
        })();

        v1.Gap = (function() {

            /**
             * Properties of a Gap.
             * @memberof sidecast.v1
             * @interface IGap
             * @property {number|null} [fromUnixMs] Gap fromUnixMs
             * @property {number|null} [toUnixMs] Gap toUnixMs
             * @property {string|null} [reason] Gap reason
             */

            /**
             * Constructs a new Gap.
             * @memberof sidecast.v1
             * @classdesc Represents a Gap.
             * @implements IGap
             * @constructor
             * @param {sidecast.v1.IGap=} [properties] Properties to set
             */
            function Gap(properties) {
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * Gap fromUnixMs.
             * @member {number} fromUnixMs
             * @memberof sidecast.v1.Gap
             * @instance
             */
            Gap.prototype.fromUnixMs = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Gap toUnixMs.
             * @member {number} toUnixMs
             * @memberof sidecast.v1.Gap
             * @instance
             */
            Gap.prototype.toUnixMs = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Gap reason.
             * @member {string} reason
             * @memberof sidecast.v1.Gap
             * @instance
             */
            Gap.prototype.reason = "";

            /**
             * Creates a new Gap instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.Gap
             * @static
             * @param {sidecast.v1.IGap=} [properties] Properties to set
             * @returns {sidecast.v1.Gap} Gap instance
             */
            Gap.create = function create(properties) {
                return new Gap(properties);
            };

            /**
             * Encodes the specified Gap message. Does not implicitly {@link sidecast.v1.Gap.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.Gap
             * @static
             * @param {sidecast.v1.IGap} message Gap message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Gap.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.fromUnixMs != null && Object.hasOwnProperty.call(message, "fromUnixMs"))
                    writer.uint32(/* id 1, wireType 0 =*/8).uint64(message.fromUnixMs);
                if (message.toUnixMs != null && Object.hasOwnProperty.call(message, "toUnixMs"))
                    writer.uint32(/* id 2, wireType 0 =*/16).uint64(message.toUnixMs);
                if (message.reason != null && Object.hasOwnProperty.call(message, "reason"))
                    writer.uint32(/* id 3, wireType 2 =*/26).string(message.reason);
                return writer;
            };

            /**
             * Decodes a Gap message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.Gap
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.Gap} Gap
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Gap.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.Gap();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.fromUnixMs = reader.uint64();
                            break;
                        }
                    case 2: {
                            message.toUnixMs = reader.uint64();
                            break;
                        }
                    case 3: {
                            message.reason = reader.string();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return Gap;
        })();

        v1.NodesRequest = (function() {

            /**
             * Properties of a NodesRequest.
             * @memberof sidecast.v1
             * @interface INodesRequest
             */

            /**
             * Constructs a new NodesRequest.
             * @memberof sidecast.v1
             * @classdesc Represents a NodesRequest.
             * @implements INodesRequest
             * @constructor
             * @param {sidecast.v1.INodesRequest=} [properties] Properties to set
             */
            function NodesRequest(properties) {
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * Creates a new NodesRequest instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.NodesRequest
             * @static
             * @param {sidecast.v1.INodesRequest=} [properties] Properties to set
             * @returns {sidecast.v1.NodesRequest} NodesRequest instance
             */
            NodesRequest.create = function create(properties) {
                return new NodesRequest(properties);
            };

            /**
             * Encodes the specified NodesRequest message. Does not implicitly {@link sidecast.v1.NodesRequest.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.NodesRequest
             * @static
             * @param {sidecast.v1.INodesRequest} message NodesRequest message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            NodesRequest.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                return writer;
            };

            /**
             * Decodes a NodesRequest message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.NodesRequest
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.NodesRequest} NodesRequest
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            NodesRequest.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.NodesRequest();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return NodesRequest;
        })();

        v1.NodeInfo = (function() {

            /**
             * Properties of a NodeInfo.
             * @memberof sidecast.v1
             * @interface INodeInfo
             * @property {string|null} [nodeId] NodeInfo nodeId
             * @property {string|null} [nodeName] NodeInfo nodeName
             * @property {boolean|null} [self] NodeInfo self
             * @property {number|null} [version] NodeInfo version
             * @property {number|null} [features] NodeInfo features
             */

            /**
             * Constructs a new NodeInfo.
             * @memberof sidecast.v1
             * @classdesc Represents a NodeInfo.
             * @implements INodeInfo
             * @constructor
             * @param {sidecast.v1.INodeInfo=} [properties] Properties to set
             */
            function NodeInfo(properties) {
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * NodeInfo nodeId.
             * @member {string} nodeId
             * @memberof sidecast.v1.NodeInfo
             * @instance
             */
            NodeInfo.prototype.nodeId = "";

            /**
             * NodeInfo nodeName.
             * @member {string} nodeName
             * @memberof sidecast.v1.NodeInfo
             * @instance
             */
            NodeInfo.prototype.nodeName = "";

            /**
             * NodeInfo self.
             * @member {boolean} self
             * @memberof sidecast.v1.NodeInfo
             * @instance
             */
            NodeInfo.prototype.self = false;

            /**
             * NodeInfo version.
             * @member {number} version
             * @memberof sidecast.v1.NodeInfo
             * @instance
             */
            NodeInfo.prototype.version = 0;

            /**
             * NodeInfo features.
             * @member {number} features
             * @memberof sidecast.v1.NodeInfo
             * @instance
             */
            NodeInfo.prototype.features = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Creates a new NodeInfo instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.NodeInfo
             * @static
             * @param {sidecast.v1.INodeInfo=} [properties] Properties to set
             * @returns {sidecast.v1.NodeInfo} NodeInfo instance
             */
            NodeInfo.create = function create(properties) {
                return new NodeInfo(properties);
            };

            /**
             * Encodes the specified NodeInfo message. Does not implicitly {@link sidecast.v1.NodeInfo.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.NodeInfo
             * @static
             * @param {sidecast.v1.INodeInfo} message NodeInfo message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            NodeInfo.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.nodeId != null && Object.hasOwnProperty.call(message, "nodeId"))
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.nodeId);
                if (message.nodeName != null && Object.hasOwnProperty.call(message, "nodeName"))
                    writer.uint32(/* id 2, wireType 2 =*/18).string(message.nodeName);
                if (message.self != null && Object.hasOwnProperty.call(message, "self"))
                    writer.uint32(/* id 3, wireType 0 =*/24).bool(message.self);
                if (message.version != null && Object.hasOwnProperty.call(message, "version"))
                    writer.uint32(/* id 4, wireType 0 =*/32).uint32(message.version);
                if (message.features != null && Object.hasOwnProperty.call(message, "features"))
                    writer.uint32(/* id 5, wireType 0 =*/40).uint64(message.features);
                return writer;
            };

            /**
             * Decodes a NodeInfo message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.NodeInfo
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.NodeInfo} NodeInfo
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            NodeInfo.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.NodeInfo();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.nodeId = reader.string();
                            break;
                        }
                    case 2: {
                            message.nodeName = reader.string();
                            break;
                        }
                    case 3: {
                            message.self = reader.bool();
                            break;
                        }
                    case 4: {
                            message.version = reader.uint32();
                            break;
                        }
                    case 5: {
                            message.features = reader.uint64();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return NodeInfo;
        })();

        v1.NodeList = (function() {

            /**
             * Properties of a NodeList.
             * @memberof sidecast.v1
             * @interface INodeList
             * @property {Array.<sidecast.v1.INodeInfo>|null} [nodes] NodeList nodes
             */

            /**
             * Constructs a new NodeList.
             * @memberof sidecast.v1
             * @classdesc Represents a NodeList.
             * @implements INodeList
             * @constructor
             * @param {sidecast.v1.INodeList=} [properties] Properties to set
             */
            function NodeList(properties) {
                this.nodes = [];
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * NodeList nodes.
             * @member {Array.<sidecast.v1.INodeInfo>} nodes
             * @memberof sidecast.v1.NodeList
             * @instance
             */
            NodeList.prototype.nodes = $util.emptyArray;

            /**
             * Creates a new NodeList instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.NodeList
             * @static
             * @param {sidecast.v1.INodeList=} [properties] Properties to set
             * @returns {sidecast.v1.NodeList} NodeList instance
             */
            NodeList.create = function create(properties) {
                return new NodeList(properties);
            };

            /**
             * Encodes the specified NodeList message. Does not implicitly {@link sidecast.v1.NodeList.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.NodeList
             * @static
             * @param {sidecast.v1.INodeList} message NodeList message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            NodeList.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.nodes != null && message.nodes.length)
                    for (var i = 0; i < message.nodes.length; ++i)
                        $root.sidecast.v1.NodeInfo.encode(message.nodes[i], writer.uint32(/* id 1, wireType 2 =*/10).fork(), q + 1).ldelim();
                return writer;
            };

            /**
             * Decodes a NodeList message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.NodeList
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.NodeList} NodeList
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            NodeList.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.NodeList();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            if (!(message.nodes && message.nodes.length))
                                message.nodes = [];
                            message.nodes.push($root.sidecast.v1.NodeInfo.decode(reader, reader.uint32(), undefined, long + 1));
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return NodeList;
        })();

        v1.Lookup = (function() {

            /**
             * Properties of a Lookup.
             * @memberof sidecast.v1
             * @interface ILookup
             * @property {string|null} [sessionId] Lookup sessionId
             * @property {string|null} [socketId] Lookup socketId
             * @property {string|null} [userId] Lookup userId
             * @property {boolean|null} [local] Lookup local
             */

            /**
             * Constructs a new Lookup.
             * @memberof sidecast.v1
             * @classdesc Represents a Lookup.
             * @implements ILookup
             * @constructor
             * @param {sidecast.v1.ILookup=} [properties] Properties to set
             */
            function Lookup(properties) {
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * Lookup sessionId.
             * @member {string|null|undefined} sessionId
             * @memberof sidecast.v1.Lookup
             * @instance
             */
            Lookup.prototype.sessionId = null;

            /**
             * Lookup socketId.
             * @member {string|null|undefined} socketId
             * @memberof sidecast.v1.Lookup
             * @instance
             */
            Lookup.prototype.socketId = null;

            /**
             * Lookup userId.
             * @member {string|null|undefined} userId
             * @memberof sidecast.v1.Lookup
             * @instance
             */
            Lookup.prototype.userId = null;

            /**
             * Lookup local.
             * @member {boolean} local
             * @memberof sidecast.v1.Lookup
             * @instance
             */
            Lookup.prototype.local = false;

            // OneOf field names bound to virtual getters and setters
            var $oneOfFields;

            /**
             * Lookup key.
             * @member {"sessionId"|"socketId"|"userId"|undefined} key
             * @memberof sidecast.v1.Lookup
             * @instance
             */
            Object.defineProperty(Lookup.prototype, "key", {
                get: $util.oneOfGetter($oneOfFields = ["sessionId", "socketId", "userId"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            /**
             * Creates a new Lookup instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.Lookup
             * @static
             * @param {sidecast.v1.ILookup=} [properties] Properties to set
             * @returns {sidecast.v1.Lookup} Lookup instance
             */
            Lookup.create = function create(properties) {
                return new Lookup(properties);
            };

            /**
             * Encodes the specified Lookup message. Does not implicitly {@link sidecast.v1.Lookup.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.Lookup
             * @static
             * @param {sidecast.v1.ILookup} message Lookup message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Lookup.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.sessionId != null && Object.hasOwnProperty.call(message, "sessionId"))
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.sessionId);
                if (message.socketId != null && Object.hasOwnProperty.call(message, "socketId"))
                    writer.uint32(/* id 2, wireType 2 =*/18).string(message.socketId);
                if (message.userId != null && Object.hasOwnProperty.call(message, "userId"))
                    writer.uint32(/* id 3, wireType 2 =*/26).string(message.userId);
                if (message.local != null && Object.hasOwnProperty.call(message, "local"))
                    writer.uint32(/* id 4, wireType 0 =*/32).bool(message.local);
                return writer;
            };

            /**
             * Decodes a Lookup message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.Lookup
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.Lookup} Lookup
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Lookup.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.Lookup();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.sessionId = reader.string();
                            break;
                        }
                    case 2: {
                            message.socketId = reader.string();
                            break;
                        }
                    case 3: {
                            message.userId = reader.string();
                            break;
                        }
                    case 4: {
                            message.local = reader.bool();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return Lookup;
        })();

        v1.SocketLocation = (function() {

            /**
             * Properties of a SocketLocation.
             * @memberof sidecast.v1
             * @interface ISocketLocation
             * @property {string|null} [socketId] SocketLocation socketId
             * @property {string|null} [sessionId] SocketLocation sessionId
             * @property {string|null} [userId] SocketLocation userId
             * @property {string|null} [nodeId] SocketLocation nodeId
             * @property {string|null} [nodeName] SocketLocation nodeName
             * @property {string|null} [address] SocketLocation address
             * @property {boolean|null} [local] SocketLocation local
             */

            /**
             * Constructs a new SocketLocation.
             * @memberof sidecast.v1
             * @classdesc Represents a SocketLocation.
             * @implements ISocketLocation
             * @constructor
             * @param {sidecast.v1.ISocketLocation=} [properties] Properties to set
             */
            function SocketLocation(properties) {
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * SocketLocation socketId.
             * @member {string} socketId
             * @memberof sidecast.v1.SocketLocation
             * @instance
             */
            SocketLocation.prototype.socketId = "";

            /**
             * SocketLocation sessionId.
             * @member {string} sessionId
             * @memberof sidecast.v1.SocketLocation
             * @instance
             */
            SocketLocation.prototype.sessionId = "";

            /**
             * SocketLocation userId.
             * @member {string} userId
             * @memberof sidecast.v1.SocketLocation
             * @instance
             */
            SocketLocation.prototype.userId = "";

            /**
             * SocketLocation nodeId.
             * @member {string} nodeId
             * @memberof sidecast.v1.SocketLocation
             * @instance
             */
            SocketLocation.prototype.nodeId = "";

            /**
             * SocketLocation nodeName.
             * @member {string} nodeName
             * @memberof sidecast.v1.SocketLocation
             * @instance
             */
            SocketLocation.prototype.nodeName = "";

            /**
             * SocketLocation address.
             * @member {string} address
             * @memberof sidecast.v1.SocketLocation
             * @instance
             */
            SocketLocation.prototype.address = "";

            /**
             * SocketLocation local.
             * @member {boolean} local
             * @memberof sidecast.v1.SocketLocation
             * @instance
             */
            SocketLocation.prototype.local = false;

            /**
             * Creates a new SocketLocation instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.SocketLocation
             * @static
             * @param {sidecast.v1.ISocketLocation=} [properties] Properties to set
             * @returns {sidecast.v1.SocketLocation} SocketLocation instance
             */
            SocketLocation.create = function create(properties) {
                return new SocketLocation(properties);
            };

            /**
             * Encodes the specified SocketLocation message. Does not implicitly {@link sidecast.v1.SocketLocation.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.SocketLocation
             * @static
             * @param {sidecast.v1.ISocketLocation} message SocketLocation message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            SocketLocation.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.socketId != null && Object.hasOwnProperty.call(message, "socketId"))
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.socketId);
                if (message.sessionId != null && Object.hasOwnProperty.call(message, "sessionId"))
                    writer.uint32(/* id 2, wireType 2 =*/18).string(message.sessionId);
                if (message.userId != null && Object.hasOwnProperty.call(message, "userId"))
                    writer.uint32(/* id 3, wireType 2 =*/26).string(message.userId);
                if (message.nodeId != null && Object.hasOwnProperty.call(message, "nodeId"))
                    writer.uint32(/* id 4, wireType 2 =*/34).string(message.nodeId);
                if (message.nodeName != null && Object.hasOwnProperty.call(message, "nodeName"))
                    writer.uint32(/* id 5, wireType 2 =*/42).string(message.nodeName);
                if (message.address != null && Object.hasOwnProperty.call(message, "address"))
                    writer.uint32(/* id 6, wireType 2 =*/50).string(message.address);
                if (message.local != null && Object.hasOwnProperty.call(message, "local"))
                    writer.uint32(/* id 7, wireType 0 =*/56).bool(message.local);
                return writer;
            };

            /**
             * Decodes a SocketLocation message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.SocketLocation
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.SocketLocation} SocketLocation
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            SocketLocation.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.SocketLocation();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.socketId = reader.string();
                            break;
                        }
                    case 2: {
                            message.sessionId = reader.string();
                            break;
                        }
                    case 3: {
                            message.userId = reader.string();
                            break;
                        }
                    case 4: {
                            message.nodeId = reader.string();
                            break;
                        }
                    case 5: {
                            message.nodeName = reader.string();
                            break;
                        }
                    case 6: {
                            message.address = reader.string();
                            break;
                        }
                    case 7: {
                            message.local = reader.bool();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return SocketLocation;
        })();

        v1.LookupResult = (function() {

            /**
             * Properties of a LookupResult.
             * @memberof sidecast.v1
             * @interface ILookupResult
             * @property {Array.<sidecast.v1.ISocketLocation>|null} [sockets] LookupResult sockets
             * @property {number|null} [nodes] LookupResult nodes
             */

            /**
             * Constructs a new LookupResult.
             * @memberof sidecast.v1
             * @classdesc Represents a LookupResult.
             * @implements ILookupResult
             * @constructor
             * @param {sidecast.v1.ILookupResult=} [properties] Properties to set
             */
            function LookupResult(properties) {
                this.sockets = [];
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * LookupResult sockets.
             * @member {Array.<sidecast.v1.ISocketLocation>} sockets
             * @memberof sidecast.v1.LookupResult
             * @instance
             */
            LookupResult.prototype.sockets = $util.emptyArray;

            /**
             * LookupResult nodes.
             * @member {number} nodes
             * @memberof sidecast.v1.LookupResult
             * @instance
             */
            LookupResult.prototype.nodes = 0;

            /**
             * Creates a new LookupResult instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.LookupResult
             * @static
             * @param {sidecast.v1.ILookupResult=} [properties] Properties to set
             * @returns {sidecast.v1.LookupResult} LookupResult instance
             */
            LookupResult.create = function create(properties) {
                return new LookupResult(properties);
            };

            /**
             * Encodes the specified LookupResult message. Does not implicitly {@link sidecast.v1.LookupResult.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.LookupResult
             * @static
             * @param {sidecast.v1.ILookupResult} message LookupResult message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            LookupResult.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.sockets != null && message.sockets.length)
                    for (var i = 0; i < message.sockets.length; ++i)
                        $root.sidecast.v1.SocketLocation.encode(message.sockets[i], writer.uint32(/* id 1, wireType 2 =*/10).fork(), q + 1).ldelim();
                if (message.nodes != null && Object.hasOwnProperty.call(message, "nodes"))
                    writer.uint32(/* id 2, wireType 0 =*/16).uint32(message.nodes);
                return writer;
            };

            /**
             * Decodes a LookupResult message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.LookupResult
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.LookupResult} LookupResult
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            LookupResult.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.LookupResult();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            if (!(message.sockets && message.sockets.length))
                                message.sockets = [];
                            message.sockets.push($root.sidecast.v1.SocketLocation.decode(reader, reader.uint32(), undefined, long + 1));
                            break;
                        }
                    case 2: {
                            message.nodes = reader.uint32();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return LookupResult;
        })();

        v1.SessionEntry = (function() {

            /**
             * Properties of a SessionEntry.
             * @memberof sidecast.v1
             * @interface ISessionEntry
             * @property {string|null} [key] SessionEntry key
             * @property {Uint8Array|null} [value] SessionEntry value
             */

            /**
             * Constructs a new SessionEntry.
             * @memberof sidecast.v1
             * @classdesc Represents a SessionEntry.
             * @implements ISessionEntry
             * @constructor
             * @param {sidecast.v1.ISessionEntry=} [properties] Properties to set
             */
            function SessionEntry(properties) {
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * SessionEntry key.
             * @member {string} key
             * @memberof sidecast.v1.SessionEntry
             * @instance
             */
            SessionEntry.prototype.key = "";

            /**
             * SessionEntry value.
             * @member {Uint8Array} value
             * @memberof sidecast.v1.SessionEntry
             * @instance
             */
            SessionEntry.prototype.value = $util.newBuffer([]);

            /**
             * Creates a new SessionEntry instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.SessionEntry
             * @static
             * @param {sidecast.v1.ISessionEntry=} [properties] Properties to set
             * @returns {sidecast.v1.SessionEntry} SessionEntry instance
             */
            SessionEntry.create = function create(properties) {
                return new SessionEntry(properties);
            };

            /**
             * Encodes the specified SessionEntry message. Does not implicitly {@link sidecast.v1.SessionEntry.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.SessionEntry
             * @static
             * @param {sidecast.v1.ISessionEntry} message SessionEntry message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            SessionEntry.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.key != null && Object.hasOwnProperty.call(message, "key"))
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.key);
                if (message.value != null && Object.hasOwnProperty.call(message, "value"))
                    writer.uint32(/* id 2, wireType 2 =*/18).bytes(message.value);
                return writer;
            };

            /**
             * Decodes a SessionEntry message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.SessionEntry
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.SessionEntry} SessionEntry
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            SessionEntry.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.SessionEntry();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.key = reader.string();
                            break;
                        }
                    case 2: {
                            message.value = reader.bytes();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return SessionEntry;
        })();

        v1.SessionGet = (function() {

            /**
             * Properties of a SessionGet.
             * @memberof sidecast.v1
             * @interface ISessionGet
             * @property {string|null} [sessionId] SessionGet sessionId
             */

            /**
             * Constructs a new SessionGet.
             * @memberof sidecast.v1
             * @classdesc Represents a SessionGet.
             * @implements ISessionGet
             * @constructor
             * @param {sidecast.v1.ISessionGet=} [properties] Properties to set
             */
            function SessionGet(properties) {
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * SessionGet sessionId.
             * @member {string} sessionId
             * @memberof sidecast.v1.SessionGet
             * @instance
             */
            SessionGet.prototype.sessionId = "";

            /**
             * Creates a new SessionGet instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.SessionGet
             * @static
             * @param {sidecast.v1.ISessionGet=} [properties] Properties to set
             * @returns {sidecast.v1.SessionGet} SessionGet instance
             */
            SessionGet.create = function create(properties) {
                return new SessionGet(properties);
            };

            /**
             * Encodes the specified SessionGet message. Does not implicitly {@link sidecast.v1.SessionGet.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.SessionGet
             * @static
             * @param {sidecast.v1.ISessionGet} message SessionGet message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            SessionGet.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.sessionId != null && Object.hasOwnProperty.call(message, "sessionId"))
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.sessionId);
                return writer;
            };

            /**
             * Decodes a SessionGet message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.SessionGet
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.SessionGet} SessionGet
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            SessionGet.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.SessionGet();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.sessionId = reader.string();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return SessionGet;
        })();

        v1.SessionData = (function() {

            /**
             * Properties of a SessionData.
             * @memberof sidecast.v1
             * @interface ISessionData
             * @property {Array.<sidecast.v1.ISessionEntry>|null} [entries] SessionData entries
             * @property {boolean|null} [found] SessionData found
             * @property {boolean|null} [connected] SessionData connected
             */

            /**
             * Constructs a new SessionData.
             * @memberof sidecast.v1
             * @classdesc Represents a SessionData.
             * @implements ISessionData
             * @constructor
             * @param {sidecast.v1.ISessionData=} [properties] Properties to set
             */
            function SessionData(properties) {
                this.entries = [];
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * SessionData entries.
             * @member {Array.<sidecast.v1.ISessionEntry>} entries
             * @memberof sidecast.v1.SessionData
             * @instance
             */
            SessionData.prototype.entries = $util.emptyArray;

            /**
             * SessionData found.
             * @member {boolean} found
             * @memberof sidecast.v1.SessionData
             * @instance
             */
            SessionData.prototype.found = false;

            /**
             * SessionData connected.
             * @member {boolean} connected
             * @memberof sidecast.v1.SessionData
             * @instance
             */
            SessionData.prototype.connected = false;

            /**
             * Creates a new SessionData instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.SessionData
             * @static
             * @param {sidecast.v1.ISessionData=} [properties] Properties to set
             * @returns {sidecast.v1.SessionData} SessionData instance
             */
            SessionData.create = function create(properties) {
                return new SessionData(properties);
            };

            /**
             * Encodes the specified SessionData message. Does not implicitly {@link sidecast.v1.SessionData.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.SessionData
             * @static
             * @param {sidecast.v1.ISessionData} message SessionData message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            SessionData.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.entries != null && message.entries.length)
                    for (var i = 0; i < message.entries.length; ++i)
                        $root.sidecast.v1.SessionEntry.encode(message.entries[i], writer.uint32(/* id 1, wireType 2 =*/10).fork(), q + 1).ldelim();
                if (message.found != null && Object.hasOwnProperty.call(message, "found"))
                    writer.uint32(/* id 2, wireType 0 =*/16).bool(message.found);
                if (message.connected != null && Object.hasOwnProperty.call(message, "connected"))
                    writer.uint32(/* id 3, wireType 0 =*/24).bool(message.connected);
                return writer;
            };

            /**
             * Decodes a SessionData message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.SessionData
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.SessionData} SessionData
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            SessionData.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.SessionData();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            if (!(message.entries && message.entries.length))
                                message.entries = [];
                            message.entries.push($root.sidecast.v1.SessionEntry.decode(reader, reader.uint32(), undefined, long + 1));
                            break;
                        }
                    case 2: {
                            message.found = reader.bool();
                            break;
                        }
                    case 3: {
                            message.connected = reader.bool();
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return SessionData;
        })();

        v1.SessionSet = (function() {

            /**
             * Properties of a SessionSet.
             * @memberof sidecast.v1
             * @interface ISessionSet
             * @property {string|null} [sessionId] SessionSet sessionId
             * @property {Array.<sidecast.v1.ISessionEntry>|null} [set] SessionSet set
             * @property {Array.<string>|null} ["delete"] SessionSet delete
             */

            /**
             * Constructs a new SessionSet.
             * @memberof sidecast.v1
             * @classdesc Represents a SessionSet.
             * @implements ISessionSet
             * @constructor
             * @param {sidecast.v1.ISessionSet=} [properties] Properties to set
             */
            function SessionSet(properties) {
                this.set = [];
                this["delete"] = [];
                if (properties)
                    for (var keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            }

            /**
             * SessionSet sessionId.
             * @member {string} sessionId
             * @memberof sidecast.v1.SessionSet
             * @instance
             */
            SessionSet.prototype.sessionId = "";

            /**
             * SessionSet set.
             * @member {Array.<sidecast.v1.ISessionEntry>} set
             * @memberof sidecast.v1.SessionSet
             * @instance
             */
            SessionSet.prototype.set = $util.emptyArray;

            /**
             * SessionSet delete.
             * @member {Array.<string>} delete
             * @memberof sidecast.v1.SessionSet
             * @instance
             */
            SessionSet.prototype["delete"] = $util.emptyArray;

            /**
             * Creates a new SessionSet instance using the specified properties.
             * @function create
             * @memberof sidecast.v1.SessionSet
             * @static
             * @param {sidecast.v1.ISessionSet=} [properties] Properties to set
             * @returns {sidecast.v1.SessionSet} SessionSet instance
             */
            SessionSet.create = function create(properties) {
                return new SessionSet(properties);
            };

            /**
             * Encodes the specified SessionSet message. Does not implicitly {@link sidecast.v1.SessionSet.verify|verify} messages.
             * @function encode
             * @memberof sidecast.v1.SessionSet
             * @static
             * @param {sidecast.v1.ISessionSet} message SessionSet message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            SessionSet.encode = function encode(message, writer, q) {
                if (!writer)
                    writer = $Writer.create();
                if (q === undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw Error("max depth exceeded");
                if (message.sessionId != null && Object.hasOwnProperty.call(message, "sessionId"))
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.sessionId);
                if (message.set != null && message.set.length)
                    for (var i = 0; i < message.set.length; ++i)
                        $root.sidecast.v1.SessionEntry.encode(message.set[i], writer.uint32(/* id 2, wireType 2 =*/18).fork(), q + 1).ldelim();
                if (message["delete"] != null && message["delete"].length)
                    for (var i = 0; i < message["delete"].length; ++i)
                        writer.uint32(/* id 3, wireType 2 =*/26).string(message["delete"][i]);
                return writer;
            };

            /**
             * Decodes a SessionSet message from the specified reader or buffer.
             * @function decode
             * @memberof sidecast.v1.SessionSet
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sidecast.v1.SessionSet} SessionSet
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            SessionSet.decode = function decode(reader, length, error, long) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (long === undefined)
                    long = 0;
                if (long > $Reader.recursionLimit)
                    throw Error("maximum nesting depth exceeded");
                var end, message;
                if (length === undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = new $root.sidecast.v1.SessionSet();
                while (reader.pos < end) {
                    var tag = reader.uint32();
                    if (tag === error)
                        break;
                    switch (tag >>> 3) {
                    case 1: {
                            message.sessionId = reader.string();
                            break;
                        }
                    case 2: {
                            if (!(message.set && message.set.length))
                                message.set = [];
                            message.set.push($root.sidecast.v1.SessionEntry.decode(reader, reader.uint32(), undefined, long + 1));
                            break;
                        }
                    case 3: {
                            if (!(message["delete"] && message["delete"].length))
                                message["delete"] = [];
                            message["delete"].push(reader.string());
                            break;
                        }
                    default:
                        reader.skipType(tag & 7, long);
                        break;
                    }
                }
                if (length !== undefined) {
                    if (reader.pos !== end)
                        throw RangeError("index out of range");
                    reader.len = length;
                }
                return message;
            };

            return SessionSet;
        })();

        return v1;
    })();

    return sidecast;
})();

module.exports = $root;
