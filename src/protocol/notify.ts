/**
 * `/v1/notify` request (docs/protocol/http.md#notify) and RESPONSE_NOTIFY (type 4,
 * docs/protocol/http.md#response_notify).
 *
 * The request header is parsed incrementally because the message that follows
 * it may be huge and is streamed; parsed byte fields are views into the input,
 * so callers must copy them to keep them beyond the buffer's lifetime.
 *
 * @module
 */

import { parseIncrementally, Reader, Writer } from "./bytes.ts";
import { expectType } from "./generic.ts";
import { BroadcasterToSubscriberType } from "./types.ts";

/** Largest possible notify header: 2 + 65 535 + 64 + 2 + 65 535 + 1 + 255 + 8. */
export const MAX_NOTIFY_HEADER_BYTES = 131_402;

/** Fixed length of the claimed message hash. */
const SHA512_BYTES = 64;

/** Everything of a notify body before the message. */
export interface NotifyHeader {
  /** Topic bytes. */
  topic: Uint8Array;
  /** Claimed SHA-512 of the message (64 bytes; verified later by the route). */
  sha512: Uint8Array;
  /** Opaque tracing bytes. */
  tracing: Uint8Array;
  /** Notifier-chosen identifier (≤ 255 bytes), echoed in RESPONSE_NOTIFY. */
  identifier: Uint8Array;
  /** Message length M that must follow the header exactly. */
  length: bigint;
}

/** RESPONSE_NOTIFY fields. */
export interface ResponseNotify {
  /** Authorization text; null is sent as length 0. */
  authorization: string | null;
  /** Tracing bytes (simple tracing format, never empty; see tracing.ts). */
  tracing: Uint8Array;
  /** Subscribers reached (`u32`). */
  count: number;
  /** The notifier's identifier, echoed. */
  identifier: Uint8Array;
}

/**
 * Parses the notify header from the start of `b`. Returns null while `b` is
 * too short to hold the whole header (every prefix of a header is a valid
 * prefix, so this never throws); does not look at bytes after the header.
 */
export function parseNotifyHeader(
  b: Uint8Array,
): { header: NotifyHeader; headerLength: number } | null {
  return parseIncrementally(b, (r) => {
    const topic = r.lp16("topic");
    const sha512 = r.bytes(SHA512_BYTES, "sha512");
    const tracing = r.lp16("tracing");
    const identifier = r.lp8("identifier");
    const length = r.u64("message length");
    return { header: { topic, sha512, tracing, identifier, length }, headerLength: r.offset };
  });
}

/**
 * Encodes the notify header (the message must follow it).
 *
 * @throws {RangeError} when a field exceeds its prefix or the hash is not 64 bytes
 */
export function encodeNotifyHeader(h: NotifyHeader): Uint8Array {
  if (h.sha512.length !== SHA512_BYTES) {
    throw new RangeError(`Invalid sha512 length: ${h.sha512.length}, expected ${SHA512_BYTES}`);
  }
  return new Writer(h.topic.length + h.tracing.length + h.identifier.length + 77)
    .lp16(h.topic).bytes(h.sha512).lp16(h.tracing).lp8(h.identifier).u64(h.length).finish();
}

/**
 * Encodes a whole notify body: header with `length = message.length`, then the message.
 *
 * @throws {RangeError} when a field exceeds its prefix or the hash is not 64 bytes
 */
export function encodeNotify(h: Omit<NotifyHeader, "length">, message: Uint8Array): Uint8Array {
  const header = encodeNotifyHeader({ ...h, length: BigInt(message.length) });
  const out = new Uint8Array(header.length + message.length);
  out.set(header);
  out.set(message, header.length);
  return out;
}

/**
 * Encodes RESPONSE_NOTIFY: `00 04`, authorization, tracing, `u32 count`, `lp8 identifier`.
 *
 * @throws {RangeError} when a field exceeds its prefix
 */
export function encodeResponseNotify(r: ResponseNotify): Uint8Array {
  return new Writer(r.tracing.length + 64).u16(BroadcasterToSubscriberType.RESPONSE_NOTIFY)
    .lp16Optional(r.authorization).lp16(r.tracing).u32(r.count).lp8(r.identifier).finish();
}

/** Parses RESPONSE_NOTIFY; the type must be 4 and no bytes may follow. */
export function parseResponseNotify(body: Uint8Array): ResponseNotify {
  const r = new Reader(body);
  expectType(r, BroadcasterToSubscriberType.RESPONSE_NOTIFY);
  const authorization = r.lp16OptionalText("authorization");
  const tracing = r.lp16("tracing");
  const count = r.u32("count");
  const identifier = r.lp8("identifier");
  r.end();
  return { authorization, tracing, count, identifier };
}
