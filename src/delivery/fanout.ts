/**
 * Notify fan-out (stateless-http.md §7.3–§7.5): RECEIVE to every matching
 * subscriber, concurrently but bounded (a project decision, §12; the
 * reference is sequential), then count, unsubscribe or schedule MISSED.
 *
 * @module
 */

import type { Context } from "../http/context.ts";
import type { Subscriber } from "../storage/types.ts";
import { subscriptionKey } from "./keys.ts";
import { forEachConcurrent } from "./limiter.ts";
import { missedDelaySeconds } from "./missed_policy.ts";
import { sendReceive } from "./receive.ts";
import type { OutgoingMessage, ReceiveOutcome } from "./receive.ts";

/**
 * Delivers `msg` to every subscriber of its topic. Returns the sum of the
 * confirmed `num_subscribers`, or `"unavailable"` when the store cannot list
 * subscribers. A subscriber's failure (network, timeout, bad answer) never
 * fails the notify.
 */
export async function fanOut(
  ctx: Context,
  msg: OutgoingMessage,
  signal?: AbortSignal,
): Promise<number | "unavailable"> {
  const subscribers = await ctx.store.getSubscribers(msg.topic);
  if (subscribers === "unavailable") return "unavailable";
  let count = 0;
  await forEachConcurrent(subscribers, ctx.limits.fanoutConcurrency, async (sub) => {
    let outcome: ReceiveOutcome;
    try {
      outcome = await sendReceive(ctx, sub.url, msg, signal);
    } catch (error) {
      // An auth strategy or other programming error: this subscriber only.
      outcome = { kind: "failed", reason: error instanceof Error ? error.message : String(error) };
    }
    switch (outcome.kind) {
      case "confirmed":
        count += outcome.numSubscribers;
        return;
      case "unsubscribe":
        await unsubscribe(ctx, sub, msg.topic);
        return;
      case "failed":
        ctx.log.warn("RECEIVE failed", { url: sub.url, reason: outcome.reason });
        await scheduleMissed(ctx, sub, msg.topic);
        return;
    }
  });
  return count;
}

async function unsubscribe(ctx: Context, sub: Subscriber, topic: Uint8Array): Promise<void> {
  const result = sub.kind === "exact"
    ? await ctx.store.unsubscribeExact(sub.url, topic)
    : await ctx.store.unsubscribeGlob(sub.url, sub.glob);
  // The reference answers the whole notify with 500 here; we log and carry on,
  // since the other subscribers were reached and the notifier cannot fix it.
  if (result === "unavailable") {
    ctx.log.warn("Unsubscribe-immediate not stored: store unavailable", { url: sub.url });
  }
}

async function scheduleMissed(ctx: Context, sub: Subscriber, topic: Uint8Array): Promise<void> {
  if (sub.recovery === null) return;
  const delay = missedDelaySeconds(ctx.limits.missedRetry, 0);
  if (delay === null) return;
  const nextRetryAt = Math.round(ctx.now() * 1000 + delay * 1000);
  const result = await ctx.store.upsertMissed(subscriptionKey(sub, topic), sub.recovery, topic, {
    attempts: 0,
    nextRetryAt,
  });
  if (result === "unavailable") {
    ctx.log.warn("Missed record not stored: store unavailable", { url: sub.url });
  }
}
