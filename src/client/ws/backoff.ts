/**
 * Reconnect delays: exponential backoff with full jitter (a uniformly random
 * delay between 0 and the capped exponential), as centrifuge-js does.
 *
 * @module
 */

import { ClientError } from "../errors.ts";

/** Reconnect policy of the websocket client. */
export interface ReconnectOptions {
  /** Base of the exponential, ms. Default 500. */
  readonly minDelayMs?: number;
  /** Cap of the exponential, ms. Default 20 000. */
  readonly maxDelayMs?: number;
  /**
   * Consecutive failed attempts after which the client gives up (status
   * `"abandoned"`). Default `Infinity`: it keeps trying.
   */
  readonly maxAttempts?: number;
}

/** Resolved {@link ReconnectOptions}. */
export interface Backoff {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxAttempts: number;
}

/** Checks and completes `o`. */
export function resolveBackoff(o: ReconnectOptions = {}): Backoff {
  const b = {
    minDelayMs: o.minDelayMs ?? 500,
    maxDelayMs: o.maxDelayMs ?? 20_000,
    maxAttempts: o.maxAttempts ?? Infinity,
  };
  if (!(b.minDelayMs >= 0) || !(b.maxDelayMs >= b.minDelayMs) || !(b.maxAttempts >= 1)) {
    throw new ClientError("invalid", `Invalid reconnect options: ${JSON.stringify(o)}`);
  }
  return b;
}

/** The delay before attempt `attempt` (0-based count of failures so far). */
export function backoffDelay(b: Backoff, attempt: number, random = Math.random): number {
  const cap = Math.min(b.maxDelayMs, b.minDelayMs * 2 ** Math.min(attempt, 30));
  return random() * cap;
}

/** Waits `ms` unless `signal` fires first (then resolves early); never leaves a timer behind. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
