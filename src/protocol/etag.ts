/**
 * The strong etag (format 0) of one url's subscriptions, docs/protocol/http.md#strong-etag:
 * SHA-512 of `"URL" lp16(url) "\nEXACT" {lp16(topic) lp16(recovery)}* "\nGLOB"
 * {lp16(glob) lp16(recovery)}* "\n"`, entries in ascending byte order.
 *
 * @module
 */

import { sha512Stream } from "../crypto/sha512.ts";
import { encodeUtf8, Writer } from "./bytes.ts";
import type { SubscriptionSet } from "./subscription_set.ts";

const URL_LITERAL = encodeUtf8("URL");
const EXACT_LITERAL = encodeUtf8("\nEXACT");
const GLOB_LITERAL = encodeUtf8("\nGLOB");
const NEWLINE = encodeUtf8("\n");
const EMPTY = new Uint8Array(0);

/**
 * Feeds the document to `out` piece by piece, so hashing never needs the whole
 * document in memory. `out` must consume each piece before returning (pieces
 * may share a scratch buffer).
 */
function emitDocument(url: string, set: SubscriptionSet, out: (piece: Uint8Array) => void): void {
  const prefix = new Uint8Array(2);
  const lp16 = (bytes: Uint8Array): void => {
    if (bytes.length > 0xffff) {
      throw new RangeError(`Value out of range for u16: ${bytes.length}`);
    }
    prefix[0] = bytes.length >>> 8;
    prefix[1] = bytes.length & 0xff;
    out(prefix);
    if (bytes.length > 0) out(bytes);
  };
  const recovery = (text: string | null): Uint8Array => text ? encodeUtf8(text) : EMPTY;
  out(URL_LITERAL);
  lp16(encodeUtf8(url));
  out(EXACT_LITERAL);
  for (const e of set.exacts) {
    lp16(e.topic);
    lp16(recovery(e.recovery));
  }
  out(GLOB_LITERAL);
  for (const g of set.globs) {
    lp16(encodeUtf8(g.glob));
    lp16(recovery(g.recovery));
  }
  out(NEWLINE);
}

/**
 * The document the strong etag hashes. `set` must already be in strong-etag
 * order (see {@link SubscriptionSet}); it is not re-sorted here.
 *
 * @throws {RangeError} when a field exceeds 65 535 bytes
 */
export function strongEtagDocument(url: string, set: SubscriptionSet): Uint8Array {
  const w = new Writer(256);
  emitDocument(url, set, (piece) => w.bytes(piece));
  return w.finish();
}

/**
 * The 64-byte strong etag (SHA-512 of {@link strongEtagDocument}), hashed
 * incrementally field by field. `set` must already be sorted.
 *
 * @throws {RangeError} when a field exceeds 65 535 bytes
 */
export function strongEtag(url: string, set: SubscriptionSet): Uint8Array {
  const hash = sha512Stream();
  emitDocument(url, set, (piece) => hash.update(piece));
  return new Uint8Array(hash.digest());
}

/**
 * Orders globs by their UTF-8 bytes (= code point order), NOT by JavaScript's
 * UTF-16 order, which puts U+10000.. before U+E000..U+FFFF. Works on UTF-16
 * units without encoding: shifting surrogates above the other BMP units gives
 * code point order for well-formed strings.
 */
export function compareGlobs(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}
