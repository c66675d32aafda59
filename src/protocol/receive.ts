/**
 * RECEIVE (broadcaster → subscriber, docs/protocol/http.md#receive), the subscriber's
 * answers to it (docs/protocol/http.md#subscriber-answers: RESPONSE_CONFIRM_RECEIVE,
 * RESPONSE_UNSUBSCRIBE_IMMEDIATE)
 * and the `Repr-Digest` header that carries the message hash.
 *
 * Parsed byte fields are views into the input; copy them to keep them.
 *
 * @module
 */

import { fromCheckedBase64, toBase64 } from "../portable.ts";
import { ParseError, parseIncrementally, Reader, Writer } from "./bytes.ts";
import { SubscriberToBroadcasterType } from "./types.ts";

/** Everything of a RECEIVE body before the message. */
export interface ReceiveHeader {
  /** Opaque tracing bytes (the reference sends empty). */
  tracing: Uint8Array;
  /** Topic bytes. */
  topic: Uint8Array;
  /** Per-delivery identifier (8 random bytes in the reference). */
  identifier: Uint8Array;
  /** Message length M that must follow the header exactly. */
  length: bigint;
}

/** RESPONSE_CONFIRM_RECEIVE fields. */
export interface ResponseConfirmReceive {
  /** Authorization text; null is sent as length 0. */
  authorization: string | null;
  /** Tracing bytes. */
  tracing: Uint8Array;
  /** Echo of the RECEIVE's identifier (not compared by the broadcaster). */
  identifier: Uint8Array;
  /** How many subscribers the receiver delivered to (`u32`). */
  numSubscribers: number;
}

/** A subscriber's answer to RECEIVE, as the broadcaster interprets it. */
export type ReceiveResponse =
  | ({ type: "confirm_receive" } & ResponseConfirmReceive)
  | { type: "unsubscribe_immediate" };

/**
 * Encodes a RECEIVE header: `lp16 tracing`, `lp16 topic`, `lp8 identifier`, `u64 M`.
 *
 * @throws {RangeError} when a field exceeds its prefix
 */
export function encodeReceiveHeader(h: ReceiveHeader): Uint8Array {
  return new Writer(h.tracing.length + h.topic.length + h.identifier.length + 13)
    .lp16(h.tracing).lp16(h.topic).lp8(h.identifier).u64(h.length).finish();
}

/**
 * Parses a RECEIVE header from the start of `b`; null while `b` is too short
 * (never throws: every prefix of a header is a valid prefix).
 */
export function parseReceiveHeader(
  b: Uint8Array,
): { header: ReceiveHeader; headerLength: number } | null {
  return parseIncrementally(b, (r) => {
    const tracing = r.lp16("tracing");
    const topic = r.lp16("topic");
    const identifier = r.lp8("identifier");
    const length = r.u64("message length");
    return { header: { tracing, topic, identifier, length }, headerLength: r.offset };
  });
}

/**
 * Encodes RESPONSE_CONFIRM_RECEIVE: `00 08`, authorization, tracing,
 * `lp8 identifier`, `u32 numSubscribers`.
 *
 * @throws {RangeError} when a field exceeds its prefix
 */
export function encodeResponseConfirmReceive(r: ResponseConfirmReceive): Uint8Array {
  return new Writer(r.tracing.length + 64).u16(SubscriberToBroadcasterType.RESPONSE_CONFIRM_RECEIVE)
    .lp16Optional(r.authorization).lp16(r.tracing).lp8(r.identifier).u32(r.numSubscribers)
    .finish();
}

/** RESPONSE_UNSUBSCRIBE_IMMEDIATE: the two bytes `00 0a`. */
export function encodeResponseUnsubscribeImmediate(): Uint8Array {
  return new Writer(2).u16(SubscriberToBroadcasterType.RESPONSE_UNSUBSCRIBE_IMMEDIATE).finish();
}

/**
 * Interprets a subscriber's answer to RECEIVE like the reference: type 10 →
 * unsubscribe immediate (rest ignored); type 8 → its fields, trailing bytes
 * ignored; anything else (including an empty body) → ParseError.
 */
export function parseReceiveResponse(body: Uint8Array): ReceiveResponse {
  const r = new Reader(body);
  const type = r.u16("type");
  if (type === SubscriberToBroadcasterType.RESPONSE_UNSUBSCRIBE_IMMEDIATE) {
    return { type: "unsubscribe_immediate" };
  }
  if (type !== SubscriberToBroadcasterType.RESPONSE_CONFIRM_RECEIVE) {
    throw new ParseError(`Unexpected message type: ${type}, expected 8 or 10`);
  }
  const authorization = r.lp16OptionalText("authorization");
  const tracing = r.lp16("tracing");
  const identifier = r.lp8("identifier");
  const numSubscribers = r.u32("num_subscribers");
  return { type: "confirm_receive", authorization, tracing, identifier, numSubscribers };
}

const DIGEST_NAME = "sha-512";
const BASE64_64_BYTES = /^[A-Za-z0-9+/]{85}[AQgw]==$/;

/** The `Repr-Digest` value: `sha-512=` + standard padded base64 (not RFC 9530's `:…:`). */
export function reprDigestHeader(sha512: Uint8Array): string {
  return `${DIGEST_NAME}=${toBase64(sha512)}`;
}

/**
 * Reads the SHA-512 from a `Repr-Digest` value, strictly: items split on ",",
 * each at its first "=", no trimming; the last item named exactly `sha-512`
 * wins (as in the reference); its value must be canonical padded base64 of 64
 * bytes. Anything else → null.
 */
export function parseReprDigest(value: string): Uint8Array | null {
  let found: string | null = null;
  for (const item of value.split(",")) {
    const eq = item.indexOf("=");
    if (eq >= 0 && item.slice(0, eq) === DIGEST_NAME) found = item.slice(eq + 1);
  }
  if (found === null || !BASE64_64_BYTES.test(found)) return null;
  return fromCheckedBase64(found);
}
