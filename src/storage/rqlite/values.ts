/**
 * Values to and from rqlite's JSON: parameters bound safely, BLOBs decoded.
 *
 * - A `Uint8Array` parameter is sent as an array of integers, which rqlite
 *   binds as a BLOB.
 * - rqlite binds a string that looks like `x'00ff'` as a BLOB. User text
 *   (urls, globs) could look like that, so such a string is sent as its UTF-8
 *   bytes, and every SQL placeholder for user text is written {@link TEXT},
 *   which turns those bytes back into the same TEXT value.
 * - A BLOB in a column declared `BLOB` comes back as standard base64.
 * - Integers stay below 2^53 (ids, epoch milliseconds), so JSON numbers are exact.
 *
 * @module
 */

/** A parameter value. */
export type Param = null | number | string | Uint8Array;

/** `[sql, ...params]`, sent as one rqlite statement. */
export type Statement = readonly [string, ...Param[]];

/** The placeholder for a user-text parameter (see the module note). */
export const TEXT = "CAST(? AS TEXT)";

const BLOB_LIKE = /^\s*[xX]'([0-9a-fA-F]{2})*'\s*$/;
const UTF8 = new TextEncoder();

/** The JSON body of a request. */
export function encodeStatements(statements: readonly Statement[]): string {
  return JSON.stringify(statements.map((s) => s.map(encodeParam)));
}

function encodeParam(v: Param | string, i: number): unknown {
  if (i === 0) return v;
  if (v instanceof Uint8Array) return Array.from(v);
  if (typeof v === "string" && BLOB_LIKE.test(v)) return Array.from(UTF8.encode(v));
  if (typeof v === "number" && !Number.isSafeInteger(v)) {
    throw new RangeError(`Unsupported parameter: ${v} is not a safe integer`);
  }
  return v;
}

/** A BLOB column's value (base64 text as rqlite sends it) as bytes. */
export function decodeBlob(v: unknown): Uint8Array {
  if (typeof v !== "string") return new Uint8Array(0);
  const bin = atob(v);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** A nullable TEXT column's value. */
export function nullableText(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

/** A random positive integer below 2^53 (row ids and lease ids): exact in JSON, never 0. */
export function randomId(): number {
  const b = crypto.getRandomValues(new Uint8Array(7));
  let v = b[0]! & 0x1f;
  for (let i = 1; i < 7; i++) v = v * 256 + b[i]!;
  return v === 0 ? 1 : v;
}
