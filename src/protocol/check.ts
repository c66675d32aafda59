/**
 * `/v1/check_subscriptions` request and RESPONSE_CHECK_SUBSCRIPTIONS (type 5),
 * docs/protocol/http.md#check-subscriptions. Tracing comes FIRST in this request.
 *
 * Parsed byte fields are views into the body; copy them to keep them.
 *
 * @module
 */

import { ParseError, Reader, Writer } from "./bytes.ts";
import { expectType } from "./generic.ts";
import { BroadcasterToSubscriberType } from "./types.ts";

/** Length of a strong etag (a SHA-512 digest). */
export const ETAG_BYTES = 64;

/** Longest valid check_subscriptions body: `lp16` tracing, `lp16` url. */
export const MAX_CHECK_SUBSCRIPTIONS_BYTES = 2 * (2 + 0xffff);

/** Body of `POST /v1/check_subscriptions`. */
export interface CheckSubscriptionsRequest {
  /** Opaque tracing bytes (first on the wire). */
  tracing: Uint8Array;
  /** The subscriber url whose subscriptions are checked. */
  url: string;
}

/** RESPONSE_CHECK_SUBSCRIPTIONS fields (the etag format byte is always 0). */
export interface ResponseCheckSubscriptions {
  /** Authorization text; null is sent as length 0. */
  authorization: string | null;
  /** Tracing bytes. */
  tracing: Uint8Array;
  /** The 64-byte strong etag (format 0). */
  etag: Uint8Array;
}

/** Parses a check_subscriptions body; trailing bytes are rejected. */
export function parseCheckSubscriptions(body: Uint8Array): CheckSubscriptionsRequest {
  const r = new Reader(body);
  const tracing = r.lp16("tracing");
  const url = r.lp16Text("url");
  r.end();
  return { tracing, url };
}

/**
 * Encodes a check_subscriptions body.
 *
 * @throws {RangeError} when a field exceeds 65 535 bytes
 */
export function encodeCheckSubscriptions(req: CheckSubscriptionsRequest): Uint8Array {
  return new Writer().lp16(req.tracing).lp16(req.url).finish();
}

/**
 * Encodes RESPONSE_CHECK_SUBSCRIPTIONS: `00 05`, authorization, tracing, `00`, etag.
 *
 * @throws {RangeError} when a field exceeds its prefix or the etag is not 64 bytes
 */
export function encodeResponseCheckSubscriptions(res: ResponseCheckSubscriptions): Uint8Array {
  checkEtagLength(res.etag);
  return new Writer(71).u16(BroadcasterToSubscriberType.RESPONSE_CHECK_SUBSCRIPTIONS)
    .lp16Optional(res.authorization).lp16(res.tracing).u8(0).bytes(res.etag).finish();
}

/** Parses RESPONSE_CHECK_SUBSCRIPTIONS; the etag format must be 0, no trailing bytes. */
export function parseResponseCheckSubscriptions(body: Uint8Array): ResponseCheckSubscriptions {
  const r = new Reader(body);
  expectType(r, BroadcasterToSubscriberType.RESPONSE_CHECK_SUBSCRIPTIONS);
  const authorization = r.lp16OptionalText("authorization");
  const tracing = r.lp16("tracing");
  const etag = readEtag(r);
  r.end();
  return { authorization, tracing, etag };
}

/**
 * Reads the etag format byte (must be 0) and the 64-byte etag.
 *
 * @throws {ParseError} when truncated or the format is not 0
 */
export function readEtag(r: Reader): Uint8Array {
  const format = r.u8("etag format");
  if (format !== 0) throw new ParseError(`Unsupported etag format: ${format}`);
  return r.bytes(ETAG_BYTES, "etag");
}

/**
 * @throws {RangeError} when `etag` is not {@link ETAG_BYTES} long
 */
export function checkEtagLength(etag: Uint8Array): void {
  if (etag.length !== ETAG_BYTES) {
    throw new RangeError(`Invalid etag length: ${etag.length}, expected ${ETAG_BYTES}`);
  }
}
