// Type declarations for lib/forward.js (sticky-free long-polling), re-exported
// by the package's index.d.ts.
import type { SidecastClient } from '../index';

export interface ForwardOptions {
  /** client to look sessions up with; default: the sidecast adapter's client of io.of('/') */
  client?: SidecastClient;
  /** overall limit of one forwarded request, ms; default engine pingInterval + pingTimeout (45000) */
  timeout?: number;
  /** TCP connect limit to the owner (HTTP and websocket), ms (3000) */
  connectTimeout?: number;
  /** limit of one directory lookup, ms (2000) */
  lookupTimeout?: number;
  /** retries of a lookup that found nothing (owner's registration still on its way) (5) */
  missRetries?: number;
  /** first retry delay, ms, doubling per retry (25) */
  missRetryMs?: number;
  /** forwarded HTTP requests in flight at once; more get 503 (1024) */
  maxInFlight?: number;
  /** forwarded websocket connections open at once; more get 503 (4096) */
  maxTunnels?: number;
  /** sids being looked up at once; more are left to engine.io (its "Session ID unknown") (256) */
  maxLookups?: number;
  /** how long a sid's owner is cached, ms; 0: no cache (2000) */
  cacheMs?: number;
  /** cached sids at most (10000) */
  cacheMax?: number;
  /** register every engine.io connection as socket `eio:<sid>` at handshake (true) */
  register?: boolean;
  /** where failure lines go (console.warn); false: nowhere */
  log?: false | ((line: string) => void);
  /** one line per failure reason per this many ms, with a count of the suppressed ones (10000) */
  logIntervalMs?: number;
}

export type ForwardFailure =
  | 'unknown_sid'
  | 'lookup_error'
  | 'bad_address'
  | 'unreachable'
  | 'timeout'
  | 'limit'
  | 'upstream_error'
  | 'client_aborted';

export interface ForwardStats {
  /** long-poll GETs forwarded to their owner */
  forwardedPoll: number;
  /** POSTs forwarded with their bodies */
  forwardedPost: number;
  /** websocket upgrades tunnelled to their owner */
  forwardedUpgrade: number;
  /** requests other nodes forwarded to this one */
  served: number;
  /** directory lookups made */
  lookups: number;
  /** lookups repeated because the sid was not (yet) in the directory */
  lookupRetries: number;
  /** owners taken from the cache */
  cacheHits: number;
  failures: Record<ForwardFailure, number>;
  /** forwarded HTTP requests in flight now */
  inFlight: number;
  /** forwarded websocket connections open now */
  tunnels: number;
  /** sids in the owner cache now */
  cached: number;
}

export class Forwarder {
  /**
   * This node's advertise_address as its sidecastd reports it, known at the
   * first session this node holds: undefined before, '' when unset in
   * cluster mode (warned once through the client's logger: forwarded polls
   * to this node would fail with 502), null in standalone mode.
   */
  readonly advertiseAddress: string | null | undefined;
  /** counters and gauges */
  stats(): ForwardStats;
  /** the same as Prometheus text (sidecast_forward_*) */
  metrics(): string;
  /** restore engine.io's own listeners and stop forwarding; idempotent */
  close(): void;
}

/**
 * Serve polling requests and websocket upgrades of sessions owned by other
 * nodes by forwarding them to the owner's advertise_address. Call after
 * socket.io is attached to its http server.
 */
export function enableForwarding(io: any, opts?: ForwardOptions): Forwarder;

/** the header that marks a forwarded request (never forwarded again) */
export const FORWARDED_HEADER: 'x-sidecast-forwarded';
