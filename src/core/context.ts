/**
 * The broadcaster's shared state: what both transports (`http/` routes and
 * `ws/` sessions) and the fan-out below them (`delivery/`) read. Nothing here
 * knows either transport.
 *
 * @module
 */

import type { AuthConfig } from "../auth/types.ts";
import type { Store } from "../storage/types.ts";
import type { Logger, ThrottledLog } from "../log.ts";
import type { ByteBudget } from "./byte_budget.ts";
import type { LocalSubscribers } from "./local.ts";
import type { Metrics } from "./metrics.ts";
import type { OutboundGuard } from "./outbound.ts";
import type { SpoolBudget } from "./spool_budget.ts";

/** Limits and tunables the routes and the delivery code read. */
export interface Limits {
  /**
   * Largest set_subscriptions body, bytes (413 beyond). Every other route but
   * notify and the relay's receive is capped at the largest valid body of its
   * message (e.g. 256 KiB for a subscribe), or at this if smaller.
   */
  readonly maxBodyBytes: number;
  /**
   * Request-body bytes held in memory at once, all requests together. A
   * request that would go over is answered 503 with Retry-After; a notify
   * message that would go over is spooled to disk instead.
   */
  readonly maxBufferedBodyBytes: number;
  /**
   * Longest stretch, ms, the server may wait on a request body; each such
   * stretch must bring `bodyMinBytesPerSecond` on average (or the rest of the
   * body), else the request is cut with 408.
   */
  readonly bodyIdleTimeoutMs: number;
  /** Slowest request body accepted, bytes per second, averaged over `bodyIdleTimeoutMs`. */
  readonly bodyMinBytesPerSecond: number;
  /**
   * A connection must deliver complete request headers within this, ms, from
   * when it opened (Deno, Node).
   */
  readonly headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this, ms (every runtime). */
  readonly keepAliveTimeoutMs: number;
  /**
   * Incoming connections (HTTP and websocket) open at once (Deno, Node). At
   * the cap the oldest idle connection is closed for a new one (Deno), or new
   * connections wait (Deno) or are refused (Node). Default: from `ulimit -n`.
   */
  readonly maxConnections: number;
  /**
   * Outgoing RECEIVE and MISSED requests in flight at once, across every
   * notify, relay and sweep. Default: from `ulimit -n`.
   */
  readonly maxOutgoingConnections: number;
  /** Notify bodies up to this size stay in memory; larger ones are spooled to disk. */
  readonly spoolThresholdBytes: number;
  /** Directory for spooled notify bodies. */
  readonly spoolDir: string;
  /**
   * Most bytes of spool files in use at once; a notify whose announced length
   * does not fit is refused with 507 before its body is read.
   */
  readonly spoolQuotaBytes: number;
  /** Largest notify message accepted, bytes (413 beyond); Infinity: no limit. */
  readonly maxNotifyBytes: number;
  /** Most RECEIVE requests in flight for one notify (all notifies share `maxOutgoingConnections`). */
  readonly fanoutConcurrency: number;
  /** Outgoing connect timeout, ms. */
  readonly connectTimeoutMs: number;
  /** Outgoing total timeout per request, ms. */
  readonly totalTimeoutMs: number;
  /** Longest silence while reading an outgoing response, ms. */
  readonly readIdleTimeoutMs: number;
  /** MISSED retry policy (config chapter §2.5; delays are added to now). */
  readonly missedRetry: MissedRetryPolicy;
  /** Pause between the end of one sweep pass and the start of the next, ms. */
  readonly sweepIntervalMs: number;
  /** Most missed records leased per batch of a sweep pass. */
  readonly sweepBatchSize: number;
  /** How long a leased missed record stays ours, ms (must exceed totalTimeoutMs). */
  readonly missedLeaseMs: number;
  /** A websocket must send CONFIGURE within this, ms, or is closed (1008). */
  readonly websocketConfigureTimeoutMs: number;
  /** Largest incoming websocket message, bytes; larger → close 1009. */
  readonly websocketMaxIncomingBytes: number;
  /** Largest outgoing websocket message (one RECEIVE_STREAM part with its headers), bytes. */
  readonly websocketMaxMessageBytes: number;
  /** Incoming messages read but not yet processed, per connection; more → close 1013. */
  readonly websocketMaxUnprocessed: number;
  /** Outgoing messages (replies and deliveries) waiting to be sent, per connection; more → 1013. */
  readonly websocketMaxPendingSends: number;
  /** RECEIVE_STREAM parts sent but not yet acknowledged, per connection; 0 = unlimited. */
  readonly websocketMaxUnacknowledged: number;
  /** Bytes handed to the socket but not yet written to the network; more → close 1013. */
  readonly websocketMaxBufferedBytes: number;
  /** Bytes of in-memory messages queued for one connection; more → close 1013. */
  readonly websocketMaxQueuedBytes: number;
  /** How often this process re-asserts its relay rows in the store, ms. */
  readonly relayReconcileMs: number;
  /**
   * Longest a SQLite operation (subscriptions and hmac replay databases) waits
   * for another process's lock before it answers 503, ms. The wait is a series
   * of short attempts between timers: it never blocks other requests.
   */
  readonly sqliteBusyTimeoutMs: number;
}

/**
 * `delay(attempts) = expoFactor · expoBase^min(expoMax, attempts) + constant + U·jitter`
 * seconds, or give up once `attempts ≥ maxRetries`.
 */
export interface MissedRetryPolicy {
  /** Attempts after which the missed record is dropped (the subscription stays). */
  readonly maxRetries: number;
  /** Multiplier of the exponential term, seconds. */
  readonly expoFactor: number;
  /** Base of the exponential term. */
  readonly expoBase: number;
  /** Cap on the exponent. */
  readonly expoMax: number;
  /** Constant added, seconds. */
  readonly constantSeconds: number;
  /** Uniform random jitter added, up to this many seconds. */
  readonly jitterSeconds: number;
}

/** The broadcaster's state as the routes see it. */
export interface Context {
  /** Subscription storage. */
  readonly store: Store;
  /** Both authorization directions. */
  readonly auth: AuthConfig;
  /** Limits and tunables. */
  readonly limits: Limits;
  /** Current time, epoch seconds (fractional). Injectable for tests. */
  readonly now: () => number;
  /** Where diagnostics go. */
  readonly log: Logger;
  /** The same, rate limited: for failures of the environment that can recur per request. */
  readonly faults: ThrottledLog;
  /**
   * This process's websocket subscribers, as the fan-out and the relay routes
   * see them (`NO_LOCAL_SUBSCRIBERS` when websockets are off).
   */
  readonly local: LocalSubscribers;
  /** Counters for `/metrics`. */
  readonly metrics: Metrics;
  /** Bytes of spool files in use, against `limits.spoolQuotaBytes`. */
  readonly spool: SpoolBudget;
  /** The SSRF guard every outgoing RECEIVE and MISSED goes through, or null when off. */
  readonly outbound: OutboundGuard | null;
  /** Slots for outgoing requests, `limits.maxOutgoingConnections` of them. */
  readonly outgoing: Slots;
  /** Request-body bytes held in memory, at most `limits.maxBufferedBodyBytes`. */
  readonly bodyMemory: ByteBudget;
}

/** Slots shared by every caller, handed out in arrival order (`delivery/semaphore.ts`). */
export interface Slots {
  /**
   * Waits for a slot and resolves with its release function (call it once),
   * or null when `signal` aborts first.
   */
  acquire(signal?: AbortSignal): Promise<(() => void) | null>;
}
