/**
 * One RECEIVE (docs/protocol/http.md#receive) to one subscriber and the
 * interpretation of its answer (docs/protocol/http.md#subscriber-answers).
 *
 * @module
 */

import type { Context } from "../core/context.ts";
import {
  bytesEqual,
  encodeReceiveHeader,
  ParseError,
  parseReceiveResponse,
  reprDigestHeader,
} from "../protocol/mod.ts";
import { postBytes, type PostOptions } from "../outbound/http_client.ts";
import { randomIdentifier } from "../crypto/random.ts";
import { holding } from "./semaphore.ts";
import type { OutgoingMessage } from "../core/message.ts";

/**
 * Longest well-formed RESPONSE_CONFIRM_RECEIVE: type, lp16 authorization,
 * lp16 tracing, lp8 identifier, u32. Longer answers are cut here; the parser
 * ignores trailing bytes anyway, so no outcome changes.
 */
export const MAX_RECEIVE_RESPONSE_BYTES = 2 + 2 + 65_535 + 2 + 65_535 + 1 + 255 + 4;

export type { OutgoingMessage } from "../core/message.ts";

/** What one subscriber's answer means. */
export type ReceiveOutcome =
  | { readonly kind: "confirmed"; readonly numSubscribers: number }
  | { readonly kind: "unsubscribe" }
  | { readonly kind: "failed"; readonly reason: string; readonly refused?: boolean };

/**
 * POSTs RECEIVE to `url` and interprets the answer; never throws. Holds one
 * of the broadcaster's outgoing slots (`ctx.outgoing`) for the whole exchange.
 */
export function sendReceive(
  ctx: Context,
  url: string,
  msg: OutgoingMessage,
  signal?: AbortSignal,
): Promise<ReceiveOutcome> {
  // Taken before signing, so a long wait never ages the authorization.
  return holding(ctx.outgoing, signal, SHUTTING_DOWN, () => exchange(ctx, url, msg, signal));
}

const SHUTTING_DOWN: ReceiveOutcome = { kind: "failed", reason: "Shutting down" };
const NO_TRACING = new Uint8Array(0);

async function exchange(
  ctx: Context,
  url: string,
  msg: OutgoingMessage,
  signal?: AbortSignal,
): Promise<ReceiveOutcome> {
  // The reference sends a fresh 8-byte identifier per subscriber, and empty tracing.
  const identifier = randomIdentifier(8);
  const tracing = NO_TRACING;
  const header = encodeReceiveHeader({
    tracing,
    topic: msg.topic,
    identifier,
    length: msg.message.length,
  });
  const authorization = await ctx.auth.toSubscriber.authorize(
    { type: "receive", url, topic: msg.topic, identifier, sha512: msg.sha512 },
    tracing,
    ctx.now(),
  );
  const headers: Record<string, string> = {
    "content-type": "application/octet-stream",
    "repr-digest": digestHeaderOf(msg.sha512),
  };
  if (authorization !== null) headers["authorization"] = authorization;
  const limits = ctx.limits;
  const opts: { -readonly [K in keyof PostOptions]: PostOptions[K] } = {
    headers,
    body: () => msg.message.withPrefix(header),
    totalTimeoutMs: limits.totalTimeoutMs,
    connectTimeoutMs: limits.connectTimeoutMs,
    readIdleTimeoutMs: limits.readIdleTimeoutMs,
    writeIdleTimeoutMs: limits.writeIdleTimeoutMs,
    writeMinBytesPerSecond: limits.writeMinBytesPerSecond,
    maxResponseBytes: MAX_RECEIVE_RESPONSE_BYTES,
  };
  // Set only when present (no spread of a temporary object per RECEIVE).
  if (signal !== undefined) opts.signal = signal;
  if (ctx.outbound !== null) opts.guard = ctx.outbound;
  const res = await postBytes(url, opts);
  if (!res.ok) return { kind: "failed", reason: res.reason, refused: res.refused === true };
  // The status is ignored, as in the reference: only the body counts.
  let answer: ReturnType<typeof parseReceiveResponse>;
  try {
    answer = parseReceiveResponse(res.body);
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    return { kind: "failed", reason: `Bad response (status ${res.status}): ${error.message}` };
  }
  if (answer.type === "unsubscribe_immediate") return { kind: "unsubscribe" };
  // Unlike the reference, require the echoed identifier to match
  // (docs/decisions.md#the-echoed-identifier).
  if (!bytesEqual(answer.identifier, identifier)) {
    return { kind: "failed", reason: "Confirmation for a different identifier" };
  }
  const verdict = await ctx.auth.toBroadcaster.verify(
    {
      type: "confirm_receive",
      identifier: answer.identifier,
      numSubscribers: answer.numSubscribers,
      url,
    },
    answer.tracing,
    answer.authorization,
    ctx.now(),
  );
  if (verdict !== "ok") return { kind: "failed", reason: `Confirmation auth: ${verdict}` };
  return { kind: "confirmed", numSubscribers: answer.numSubscribers };
}

/** A failed RECEIVE's class, as stored: `refused`, `timeout`, `http <status>` or `error`. */
export function failureClass(outcome: ReceiveOutcome & { readonly kind: "failed" }): string {
  if (outcome.refused === true) return "refused";
  if (/timeout/i.test(outcome.reason)) return "timeout";
  const status = /status (\d{3})/.exec(outcome.reason);
  if (status !== null) return `http ${status[1]}`;
  return "error";
}

/** The last digest encoded: a fan-out sends the same one to every subscriber. */
let lastDigest: { sha512: Uint8Array; header: string } | null = null;

function digestHeaderOf(sha512: Uint8Array): string {
  if (lastDigest?.sha512 !== sha512) lastDigest = { sha512, header: reprDigestHeader(sha512) };
  return lastDigest.header;
}
