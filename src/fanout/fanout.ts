/**
 * Notify fan-out (docs/protocol/http.md#receive to docs/protocol/http.md#missed-handling): RECEIVE
 * to every matching subscriber, concurrently but bounded (docs/decisions.md#concurrent-fan-out; the
 * reference is sequential), then count, unsubscribe or schedule MISSED. Both transports call it: a
 * notify over HTTP or over a websocket reaches webhooks, other broadcasters' websockets (their
 * relay rows) and this process's websockets alike.
 *
 * Relay rows (docs/decisions.md#no-duplicates-on-a-connection): rows of this process are served
 * locally, once, without the HTTP hop; rows of another broadcaster get one RECEIVE per url however
 * many of its rows match, so no connection is reached twice. Webhook urls keep one RECEIVE per
 * matching row, as the reference does.
 *
 * @module
 */

import type { Context } from "../core/context.ts";
import { toHex } from "../protocol/mod.ts";
import { RELAY_RECEIVE_PATH } from "../core/local.ts";
import type { Subscriber } from "../storage/types.ts";
import { subscriptionKey, subscriptionKeyText } from "./keys.ts";
import { forEachConcurrent } from "./limiter.ts";
import { missedDelaySeconds } from "./missed_policy.ts";
import { failureClass, sendReceive } from "./receive.ts";
import type { OutgoingMessage, ReceiveOutcome } from "./receive.ts";

/**
 * Delivers `msg` to every subscriber of its topic. Returns the sum of the
 * confirmed `num_subscribers`, or `"unavailable"` when the store cannot list
 * subscribers. A subscriber's failure (network, timeout, bad answer) never
 * fails the notify.
 *
 * `signal` cuts the deliveries in progress and starts no more. A message abandoned while it
 * was delivered (`HeldMessage.abandoned`: it failed its SHA-512,
 * docs/decisions.md#delivered-while-it-arrives) was never a message: what its deliveries could
 * not deliver is not missed (no MISSED, no statistics).
 */
export async function fanOut(
  ctx: Context,
  msg: OutgoingMessage,
  signal?: AbortSignal,
): Promise<number | "unavailable"> {
  const rows = await ctx.store.getSubscribers(msg.topic);
  if (rows === "unavailable") return "unavailable";
  const metrics = ctx.metrics;
  const size = Number(msg.message.length);
  metrics.notifies++;
  metrics.bytesIn += size;
  const { remote, ownRows } = partition(ctx, rows);
  let count = 0;
  if (ownRows.length > 0) {
    // Paced by this process's websocket subscribers (see LocalSubscribers.room).
    const queued = await deliverLocally(ctx, msg);
    metrics.websocketDeliveries += queued;
    count += queued;
    for (const row of ownRows) {
      // A row of ours that no connection stands for (left by a crash, or a
      // race with the last unsubscribe): the relay route would refuse it.
      if (!ctx.local.holds(row, msg.topic)) await unsubscribe(ctx, row, msg.topic);
    }
  }
  await forEachConcurrent(remote, ctx.limits.fanoutConcurrency, async (sub) => {
    let outcome: ReceiveOutcome;
    const started = performance.now();
    metrics.deliveriesInFlight++;
    try {
      outcome = await sendReceive(ctx, sub.url, msg, signal);
    } catch (error) {
      // An auth strategy or other programming error: this subscriber only.
      outcome = { kind: "failed", reason: error instanceof Error ? error.message : String(error) };
    } finally {
      metrics.deliveriesInFlight--;
    }
    if (msg.message.abandoned === true) {
      metrics.delivery("receive", "abandoned", (performance.now() - started) / 1000);
      return;
    }
    metrics.bytesOut += size;
    if (ctx.stats !== null && outcome.kind !== "unsubscribe") {
      const key = subscriptionKey(sub, msg.topic);
      ctx.stats.record(
        key,
        subscriptionKeyText(key),
        outcome.kind === "failed" ? failureClass(outcome) : null,
        ctx.now() * 1000,
      );
    }
    metrics.delivery(
      "receive",
      outcome.kind === "unsubscribe" ? "unsubscribed" : outcome.kind,
      (performance.now() - started) / 1000,
    );
    switch (outcome.kind) {
      case "confirmed":
        count += outcome.numSubscribers;
        return;
      case "unsubscribe":
        await unsubscribe(ctx, sub, msg.topic);
        return;
      case "failed":
        ctx.log.warn("RECEIVE failed", { url: sub.url, reason: outcome.reason });
        if (outcome.refused === true && isRelayUrl(sub.url)) {
          // Nobody listens where that broadcaster was: it is gone with its
          // connections (they reconnect elsewhere and subscribe again).
          await unsubscribe(ctx, sub, msg.topic);
          return;
        }
        await scheduleMissed(ctx, sub, msg.topic);
        return;
    }
  });
  return count;
}

/** Per set of local subscribers, per topic (hex): the last fan-out waiting for its turn. */
const turns = new WeakMap<object, Map<string, Promise<unknown>>>();

/**
 * Waits for room, then hands `msg` to this process's websockets, one
 * fan-out of a topic at a time. The check of room and the delivery after it
 * must not interleave with another fan-out's: notifies whose requests are
 * read in the same turn of the event loop (the Deno front serves several
 * connections' requests in one) would otherwise all see room, then all
 * deliver, and overflow the subscriber's queue (a 1013 close).
 */
function deliverLocally(ctx: Context, msg: OutgoingMessage): Promise<number> {
  const local = ctx.local;
  let byTopic = turns.get(local);
  if (byTopic === undefined) turns.set(local, byTopic = new Map());
  const key = toHex(msg.topic);
  const before = byTopic.get(key);
  const turn = async () => {
    await local.room(msg.topic);
    return local.deliver(msg);
  };
  const mine = before === undefined ? turn() : before.then(turn, turn);
  const tail = mine.catch(() => {});
  byTopic.set(key, tail);
  void tail.then(() => {
    if (byTopic.get(key) === tail) byTopic.delete(key);
  });
  return mine;
}

/** Splits rows into this process's relay rows and the rest (other relays once per url). */
function partition(
  ctx: Context,
  rows: Subscriber[],
): { remote: Subscriber[]; ownRows: Subscriber[] } {
  const own = ctx.local.receiveUrl;
  const ownRows: Subscriber[] = [];
  let remote = rows;
  let seen: Set<string> | null = null;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const mine = row.url === own;
    const relay = !mine && isRelayUrl(row.url);
    const duplicate = relay && (seen ??= new Set()).has(row.url);
    if (relay) seen!.add(row.url);
    if (!mine && !duplicate) {
      if (remote !== rows) remote.push(row);
      continue;
    }
    if (remote === rows) remote = rows.slice(0, i);
    if (mine) ownRows.push(row);
  }
  return { remote, ownRows };
}

function isRelayUrl(url: string): boolean {
  return url.endsWith(RELAY_RECEIVE_PATH);
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
