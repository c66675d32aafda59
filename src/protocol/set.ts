/**
 * `/v1/set_subscriptions` request body (docs/protocol/http.md#set-subscriptions): `lp16 tracing`,
 * `lp16 url`, `u8 0`, 64-byte etag, `u32 E`, E × (`lp16 topic`, `lp16 recovery`),
 * `u32 G`, G × (`lp16 glob`, `lp16 recovery`).
 *
 * Parsed byte fields are views into the body; copy them to keep them.
 *
 * @module
 */

import {
  compareBytes,
  decodeUtf8,
  ParseError,
  parseIncrementally,
  Reader,
  Writer,
} from "./bytes.ts";
import { checkEtagLength, ETAG_BYTES, readEtag } from "./check.ts";
import { readGlob } from "./subscribe.ts";
import type { ExactEntry, GlobEntry, SubscriptionSet } from "./subscription_set.ts";

/** Body of `POST /v1/set_subscriptions`. */
export interface SetSubscriptionsRequest {
  /** Opaque tracing bytes (first on the wire). */
  tracing: Uint8Array;
  /** The subscriber url whose subscriptions are replaced. */
  url: string;
  /** Etag format byte; always 0 after parsing. */
  etagFormat: number;
  /** The sender's strong etag of `set` (not verified by the parser). */
  etag: Uint8Array;
  /** The requested subscriptions, in strong-etag order. */
  set: SubscriptionSet;
}

/** What a set_subscriptions body starts with: all its authorization covers. */
export interface SetSubscriptionsHead {
  /** Opaque tracing bytes. */
  tracing: Uint8Array;
  /** The subscriber url. */
  url: string;
  /** The sender's strong etag of the lists that follow. */
  etag: Uint8Array;
}

/** Longest head: `lp16` tracing, `lp16` url, format byte, etag. */
export const MAX_SET_SUBSCRIPTIONS_HEAD_BYTES = 2 * (2 + 0xffff) + 1 + ETAG_BYTES;

/**
 * Parses the head of a set_subscriptions body from the start of `b`: null
 * while `b` is too short to hold it; {@link ParseError} when it is malformed.
 * Lets the route check authorization before reading the lists.
 */
export function parseSetSubscriptionsHead(b: Uint8Array): SetSubscriptionsHead | null {
  const head = parseIncrementally(b, (r) => ({
    tracing: r.lp16("tracing"),
    url: r.lp16("url"),
    format: r.u8("etag format"),
    etag: r.bytes(ETAG_BYTES, "etag"),
  }));
  if (head === null) return null;
  if (head.format !== 0) throw new ParseError(`Unsupported etag format: ${head.format}`);
  return { tracing: head.tracing, url: decodeUtf8(head.url, "url"), etag: head.etag };
}

/**
 * Parses a set_subscriptions body. Checks the format byte, strictly ascending
 * unique topics (bytewise) and globs (by UTF-8 bytes), UTF-8 and glob length,
 * and rejects trailing bytes. Does NOT compare the etag: the route does that
 * with `strongEtag(url, set)`.
 */
export function parseSetSubscriptions(body: Uint8Array): SetSubscriptionsRequest {
  const r = new Reader(body);
  const tracing = r.lp16("tracing");
  const url = r.lp16Text("url");
  const etag = readEtag(r);

  const exacts: ExactEntry[] = [];
  let previous: Uint8Array | null = null;
  for (let n = r.u32("exact count"); n > 0; n--) {
    const topic = r.lp16("topic");
    if (previous !== null && compareBytes(previous, topic) >= 0) {
      throw new ParseError("Exact topics not strictly ascending");
    }
    previous = topic;
    exacts.push({ topic, recovery: r.lp16OptionalText("recovery") });
  }

  const globs: GlobEntry[] = [];
  previous = null;
  for (let n = r.u32("glob count"); n > 0; n--) {
    const { glob, bytes } = readGlob(r);
    if (previous !== null && compareBytes(previous, bytes) >= 0) {
      throw new ParseError("Globs not strictly ascending");
    }
    previous = bytes;
    globs.push({ glob, recovery: r.lp16OptionalText("recovery") });
  }
  r.end();
  return { tracing, url, etagFormat: 0, etag, set: { exacts, globs } };
}

/**
 * Encodes a set_subscriptions body exactly as given: the order is NOT checked
 * or fixed (so tests can build invalid bodies), and the etag is not computed.
 *
 * @throws {RangeError} when a field exceeds its prefix or the etag is not 64 bytes
 */
export function encodeSetSubscriptions(req: SetSubscriptionsRequest): Uint8Array {
  checkEtagLength(req.etag);
  const w = new Writer(256).lp16(req.tracing).lp16(req.url).u8(req.etagFormat).bytes(req.etag);
  w.u32(req.set.exacts.length);
  for (const e of req.set.exacts) w.lp16(e.topic).lp16Optional(e.recovery);
  w.u32(req.set.globs.length);
  for (const g of req.set.globs) w.lp16(g.glob).lp16Optional(g.recovery);
  return w.finish();
}
