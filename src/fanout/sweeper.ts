/**
 * The missed-message sweeper (docs/protocol/storage.md#the-sweeper):
 * leases overdue missed records, POSTs MISSED, then clears or reschedules
 * them. The subscription itself is never deleted (docs/decisions.md#missed-messages).
 *
 * Several broadcasters may share one database: the store's leases make sure
 * one record is attempted by one of them at a time, provided
 * `missedLeaseMs > totalTimeoutMs` (a lease outlives its request).
 *
 * @module
 */

import { backgroundTimeout } from "../background_timer.ts";
import type { Context } from "../core/context.ts";
import type { LeasedMissed } from "../storage/types.ts";
import { subscriptionKeyText } from "./keys.ts";
import { forEachConcurrent } from "./limiter.ts";
import { missedDelaySeconds } from "./missed_policy.ts";
import { sendMissed } from "./missed_send.ts";

/** A running sweeper. */
export interface Sweeper {
  /** Stops the timer, aborts in-flight MISSED requests and waits for the pass. */
  stop(): Promise<void>;
}

/** What one pass did (for metrics and tests). */
export interface SweepStats {
  /** MISSED requests whose delivery succeeded (record cleared). */
  delivered: number;
  /** MISSED requests that failed (record rescheduled or given up). */
  failed: number;
}

/** Optional hooks of {@link startSweeper}. */
export interface SweeperOptions {
  /** Called after every completed pass. */
  readonly onPass?: (stats: SweepStats) => void;
}

/**
 * Starts sweeping: one pass now, then one `sweepIntervalMs` after the end of
 * each pass. A failing pass is logged; the next one still runs.
 */
export function startSweeper(ctx: Context, options: SweeperOptions = {}): Sweeper {
  const abort = new AbortController();
  let cancel: (() => void) | undefined;
  let current: Promise<void> = Promise.resolve();
  const run = () => {
    cancel = undefined;
    current = sweepOnce(ctx, abort.signal)
      .then((stats) => options.onPass?.(stats))
      .catch((error) => ctx.log.error("Sweep pass failed", { error }))
      .finally(() => {
        if (!abort.signal.aborted) cancel = backgroundTimeout(ctx.limits.sweepIntervalMs, run);
      });
  };
  run();
  return {
    async stop() {
      abort.abort();
      cancel?.();
      await current;
      cancel?.();
    },
  };
}

/**
 * One pass: lease batches until none is left. Records rescheduled in this
 * pass are due later than its start, so they are not leased again; a record
 * seen twice (a zero delay) ends the pass rather than spinning.
 */
export async function sweepOnce(ctx: Context, signal?: AbortSignal): Promise<SweepStats> {
  const stats: SweepStats = { delivered: 0, failed: 0 };
  const seen = new Set<string>();
  while (!signal?.aborted) {
    const batch = await ctx.store.leaseOverdueMissed(
      Math.floor(ctx.now() * 1000),
      ctx.limits.sweepBatchSize,
      ctx.limits.missedLeaseMs,
    );
    if (batch === "unavailable") {
      ctx.log.warn("Sweep skipped: store unavailable");
      return stats;
    }
    if (batch.length === 0) return stats;
    let repeated = false;
    await forEachConcurrent(batch, ctx.limits.fanoutConcurrency, async (leased) => {
      const key = subscriptionKeyText(leased.subscription);
      if (seen.has(key)) {
        repeated = true;
        await release(ctx, leased, { attempts: leased.attempts, nextRetryAt: leased.nextRetryAt });
        return;
      }
      seen.add(key);
      try {
        if (await attempt(ctx, leased, signal)) stats.delivered++;
        else stats.failed++;
      } catch (error) {
        stats.failed++;
        ctx.log.error("MISSED attempt failed unexpectedly", { url: leased.recovery, error });
      }
    });
    if (repeated) return stats;
  }
  return stats;
}

/** One record: true when MISSED was delivered. */
async function attempt(
  ctx: Context,
  leased: LeasedMissed,
  signal?: AbortSignal,
): Promise<boolean> {
  const started = performance.now();
  ctx.metrics.deliveriesInFlight++;
  let outcome: Awaited<ReturnType<typeof sendMissed>>;
  try {
    outcome = await sendMissed(ctx, leased.recovery, leased.topic, signal);
  } finally {
    ctx.metrics.deliveriesInFlight--;
  }
  const seconds = (performance.now() - started) / 1000;
  ctx.metrics.delivery("missed", outcome.ok ? "confirmed" : "failed", seconds);
  if (outcome.ok) {
    await release(ctx, leased, null);
    return true;
  }
  if (signal?.aborted) {
    // Shutting down: hand the record back untouched for the next process.
    await release(ctx, leased, { attempts: leased.attempts, nextRetryAt: leased.nextRetryAt });
    return false;
  }
  ctx.log.warn("MISSED failed", { url: leased.recovery, reason: outcome.reason });
  const attempts = leased.attempts + 1;
  const delay = missedDelaySeconds(ctx.limits.missedRetry, attempts);
  await release(
    ctx,
    leased,
    delay === null ? null : { attempts, nextRetryAt: Math.round(ctx.now() * 1000 + delay * 1000) },
  );
  return false;
}

async function release(
  ctx: Context,
  leased: LeasedMissed,
  retry: { attempts: number; nextRetryAt: number } | null,
): Promise<void> {
  const result = await ctx.store.releaseMissed(leased, retry);
  // conflict: a newer failure replaced the record, or the lease expired; either
  // way the record is someone else's now.
  if (result !== "ok") ctx.log.warn("Missed release not applied", { url: leased.recovery, result });
}
