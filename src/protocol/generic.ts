/**
 * RESPONSE_GENERIC (type 3): the 200 body of subscribe, unsubscribe and
 * set_subscriptions (docs/protocol/http.md#response_generic).
 *
 * @module
 */

import { ParseError, Reader, Writer } from "./bytes.ts";
import { BroadcasterToSubscriberType } from "./types.ts";

/** RESPONSE_GENERIC fields. */
export interface ResponseGeneric {
  /** Authorization text; null is sent as length 0. */
  authorization: string | null;
  /** Tracing bytes (the reference always sends empty). */
  tracing: Uint8Array;
}

/**
 * Encodes RESPONSE_GENERIC: `00 03`, `lp16(authorization)`, `lp16(tracing)`.
 *
 * @throws {RangeError} when a field exceeds 65 535 bytes
 */
export function encodeResponseGeneric(r: ResponseGeneric): Uint8Array {
  return new Writer().u16(BroadcasterToSubscriberType.RESPONSE_GENERIC)
    .lp16Optional(r.authorization).lp16(r.tracing).finish();
}

/** Parses RESPONSE_GENERIC; the type must be 3 and no bytes may follow. */
export function parseResponseGeneric(body: Uint8Array): ResponseGeneric {
  const r = new Reader(body);
  expectType(r, BroadcasterToSubscriberType.RESPONSE_GENERIC);
  const authorization = r.lp16OptionalText("authorization");
  const tracing = r.lp16("tracing");
  r.end();
  return { authorization, tracing };
}

/**
 * Reads the `u16` type prefix of a response body and checks it.
 *
 * @throws {ParseError} when missing or different from `expected`
 */
export function expectType(r: Reader, expected: number): void {
  const type = r.u16("type");
  if (type !== expected) {
    throw new ParseError(`Unexpected message type: ${type}, expected ${expected}`);
  }
}
