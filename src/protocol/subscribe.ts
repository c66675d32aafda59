/**
 * Request bodies of `/v1/subscribe/{exact,glob}` and `/v1/unsubscribe/{exact,glob}`
 * (docs/protocol/http.md#subscribe). Tracing comes last in this family.
 *
 * Parsed byte fields (`topic`, `tracing`) are views into the body, not copies:
 * callers that keep them beyond the body's lifetime must copy them.
 *
 * @module
 */

import { decodeUtf8, ParseError, Reader, Writer } from "./bytes.ts";
import { MAX_GLOB_BYTES } from "./types.ts";

/** One `lp16` field at its longest. */
const LP16_MAX = 2 + 0xffff;

/** Longest valid subscribe/exact body: url, topic, recovery, tracing. */
export const MAX_SUBSCRIBE_EXACT_BYTES = 4 * LP16_MAX;
/** Longest valid subscribe/glob body: url, glob (at most {@link MAX_GLOB_BYTES}), recovery, tracing. */
export const MAX_SUBSCRIBE_GLOB_BYTES = 3 * LP16_MAX + 2 + MAX_GLOB_BYTES;
/** Longest valid unsubscribe/exact body: url, topic, tracing. */
export const MAX_UNSUBSCRIBE_EXACT_BYTES = 3 * LP16_MAX;
/** Longest valid unsubscribe/glob body: url, glob, tracing. */
export const MAX_UNSUBSCRIBE_GLOB_BYTES = 2 * LP16_MAX + 2 + MAX_GLOB_BYTES;

/** Body of `POST /v1/subscribe/exact`. */
export interface SubscribeExactRequest {
  /** The subscriber's RECEIVE url. */
  url: string;
  /** Topic bytes (any bytes). */
  topic: Uint8Array;
  /** Recovery (MISSED) url; null when absent (length 0 on the wire). */
  recovery: string | null;
  /** Opaque tracing bytes. */
  tracing: Uint8Array;
}

/** Body of `POST /v1/subscribe/glob`. */
export interface SubscribeGlobRequest {
  /** The subscriber's RECEIVE url. */
  url: string;
  /** The pattern. */
  glob: string;
  /** Recovery (MISSED) url; null when absent. */
  recovery: string | null;
  /** Opaque tracing bytes. */
  tracing: Uint8Array;
}

/** Body of `POST /v1/unsubscribe/exact`. */
export interface UnsubscribeExactRequest {
  /** The subscriber's RECEIVE url. */
  url: string;
  /** Topic bytes. */
  topic: Uint8Array;
  /** Opaque tracing bytes. */
  tracing: Uint8Array;
}

/** Body of `POST /v1/unsubscribe/glob`. */
export interface UnsubscribeGlobRequest {
  /** The subscriber's RECEIVE url. */
  url: string;
  /** The pattern. */
  glob: string;
  /** Opaque tracing bytes. */
  tracing: Uint8Array;
}

/**
 * Reads an `lp16` glob: strict UTF-8 and at most {@link MAX_GLOB_BYTES} bytes.
 * Also returns the raw bytes so callers can order globs without re-encoding.
 *
 * @throws {ParseError} when truncated, too long or not UTF-8
 */
export function readGlob(r: Reader): { glob: string; bytes: Uint8Array } {
  const bytes = r.lp16("glob");
  if (bytes.length > MAX_GLOB_BYTES) {
    throw new ParseError(`Glob too long: ${bytes.length} bytes, at most ${MAX_GLOB_BYTES}`);
  }
  return { glob: decodeUtf8(bytes, "glob"), bytes };
}

/** Parses a subscribe/exact body; trailing bytes are rejected. */
export function parseSubscribeExact(body: Uint8Array): SubscribeExactRequest {
  const r = new Reader(body);
  const url = r.lp16Text("url");
  const topic = r.lp16("topic");
  const recovery = r.lp16OptionalText("recovery");
  const tracing = r.lp16("tracing");
  r.end();
  return { url, topic, recovery, tracing };
}

/**
 * Encodes a subscribe/exact body. An empty recovery string is sent as "none".
 *
 * @throws {RangeError} when a field exceeds 65 535 bytes
 */
export function encodeSubscribeExact(req: SubscribeExactRequest): Uint8Array {
  return new Writer().lp16(req.url).lp16(req.topic).lp16Optional(req.recovery).lp16(req.tracing)
    .finish();
}

/** Parses a subscribe/glob body; trailing bytes are rejected. */
export function parseSubscribeGlob(body: Uint8Array): SubscribeGlobRequest {
  const r = new Reader(body);
  const url = r.lp16Text("url");
  const { glob } = readGlob(r);
  const recovery = r.lp16OptionalText("recovery");
  const tracing = r.lp16("tracing");
  r.end();
  return { url, glob, recovery, tracing };
}

/**
 * Encodes a subscribe/glob body (globs over {@link MAX_GLOB_BYTES} still encode:
 * only the length prefix limits the encoder).
 *
 * @throws {RangeError} when a field exceeds 65 535 bytes
 */
export function encodeSubscribeGlob(req: SubscribeGlobRequest): Uint8Array {
  return new Writer().lp16(req.url).lp16(req.glob).lp16Optional(req.recovery).lp16(req.tracing)
    .finish();
}

/** Parses an unsubscribe/exact body; trailing bytes are rejected. */
export function parseUnsubscribeExact(body: Uint8Array): UnsubscribeExactRequest {
  const r = new Reader(body);
  const url = r.lp16Text("url");
  const topic = r.lp16("topic");
  const tracing = r.lp16("tracing");
  r.end();
  return { url, topic, tracing };
}

/**
 * Encodes an unsubscribe/exact body.
 *
 * @throws {RangeError} when a field exceeds 65 535 bytes
 */
export function encodeUnsubscribeExact(req: UnsubscribeExactRequest): Uint8Array {
  return new Writer().lp16(req.url).lp16(req.topic).lp16(req.tracing).finish();
}

/** Parses an unsubscribe/glob body; trailing bytes are rejected. */
export function parseUnsubscribeGlob(body: Uint8Array): UnsubscribeGlobRequest {
  const r = new Reader(body);
  const url = r.lp16Text("url");
  const { glob } = readGlob(r);
  const tracing = r.lp16("tracing");
  r.end();
  return { url, glob, tracing };
}

/**
 * Encodes an unsubscribe/glob body.
 *
 * @throws {RangeError} when a field exceeds 65 535 bytes
 */
export function encodeUnsubscribeGlob(req: UnsubscribeGlobRequest): Uint8Array {
  return new Writer().lp16(req.url).lp16(req.glob).lp16(req.tracing).finish();
}
