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
import type { LocalSubscribers } from "./local.ts";
import type { Metrics } from "./metrics.ts";
import type { OutboundGuard } from "./outbound.ts";
import type { SpoolBudget } from "./spool_budget.ts";

/** Limits and tunables the routes and the delivery code read. */
export interface Limits {
  /** Largest request body accepted by every route but notify, bytes (413 beyond). */
  readonly maxBodyBytes: number;
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
  /** Most RECEIVE requests in flight for one notify. */
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
}
