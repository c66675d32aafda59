/**
 * What every route receives besides the request.
 *
 * @module
 */

import type { AuthConfig } from "../auth/types.ts";
import type { Store } from "../storage/types.ts";
import type { Logger } from "../log.ts";

/** Limits and tunables the routes and the delivery code read. */
export interface Limits {
  /** Largest request body accepted by every route but notify, bytes (413 beyond). */
  readonly maxBodyBytes: number;
  /** Notify bodies up to this size stay in memory; larger ones are spooled to disk. */
  readonly spoolThresholdBytes: number;
  /** Directory for spooled notify bodies. */
  readonly spoolDir: string;
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
}

/** A route: request in, response out; never throws for bad input. */
export type Route = (req: Request, ctx: Context) => Promise<Response>;
