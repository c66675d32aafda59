/**
 * Delivery statistics per subscription, kept cheap on the hot path: each
 * RECEIVE outcome updates one in-memory tally (a map look-up and a few
 * numbers), and the tallies go to the store in one batch every flush
 * interval and at shutdown. A process killed without shutdown loses at most
 * what it recorded since the last flush (`docs/subscriptions.md`).
 *
 * @module
 */

import { backgroundInterval } from "../background_timer.ts";
import type { Logger } from "../log.ts";
import type { Store, SubscriptionKey } from "../storage/types.ts";

interface Tally {
  subscription: SubscriptionKey;
  deliveries: number;
  failures: number;
  lastAttemptAt: number;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
  lastFailure: string | null;
  succeeded: boolean;
  trailingFailures: number;
  trailingSince: number | null;
}

/** Deliveries and failures over a recent window. */
export interface RecentCounts {
  /** RECEIVE attempts. */
  readonly deliveries: number;
  /** Of those, failures. */
  readonly failures: number;
}

const HOUR_S = 3600;

/** Collects delivery outcomes and flushes them to the store in batches. */
export class DeliveryStats {
  #store: Store;
  #log: Logger;
  #pending = new Map<string, Tally>();
  #stopTimer: (() => void) | null;
  #flushing: Promise<void> | null = null;
  #closed = false;
  // One slot per second of the last hour: attempts, failures, and which second it holds.
  #attempts = new Float64Array(HOUR_S);
  #fails = new Float64Array(HOUR_S);
  #second = new Float64Array(HOUR_S).fill(-1);

  /** Starts flushing every `flushIntervalMs`. */
  constructor(store: Store, opts: { readonly flushIntervalMs: number; readonly log: Logger }) {
    this.#store = store;
    this.#log = opts.log;
    this.#stopTimer = backgroundInterval(opts.flushIntervalMs, () => void this.flush());
  }

  /**
   * Records one delivery to `key` at `at` (epoch ms); `keyText` identifies
   * the row (`subscriptionKeyText`), `failure` is null for a success or the
   * failure's class.
   */
  record(key: SubscriptionKey, keyText: string, failure: string | null, at: number): void {
    let t = this.#pending.get(keyText);
    if (t === undefined) {
      t = {
        subscription: key,
        deliveries: 0,
        failures: 0,
        lastAttemptAt: at,
        lastSuccessAt: null,
        lastFailureAt: null,
        lastFailure: null,
        succeeded: false,
        trailingFailures: 0,
        trailingSince: null,
      };
      this.#pending.set(keyText, t);
    }
    t.deliveries++;
    t.lastAttemptAt = at;
    if (failure === null) {
      t.lastSuccessAt = at;
      t.succeeded = true;
      t.trailingFailures = 0;
      t.trailingSince = null;
    } else {
      t.failures++;
      t.lastFailureAt = at;
      t.lastFailure = failure;
      t.trailingFailures++;
      t.trailingSince ??= at;
    }
    const s = Math.floor(at / 1000);
    const i = s % HOUR_S;
    if (this.#second[i] !== s) {
      this.#second[i] = s;
      this.#attempts[i] = 0;
      this.#fails[i] = 0;
    }
    this.#attempts[i]!++;
    if (failure !== null) this.#fails[i]!++;
  }

  /** Deliveries over the last `seconds` (at most an hour) before `now` (epoch ms). */
  recent(seconds: number, now: number): RecentCounts {
    const end = Math.floor(now / 1000);
    let deliveries = 0, failures = 0;
    for (let s = end - Math.min(seconds, HOUR_S) + 1; s <= end; s++) {
      const i = ((s % HOUR_S) + HOUR_S) % HOUR_S;
      if (this.#second[i] !== s) continue;
      deliveries += this.#attempts[i]!;
      failures += this.#fails[i]!;
    }
    return { deliveries, failures };
  }

  /** Subscriptions with outcomes not yet written. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Writes what was recorded since the last flush in one batch. A batch the
   * store cannot take now is kept and merged into the next one.
   */
  flush(): Promise<void> {
    this.#flushing ??= this.#write().finally(() => (this.#flushing = null));
    return this.#flushing;
  }

  async #write(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    let result: string;
    try {
      result = await this.#store.recordDeliveries([...batch.values()]);
    } catch (error) {
      this.#log.error("Delivery statistics not stored", { error });
      return;
    }
    if (result === "success") return;
    this.#log.warn("Delivery statistics kept for the next flush: store unavailable", {
      subscriptions: batch.size,
    });
    if (this.#closed) return;
    for (const [k, older] of batch) {
      const newer = this.#pending.get(k);
      this.#pending.set(k, newer === undefined ? older : merge(older, newer));
    }
  }

  /** Stops the timer and writes what is left (call before closing the store). */
  async close(): Promise<void> {
    this.#stopTimer?.();
    this.#stopTimer = null;
    await this.#flushing;
    this.#closed = true;
    await this.flush();
  }
}

function merge(a: Tally, b: Tally): Tally {
  return {
    subscription: b.subscription,
    deliveries: a.deliveries + b.deliveries,
    failures: a.failures + b.failures,
    lastAttemptAt: Math.max(a.lastAttemptAt, b.lastAttemptAt),
    lastSuccessAt: b.lastSuccessAt ?? a.lastSuccessAt,
    lastFailureAt: b.lastFailureAt ?? a.lastFailureAt,
    lastFailure: b.lastFailure ?? a.lastFailure,
    succeeded: a.succeeded || b.succeeded,
    trailingFailures: b.succeeded ? b.trailingFailures : a.trailingFailures + b.trailingFailures,
    trailingSince: b.succeeded ? b.trailingSince : a.trailingSince ?? b.trailingSince,
  };
}
