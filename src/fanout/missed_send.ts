/**
 * One MISSED (docs/protocol/http.md#missed) to a recovery url, with our success rule
 * (docs/decisions.md#missed-messages).
 *
 * @module
 */

import type { Context } from "../core/context.ts";
import { encodeMissed, ParseError, parseResponseConfirmMissed } from "../protocol/mod.ts";
import { postBytes } from "../outbound/http_client.ts";
import { holding } from "./semaphore.ts";

/** Longest well-formed RESPONSE_CONFIRM_MISSED: type, lp16 authorization, lp16 tracing. */
export const MAX_MISSED_RESPONSE_BYTES = 2 + 2 + 65_535 + 2 + 65_535;

/** The outcome of one MISSED attempt. */
export type MissedOutcome = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * POSTs MISSED for `topic` to `recovery`. Success needs a 2xx status (our
 * decision; the reference ignores it), a RESPONSE_CONFIRM_MISSED body and a
 * passing confirm_missed check. Never throws for network or peer errors.
 * Holds one of the broadcaster's outgoing slots (`ctx.outgoing`) meanwhile.
 */
export async function sendMissed(
  ctx: Context,
  recovery: string,
  topic: Uint8Array,
  signal?: AbortSignal,
): Promise<MissedOutcome> {
  return await holding(
    ctx.outgoing,
    signal,
    { ok: false, reason: "Shutting down" },
    () => exchange(ctx, recovery, topic, signal),
  );
}

async function exchange(
  ctx: Context,
  recovery: string,
  topic: Uint8Array,
  signal?: AbortSignal,
): Promise<MissedOutcome> {
  const tracing = new Uint8Array(0);
  const body = encodeMissed({ tracing, topic });
  const authorization = await ctx.auth.toSubscriber.authorize(
    { type: "missed", recovery, topic },
    tracing,
    ctx.now(),
  );
  const headers: Record<string, string> = { "content-type": "application/octet-stream" };
  if (authorization !== null) headers["authorization"] = authorization;
  const res = await postBytes(recovery, {
    headers,
    body,
    totalTimeoutMs: ctx.limits.totalTimeoutMs,
    connectTimeoutMs: ctx.limits.connectTimeoutMs,
    readIdleTimeoutMs: ctx.limits.readIdleTimeoutMs,
    writeIdleTimeoutMs: ctx.limits.writeIdleTimeoutMs,
    writeMinBytesPerSecond: ctx.limits.writeMinBytesPerSecond,
    maxResponseBytes: MAX_MISSED_RESPONSE_BYTES,
    ...(signal === undefined ? {} : { signal }),
    ...(ctx.outbound === null ? {} : { guard: ctx.outbound }),
  });
  if (!res.ok) return res;
  if (res.status < 200 || res.status > 299) return { ok: false, reason: `Status ${res.status}` };
  let answer: ReturnType<typeof parseResponseConfirmMissed>;
  try {
    answer = parseResponseConfirmMissed(res.body);
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    return { ok: false, reason: `Bad response: ${error.message}` };
  }
  const verdict = await ctx.auth.toBroadcaster.verify(
    { type: "confirm_missed", topic, url: recovery },
    answer.tracing,
    answer.authorization,
    ctx.now(),
  );
  return verdict === "ok" ? { ok: true } : { ok: false, reason: `Confirmation auth: ${verdict}` };
}
