// Type declarations for the `sidecast` package (hand-written).
import { EventEmitter } from 'events';
import { Adapter } from 'socket.io-adapter';

export const PROTOCOL_VERSION: number;

/**
 * Feature of proto/sidecast.proto, names without the `FEATURE_` prefix; a
 * bit's value is the enum value. A feature is used only when both this
 * client and sidecastd have it.
 */
export const Feature: Readonly<{
  NONE: 0;
  /** nodes() reports each node's cluster version and features */
  NODE_VERSIONS: 1;
  /** fetchSockets() answers may be kept (FetchSockets.cache_answers; the adapter's keepFetches) */
  KEPT_ANSWERS: 2;
}>;
/** Every Feature bit this client has (sent in its Hello). */
export const CLIENT_FEATURES: number;

/** ErrorCode of proto/sidecast.proto, names without the `ERROR_` prefix. */
export const ErrorCode: Readonly<{
  UNSPECIFIED: 0;
  MALFORMED: 1;
  TOO_LARGE: 2;
  UNKNOWN_MESSAGE: 3;
  HANDSHAKE: 4;
  VERSION: 5;
  DUPLICATE: 6;
  NOT_FOUND: 7;
  INVALID: 8;
  LIMIT: 9;
  SHUTTING_DOWN: 10;
  TIMEOUT: 11;
  UNAVAILABLE: 12;
  FORBIDDEN: 13;
}>;

export type ErrorCodeName = keyof typeof ErrorCode | 'DISCONNECTED' | 'QUEUE_FULL' | 'CLOSED';

export class SidecastError extends Error {
  constructor(code: ErrorCodeName, message: string, extra?: { ref?: string; fatal?: boolean });
  code: ErrorCodeName;
  /** what the refusal refers to, e.g. a socket id */
  ref: string;
  /** sidecastd closed the connection after this error */
  fatal: boolean;
}
/** A call did not complete in time (client-side limit, or ERROR_TIMEOUT from sidecastd). */
export class TimeoutError extends SidecastError {
  constructor(message: string, extra?: { ref?: string; fatal?: boolean });
}
/** Not connected and the call could not wait ('DISCONNECTED', 'QUEUE_FULL', 'CLOSED'). */
export class DisconnectedError extends SidecastError {
  constructor(message: string, code?: 'DISCONNECTED' | 'QUEUE_FULL' | 'CLOSED');
}

export interface Selector {
  rooms?: Iterable<string>;
  socketIds?: Iterable<string>;
  all?: boolean;
  exceptRooms?: Iterable<string>;
  exceptIds?: Iterable<string>;
  userIds?: Iterable<string>;
}

export interface ClientOptions {
  /** sidecastd's Unix socket; default $SIDECAST_SOCKET or /run/sidecast/sidecast.sock */
  path?: string;
  /** name in sidecastd's logs */
  name?: string;
  /** default time limit of a call, ms (5000) */
  timeout?: number;
  /** frames kept while disconnected (10000); more calls fail with QUEUE_FULL, emits are dropped */
  queueLimit?: number;
  /** queued frames older than this (ms, default `timeout`) are dropped at reconnect */
  queueTimeout?: number;
  /** first reconnect delay, ms (100); doubles up to reconnectMax, ±25 % jitter */
  reconnectMin?: number;
  /** largest reconnect delay, ms (5000) */
  reconnectMax?: number;
  /** unsent bytes above which volatile emits are dropped (8 MiB) */
  maxOutputBytes?: number;
  /** unsent bytes above which every emit is dropped and counted (64 MiB) */
  maxBufferedBytes?: number;
  /** connect in the constructor (true) */
  autoConnect?: boolean;
  /** where the first failure of an outage and the recovery are logged (console); false: nowhere */
  logger?: { warn(msg: string): void; info?(msg: string): void } | false;
}

/** The 'unreachable' event: the first failed connection attempt of an outage. */
export interface Unreachable {
  path: string;
  /** errno name: ENOENT, EACCES, ECONNREFUSED, ... */
  code: string;
  errno: number | null;
  syscall: string | null;
  /** what to do about it */
  hint: string;
  error: Error;
}

export interface SocketInfo {
  socketId: string;
  sessionId: string;
  userId: string;
  data: Buffer;
  rooms: string[];
  nodeId: string;
}

export interface Progress {
  expect: number;
  payloads: Buffer[];
  done: boolean;
  timedOut: boolean;
  nodesExpected: number;
  nodesAnswered: number;
}

export interface SocketLocation {
  socketId: string;
  sessionId: string;
  userId: string;
  nodeId: string;
  nodeName: string;
  /** the owning node's advertise_address */
  address: string;
  local: boolean;
}

export interface LookupResult {
  sockets: SocketLocation[];
  nodes: number;
}

export interface Presence {
  online: boolean;
  sockets: number;
  nodes: number;
}

export interface NodeInfo {
  nodeId: string;
  nodeName: string;
  /** the node this client is connected to */
  self: boolean;
  /** cluster protocol version (0: the node predates versioning); null: sidecastd predates version reporting */
  version: number | null;
  /** cluster feature bits (ClusterFeature of proto/cluster.proto); null like version */
  features: number | null;
}

export interface Delivery {
  to: Selector;
  payload: Buffer;
  volatile: boolean;
  /** non-zero: answer with client.ack(ackId, ...) */
  ackId: number;
  /** this client's mirrored sockets the selector picks */
  socketIds: string[];
}

export interface ServerMessage {
  payload: Buffer;
  ackId: number;
  originNode: string;
}

type Bytes = Buffer | Uint8Array | string;

export class SidecastClient extends EventEmitter {
  constructor(opts?: ClientOptions);
  readonly path: string;
  readonly connected: boolean;
  nodeId: string;
  nodeName: string;
  maxFrameBytes: number;
  /** sidecastd's max_payload_bytes from the Welcome (16 MiB until then; 0: it did not say) */
  maxPayloadBytes: number;
  /** the TOO_LARGE error sidecastd's limits would make of this payload with this selector, or null */
  payloadError(to: Selector | null, payload: Uint8Array): SidecastError | null;
  /** write the current turn's batch of frames now */
  flush(): void;
  /** Feature bits of sidecastd from the last Welcome (0: it predates negotiation, or never connected) */
  serverFeatures: number;
  /** sidecastd's protocol version from the last Welcome */
  serverProtocolVersion: number;
  /** oldest protocol version sidecastd accepts, from the last Welcome (0: not said) */
  minProtocolVersion: number;
  /** every bit of `features` (Feature) is usable: both sidecastd and this client have it */
  hasFeatures(features: number): boolean;
  counters: { reconnects: number; droppedDisconnected: number; droppedVolatile: number; droppedSlow: number; refusedTooLarge: number; refused: number; queued: number; unreadablePayload: number; unknownNamespace: number };

  ready(timeout?: number): Promise<void>;
  close(): Promise<void>;

  socketUp(socketId: string, info?: { sessionId?: string; userId?: string; data?: Bytes; rooms?: string[] }): void;
  socketDown(socketId: string): void;
  join(socketId: string, rooms: string | string[]): void;
  /** no rooms: leave every room */
  leave(socketId: string, rooms?: string | string[]): void;
  setData(socketId: string, data: Bytes): void;
  /** ids of this client's mirrored sockets that `to` selects */
  resolve(to: Selector): string[];

  broadcast(to: Selector, payload: Bytes, flags?: { volatile?: boolean; includeSelf?: boolean; local?: boolean }): boolean;
  broadcastWithAck(
    to: Selector,
    payload: Bytes,
    flags?: { volatile?: boolean; includeSelf?: boolean; local?: boolean },
    onProgress?: (p: Progress) => void,
    timeout?: number,
  ): Promise<Progress | null>;
  serverEmit(
    payload: Bytes,
    opts?: { local?: boolean; wantAck?: boolean; onProgress?: (p: Progress) => void; timeout?: number },
  ): Promise<Progress | null>;
  ack(ackId: number, answer?: { expect?: number; payloads?: Bytes[]; done?: boolean }): void;

  ping(timeout?: number): Promise<void>;
  /** excludeSelf: leave out the sockets this client registered */
  fetchSockets(
    filter?: Selector,
    opts?: { withData?: boolean; withRooms?: boolean; local?: boolean; excludeSelf?: boolean; timeout?: number },
  ): Promise<SocketInfo[]>;
  rooms(names?: string[], timeout?: number): Promise<Array<{ name: string; size: number }>>;
  stats(timeout?: number): Promise<Record<string, number>>;
  nodes(timeout?: number): Promise<NodeInfo[]>;
  apply(
    a: { filter?: Selector; join?: string[]; leave?: string[]; disconnect?: boolean; close?: boolean; local?: boolean },
    timeout?: number,
  ): Promise<void>;
  lookup(key: { sessionId?: string; socketId?: string; userId?: string }, opts?: { local?: boolean; timeout?: number }): Promise<LookupResult>;
  presence(userId: string, opts?: { local?: boolean; timeout?: number }): Promise<Presence>;
  sessionGet(sessionId: string, timeout?: number): Promise<{ found: boolean; connected: boolean; entries: Record<string, Buffer> }>;
  sessionSet(sessionId: string, set?: Record<string, Bytes>, del?: string[], timeout?: number): Promise<void>;

  on(event: 'connect' | 'reconnect', listener: (info: { nodeId: string; nodeName: string }) => void): this;
  on(event: 'disconnect', listener: (err: DisconnectedError) => void): this;
  on(event: 'refused' | 'warning', listener: (err: SidecastError) => void): this;
  on(event: 'deliver', listener: (d: Delivery) => void): this;
  on(event: 'serverMessage', listener: (m: ServerMessage) => void): this;
  on(event: 'apply', listener: (a: { socketId: string; join: string[]; leave: string[]; disconnect: boolean; close: boolean }) => void): this;
  on(event: 'gap', listener: (g: { from: number; to: number; reason: string }) => void): this;
  on(event: 'dropped', listener: (frame: object, reason?: SidecastError) => void): this;
  on(event: 'unreachable', listener: (info: Unreachable) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}

export interface AdapterOptions extends ClientOptions {
  /** use this client instead of opening one (it is not closed with the adapter) */
  client?: SidecastClient;
  /** user id of a socket, registered for lookups and presence */
  userId?: (socket: any) => string | undefined | null;
  /** ship socket.handshake (or this function's result) for other nodes' fetchSockets() (true); false: none, handshake {} on remote sockets */
  handshake?: boolean | ((socket: any) => object);
  /** keep other nodes' fetchSockets() answers (4 filters); a node whose sockets did not change since answers "unchanged" (default true) */
  keepFetches?: boolean;
  /** serverSideEmit-with-ack timeout and default broadcast-with-ack timeout, ms (5000) */
  requestsTimeout?: number;
  /** write a client's messages of one event-loop turn with one system call (true) */
  coalesceWrites?: boolean;
}

/** socket.io-adapter's Adapter, with the cluster API implemented through sidecastd. */
export class SidecastAdapter extends Adapter {
  readonly client: SidecastClient;
  /** send socket.data now if it changed (assignments and in-place changes after a read are noticed by themselves) */
  syncData(socketOrId: any): void;
  /** emits refused for their size, socket.data updates sent, socket.data values compared */
  readonly stats: { refusedTooLarge: number; dataSent: number; dataChecked: number };
  lookup(key: { sessionId?: string; socketId?: string; userId?: string }, opts?: { local?: boolean; timeout?: number }): Promise<LookupResult>;
  presence(userId: string, opts?: { local?: boolean; timeout?: number }): Promise<Presence>;
  /** cluster messages between `from` and `to` (unix ms) may have been lost (Redis subscription interrupted) */
  on(event: 'gap', listener: (g: { from: number; to: number; reason: string }) => void): this;
  /** an emit refused for its size (TOO_LARGE), or a socketsJoin / socketsLeave / disconnectSockets / serverSideEmit request that failed (only emitted if listened to) */
  on(event: 'error', listener: (err: SidecastError) => void): this;
  /** sidecastd cannot be reached (first failure of an outage) */
  on(event: 'unreachable', listener: (info: Unreachable) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}

/** Emits and socket actions of one namespace, narrowed by rooms (as socket.io's BroadcastOperator). */
export declare class BroadcastOperator {
  to(room: string | string[]): BroadcastOperator;
  in(room: string | string[]): BroadcastOperator;
  except(room: string | string[]): BroadcastOperator;
  readonly volatile: BroadcastOperator;
  compress(compress: boolean): BroadcastOperator;
  /** to every selected client; no acknowledgements (a callback throws) */
  emit(ev: string, ...args: any[]): true;
  socketsJoin(rooms: string | string[]): Promise<void>;
  socketsLeave(rooms: string | string[]): Promise<void>;
  disconnectSockets(close?: boolean): Promise<void>;
  /** to every socket.io server's handlers of this namespace */
  serverSideEmit(ev: string, ...args: any[]): Promise<void>;
}

/** socket.io emits from a process without a socket.io server (the shape of @socket.io/redis-emitter). */
export declare class Emitter extends BroadcastOperator {
  constructor(opts?: ClientOptions & { client?: SidecastClient });
  readonly client: SidecastClient;
  of(nsp: string): BroadcastOperator;
  close(): void;
}

/** For io.adapter(createAdapter(opts)). */
export function createAdapter(opts?: AdapterOptions): (nsp: any) => Adapter;
export { enableForwarding, Forwarder, ForwardOptions, ForwardStats, ForwardFailure } from './lib/forward';

/**
 * Prometheus text exposition (0.0.4) of the app's sidecast metrics:
 * `sidecast_app_*` (the adapter client's drops, reconnects and queue, each
 * namespace's adapter stats) and `sidecast_forward_*` while
 * enableForwarding(io) is active. Read at call time.
 */
export function metrics(io: any): string;

/** The parts of prom-client registerMetrics() uses (pass the module itself). */
export interface PromClientLike {
  Counter: new (config: any) => any;
  Gauge: new (config: any) => any;
  register: any;
}

/**
 * Register the families of metrics(io) in a prom-client registry
 * (default: promClient.register), as Counters / Gauges read at scrape time.
 * The forwarder's families are included if enableForwarding(io) was called
 * before. Returns the prom-client metrics.
 */
export function registerMetrics(io: any, promClient: PromClientLike, registry?: any): any[];
