/**
 * MISSED (broadcaster → recovery url, docs/protocol/http.md#missed) and its answer
 * RESPONSE_CONFIRM_MISSED (type 9).
 *
 * Parsed byte fields are views into the body; copy them to keep them.
 *
 * @module
 */

import { encodeUtf8, Reader, Writer } from "./bytes.ts";
import { expectType } from "./generic.ts";
import { SubscriberToBroadcasterType } from "./types.ts";

/** MISSED body: tracing, then the topic; no message, identifier or count. */
export interface MissedRequest {
  /** Opaque tracing bytes (the reference sends empty). */
  tracing: Uint8Array;
  /** The topic whose messages may have been missed. */
  topic: Uint8Array;
}

/** RESPONSE_CONFIRM_MISSED fields. */
export interface ResponseConfirmMissed {
  /** Authorization text; null is sent as length 0. */
  authorization: string | null;
  /** Tracing bytes. */
  tracing: Uint8Array;
}

/**
 * Encodes a MISSED body: `lp16 tracing`, `lp16 topic`.
 *
 * @throws {RangeError} when a field exceeds 65 535 bytes
 */
export function encodeMissed(req: MissedRequest): Uint8Array {
  return new Writer(req.tracing.length + req.topic.length + 4).lp16(req.tracing).lp16(req.topic)
    .finish();
}

/** Parses a MISSED body; trailing bytes are rejected (project decision). */
export function parseMissed(body: Uint8Array): MissedRequest {
  const r = new Reader(body);
  const tracing = r.lp16("tracing");
  const topic = r.lp16("topic");
  r.end();
  return { tracing, topic };
}

/**
 * Encodes RESPONSE_CONFIRM_MISSED: `00 09`, authorization, tracing.
 *
 * @throws {RangeError} when a field exceeds 65 535 bytes
 */
export function encodeResponseConfirmMissed(r: ResponseConfirmMissed): Uint8Array {
  return new Writer().u16(SubscriberToBroadcasterType.RESPONSE_CONFIRM_MISSED)
    .lp16Optional(r.authorization).lp16(r.tracing).finish();
}

/**
 * Parses RESPONSE_CONFIRM_MISSED: the type must be 9; trailing bytes are
 * ignored, as the peer's answer is read leniently like RECEIVE responses.
 */
export function parseResponseConfirmMissed(body: Uint8Array): ResponseConfirmMissed {
  const r = new Reader(body);
  expectType(r, SubscriberToBroadcasterType.RESPONSE_CONFIRM_MISSED);
  const authorization = r.lp16OptionalText("authorization");
  const tracing = r.lp16("tracing");
  return { authorization, tracing };
}

/**
 * Body of the 400 that `/v1/missed_for_websockets` answers when the request URL
 * is not the configured missed URL (`application/json; charset=utf-8`), byte
 * for byte as the reference's JSON encoder writes it (docs/protocol/http.md#missed-for-websockets).
 */
export const INVALID_MISSED_URL_BODY: Uint8Array = encodeUtf8(
  '{"unsubscribe": true, "reason": "invalid missed URL"}',
);
