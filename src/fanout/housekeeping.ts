/**
 * Subscriptions that look after themselves: on a timer, removes the
 * subscriptions whose lease ran out (`subscriptionLeaseSeconds`) and the
 * urls whose deliveries have all failed for `pruneFailingAfterSeconds`.
 * Each removal is logged, counted and kept in the store's prune audit.
 * Websocket relay rows are spared: they live as long as their connections.
 *
 * Several broadcasters sharing a database may all run it: a pass removes
 * what qualifies, and a second pass finds nothing left.
 *
 * @module
 */

import { backgroundTimeout } from "../background_timer.ts";
import type { Context } from "../core/context.ts";
import { RELAY_RECEIVE_PATH } from "../core/local.ts";
import type { SubscriptionCare } from "../core/limits.ts";
import type { PrunedUrl, PruneRule } from "../storage/types.ts";

/** A running housekeeper. */
export interface Housekeeper {
  /** Stops the timer and waits for a pass in progress. */
  stop(): Promise<void>;
}

/** What one pass removed. */
export interface HousekeepingPass {
  /** Urls whose subscriptions' leases ran out. */
  readonly expired: PrunedUrl[];
  /** Urls pruned for failing. */
  readonly pruned: PrunedUrl[];
}

/**
 * Starts the passes (none when neither leases nor pruning are on): one
 * `subscriptionSweepIntervalMs` after the end of each, the first right away.
 */
export function startHousekeeping(
  ctx: Context,
  care: SubscriptionCare,
  onPass?: (pass: HousekeepingPass) => void,
): Housekeeper | null {
  if (care.subscriptionLeaseSeconds === null && care.pruneFailingAfterSeconds === null) {
    return null;
  }
  let stopped = false;
  let cancel: (() => void) | undefined;
  let current: Promise<void> = Promise.resolve();
  const run = () => {
    cancel = undefined;
    current = housekeepOnce(ctx, care)
      .then((pass) => {
        ctx.metrics.housekeepingPasses++;
        onPass?.(pass);
      })
      .catch((error) => ctx.log.error("Subscription housekeeping failed", { error }))
      .finally(() => {
        if (!stopped) cancel = backgroundTimeout(care.subscriptionSweepIntervalMs, run);
      });
  };
  run();
  return {
    async stop() {
      stopped = true;
      cancel?.();
      await current;
    },
  };
}

/** One pass: expire leases, then prune failing urls. */
export async function housekeepOnce(
  ctx: Context,
  care: SubscriptionCare,
): Promise<HousekeepingPass> {
  const now = Math.round(ctx.now() * 1000);
  const expired = care.subscriptionLeaseSeconds === null ? [] : await remove(ctx, {
    kind: "lease",
    before: now - care.subscriptionLeaseSeconds * 1000,
    exceptSuffix: RELAY_RECEIVE_PATH,
  }, now);
  const pruned = care.pruneFailingAfterSeconds === null ? [] : await remove(ctx, {
    kind: "failing",
    before: now - care.pruneFailingAfterSeconds * 1000,
    exceptSuffix: RELAY_RECEIVE_PATH,
  }, now);
  return { expired, pruned };
}

async function remove(ctx: Context, rule: PruneRule, now: number): Promise<PrunedUrl[]> {
  const urls = await ctx.store.pruneSubscriptions(rule, { now });
  if (urls === "unavailable") {
    ctx.faults.warn("Subscription housekeeping skipped: store unavailable", { rule: rule.kind });
    return [];
  }
  for (const u of urls) {
    const n = u.exacts + u.globs;
    if (rule.kind === "lease") ctx.metrics.subscriptionsExpired += n;
    else ctx.metrics.subscriptionsPruned += n;
    ctx.log.info(
      rule.kind === "lease" ? "Subscriptions expired (lease not renewed)" : "Failing url pruned",
      { url: u.url, exacts: u.exacts, globs: u.globs },
    );
  }
  return urls;
}
