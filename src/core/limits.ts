/**
 * The broadcaster's limits and tunables: what each one means, its default and
 * its validation, shared by `createBroadcaster` and the CLI.
 *
 * @module
 */

import { tmpdir } from "../portable.ts";
import { processDescriptorShares } from "./descriptors.ts";

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
   * Deliver a spooled notify while its body still arrives: each RECEIVE reads the spool file as
   * it grows and its last 64 KiB wait until the broadcaster's own SHA-512 of the whole body
   * matched; on a mismatch every delivery in progress is cut (HTTP: the request breaks off
   * before its body completes; websocket: closed with 4000) and no MISSED is sent. False:
   * deliveries start only once the whole body is verified.
   */
  readonly deliverWhileReceiving: boolean;
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
  /**
   * Outgoing total timeout per request (RECEIVE, MISSED), ms, for an empty
   * body: a body of N bytes adds N / `writeMinBytesPerSecond` seconds, so a
   * subscriber reading at the slowest accepted rate still gets any size.
   */
  readonly totalTimeoutMs: number;
  /**
   * Longest stretch, ms, an outgoing request body is given to make progress:
   * each such stretch must bring `writeMinBytesPerSecond` on average (or the
   * rest of the body), else the request is cut ("Write timeout"). With the
   * SSRF guard on (fetch), the rule sees spooled bodies only (streams; fetch
   * takes an in-memory body whole), and the size allowance bounds the rest.
   */
  readonly writeIdleTimeoutMs: number;
  /**
   * Slowest outgoing request body accepted, bytes per second, averaged over
   * `writeIdleTimeoutMs`; it also sizes the allowance added to
   * `totalTimeoutMs`. 0: no rate rule and no allowance (a fixed total).
   *
   * Progress is seen as the kernel takes bytes, and once a socket's send
   * buffer is full (up to 4 MiB on Linux) a writer is woken only when a good
   * part of it has drained: a steady reader shows progress in steps of about
   * 1.7 MiB (measured on loopback). Keep `writeMinBytesPerSecond ×
   * writeIdleTimeoutMs` above that (the defaults give 2.5 MiB per 10 s), or a
   * reader just above the minimum may see a window without a step.
   */
  readonly writeMinBytesPerSecond: number;
  /** Longest silence while reading an outgoing response, ms. */
  readonly readIdleTimeoutMs: number;
  /** MISSED retry policy (docs/protocol/storage.md#missed-retries; delays are added to now). */
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
  /**
   * A notify's fan-out waits while a local websocket's outgoing queue is half
   * full (entries or bytes), as long as that connection keeps sending; one
   * that sends nothing for this long, ms, is not waited for again until it
   * does (its queue then overflows and it is closed, 1013).
   */
  readonly websocketStallTimeoutMs: number;
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

/**
 * Default retry policy: the reference template's (docs/protocol/storage.md#missed-retries), ~20
 * tries over ~3 h.
 */
export const DEFAULT_MISSED_RETRY: MissedRetryPolicy = {
  maxRetries: 20,
  expoFactor: 1,
  expoBase: 2,
  expoMax: 10,
  constantSeconds: 1,
  jitterSeconds: 2,
};

/** Default of {@link Limits.maxBufferedBodyBytes} (raised to `maxBodyBytes` if that is larger). */
export const DEFAULT_BUFFERED_BODY_BYTES = 64 * 1024 * 1024;

/**
 * Default limits; every one can be overridden. The connection caps come from
 * this process's open-files limit (see `core/descriptors.ts`).
 */
export function defaultLimits(): Limits {
  const shares = processDescriptorShares();
  return {
    maxBodyBytes: 64 * 1024 * 1024,
    maxBufferedBodyBytes: DEFAULT_BUFFERED_BODY_BYTES,
    bodyIdleTimeoutMs: 10_000,
    bodyMinBytesPerSecond: 4096,
    headersTimeoutMs: 10_000,
    keepAliveTimeoutMs: 30_000,
    maxConnections: shares.incoming,
    maxOutgoingConnections: shares.outgoing,
    spoolThresholdBytes: 10 * 1024 * 1024,
    spoolDir: tmpdir(),
    deliverWhileReceiving: true,
    spoolQuotaBytes: 8 * 1024 * 1024 * 1024,
    maxNotifyBytes: Infinity,
    fanoutConcurrency: 64,
    connectTimeoutMs: 5_000,
    totalTimeoutMs: 30_000,
    readIdleTimeoutMs: 5_000,
    writeIdleTimeoutMs: 10_000,
    writeMinBytesPerSecond: 256 * 1024,
    missedRetry: DEFAULT_MISSED_RETRY,
    sweepIntervalMs: 10_000,
    sweepBatchSize: 100,
    missedLeaseMs: 60_000,
    websocketConfigureTimeoutMs: 10_000,
    websocketMaxIncomingBytes: 16 * 1024 * 1024,
    // Small parts keep a large delivery's memory small: every part in flight is
    // held in JavaScript and copied by the runtime (docs/decisions.md#part-sizes).
    websocketMaxMessageBytes: 256 * 1024,
    websocketMaxUnprocessed: 255,
    websocketMaxPendingSends: 255,
    websocketMaxUnacknowledged: 3,
    websocketMaxBufferedBytes: 16 * 1024 * 1024,
    websocketMaxQueuedBytes: 64 * 1024 * 1024,
    websocketStallTimeoutMs: 2_000,
    relayReconcileMs: 60_000,
    sqliteBusyTimeoutMs: 5_000,
  };
}

/** Merges overrides into the defaults and checks every value. */
export function resolveLimits(overrides: Partial<Limits> = {}): Limits {
  const given = definedOnly(overrides);
  const defaults = defaultLimits();
  const limits: Limits = {
    ...defaults,
    // A set_subscriptions body as large as allowed must fit in the budget.
    maxBufferedBodyBytes: Math.max(
      defaults.maxBufferedBodyBytes,
      given.maxBodyBytes ?? defaults.maxBodyBytes,
    ),
    ...given,
    missedRetry: { ...DEFAULT_MISSED_RETRY, ...definedOnly(overrides.missedRetry ?? {}) },
  };
  const positive: (keyof Limits)[] = [
    "maxBodyBytes",
    "maxBufferedBodyBytes",
    "bodyIdleTimeoutMs",
    "headersTimeoutMs",
    "keepAliveTimeoutMs",
    "maxConnections",
    "maxOutgoingConnections",
    "fanoutConcurrency",
    "connectTimeoutMs",
    "totalTimeoutMs",
    "readIdleTimeoutMs",
    "writeIdleTimeoutMs",
    "sweepIntervalMs",
    "sweepBatchSize",
    "missedLeaseMs",
    "websocketConfigureTimeoutMs",
    "websocketMaxIncomingBytes",
    "websocketMaxMessageBytes",
    "websocketMaxUnprocessed",
    "websocketMaxPendingSends",
    "websocketMaxBufferedBytes",
    "websocketMaxQueuedBytes",
    "websocketStallTimeoutMs",
    "relayReconcileMs",
    "sqliteBusyTimeoutMs",
    "spoolQuotaBytes",
  ];
  for (const key of positive) requirePositive(key, limits[key] as number);
  requireNonNegative("websocketMaxUnacknowledged", limits.websocketMaxUnacknowledged);
  requireNonNegative("bodyMinBytesPerSecond", limits.bodyMinBytesPerSecond);
  requireNonNegative("writeMinBytesPerSecond", limits.writeMinBytesPerSecond);
  for (const key of ["maxConnections", "maxOutgoingConnections"] as const) {
    if (!Number.isInteger(limits[key])) {
      throw new RangeError(`Invalid option: ${key} must be an integer, got ${limits[key]}`);
    }
  }
  if (limits.maxBufferedBodyBytes < limits.maxBodyBytes) {
    throw new RangeError(
      `Invalid option: maxBufferedBodyBytes (${limits.maxBufferedBodyBytes}) must be at least ` +
        `maxBodyBytes (${limits.maxBodyBytes}), or no body that large could ever be accepted`,
    );
  }
  if (limits.websocketMaxMessageBytes < 1024 || limits.websocketMaxMessageBytes > 4 * 1024 * 1024) {
    throw new RangeError(
      `Invalid option: websocketMaxMessageBytes must be from 1024 to 4194304 (the official ` +
        `client refuses larger messages), got ${limits.websocketMaxMessageBytes}`,
    );
  }
  requireNonNegative("spoolThresholdBytes", limits.spoolThresholdBytes);
  if (typeof limits.deliverWhileReceiving !== "boolean") {
    throw new RangeError(
      `Invalid option: deliverWhileReceiving must be true or false, got ${limits.deliverWhileReceiving}`,
    );
  }
  if (!(limits.maxNotifyBytes > 0)) {
    throw new RangeError(
      `Invalid option: maxNotifyBytes must be a positive number (or Infinity), got ${limits.maxNotifyBytes}`,
    );
  }
  if (!Number.isInteger(limits.fanoutConcurrency) || !Number.isInteger(limits.sweepBatchSize)) {
    throw new RangeError("Invalid option: fanoutConcurrency and sweepBatchSize must be integers");
  }
  if (limits.missedLeaseMs <= limits.totalTimeoutMs) {
    throw new RangeError(
      `Invalid option: missedLeaseMs (${limits.missedLeaseMs}) must exceed totalTimeoutMs ` +
        `(${limits.totalTimeoutMs}) so a lease outlives its MISSED request`,
    );
  }
  const r = limits.missedRetry;
  requireNonNegative("missedRetry.maxRetries", r.maxRetries);
  requireNonNegative("missedRetry.expoFactor", r.expoFactor);
  requirePositive("missedRetry.expoBase", r.expoBase);
  requireNonNegative("missedRetry.expoMax", r.expoMax);
  requireNonNegative("missedRetry.constantSeconds", r.constantSeconds);
  requireNonNegative("missedRetry.jitterSeconds", r.jitterSeconds);
  return limits;
}

function requirePositive(name: string, v: number): void {
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
    throw new RangeError(`Invalid option: ${name} must be a positive number, got ${v}`);
  }
}

function requireNonNegative(name: string, v: number): void {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw new RangeError(`Invalid option: ${name} must be a non-negative number, got ${v}`);
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** How the broadcaster looks after its subscriptions (`docs/subscriptions.md`). */
export interface SubscriptionCare {
  /** Keep delivery statistics per subscription. Default true. */
  readonly deliveryStats: boolean;
  /** How often the statistics are written to the store, ms. Default 5000. */
  readonly statsFlushIntervalMs: number;
  /**
   * A subscription not renewed (by a repeated subscribe or a
   * set_subscriptions that keeps it) within this many seconds is removed.
   * Null (default): no leases.
   */
  readonly subscriptionLeaseSeconds: number | null;
  /**
   * A url whose deliveries have all failed for this many seconds loses its
   * subscriptions (suggested: 432000, 5 days). Null (default): never.
   */
  readonly pruneFailingAfterSeconds: number | null;
  /** How often leases and pruning are checked, ms. Default 60000. */
  readonly subscriptionSweepIntervalMs: number;
}

/** Defaults of {@link SubscriptionCare}. */
export const DEFAULT_SUBSCRIPTION_CARE: SubscriptionCare = {
  deliveryStats: true,
  statsFlushIntervalMs: 5_000,
  subscriptionLeaseSeconds: null,
  pruneFailingAfterSeconds: null,
  subscriptionSweepIntervalMs: 60_000,
};

/** Merges overrides into {@link DEFAULT_SUBSCRIPTION_CARE} and checks them. */
export function resolveSubscriptionCare(given: Partial<SubscriptionCare> = {}): SubscriptionCare {
  const care = { ...DEFAULT_SUBSCRIPTION_CARE, ...definedOnly(given) };
  requirePositive("statsFlushIntervalMs", care.statsFlushIntervalMs);
  requirePositive("subscriptionSweepIntervalMs", care.subscriptionSweepIntervalMs);
  if (care.subscriptionLeaseSeconds !== null) {
    requirePositive("subscriptionLeaseSeconds", care.subscriptionLeaseSeconds);
  }
  if (care.pruneFailingAfterSeconds !== null) {
    requirePositive("pruneFailingAfterSeconds", care.pruneFailingAfterSeconds);
  }
  return care;
}
