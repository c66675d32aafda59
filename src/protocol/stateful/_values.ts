/**
 * Header value encodings of the stateful protocol (docs/protocol/websocket.md#header-values).
 *
 * Readers take one header's value and throw {@link ParseError}; writers
 * return the value's bytes and throw `RangeError` for values they cannot
 * represent. Small values come from a shared table, so writing the common
 * `00`/`01` values allocates nothing.
 *
 * @module
 */

import { decodeUtf8, encodeUtf8, ParseError } from "../bytes.ts";

/** The zero-length value. */
export const EMPTY: Uint8Array = new Uint8Array(0);

/** One-byte values 0..255, views of one buffer; never write into them. */
const SINGLE_BYTES: readonly Uint8Array[] = (() => {
  const all = new Uint8Array(256);
  return Array.from({ length: 256 }, (_, i) => {
    all[i] = i;
    return all.subarray(i, i + 1);
  });
})();

/** Reads `auth`: strict UTF-8 where the zero-length value means absent. */
export function readAuth(v: Uint8Array): string | null {
  return v.length === 0 ? null : decodeUtf8(v, "authorization");
}

/** Writes `auth`: null (and "") as the zero-length value. */
export function writeAuth(text: string | null): Uint8Array {
  return text === null || text === "" ? EMPTY : encodeUtf8(text);
}

/** Reads `utf8` strictly. */
export function readText(v: Uint8Array, name: string): string {
  return decodeUtf8(v, name);
}

/** Reads a value that must be exactly `length` bytes (nonces, `sha512`). */
export function readExact(v: Uint8Array, length: number, name: string): Uint8Array {
  if (v.length !== length) {
    throw new ParseError(`Invalid ${name}: ${v.length} bytes, expected ${length}`);
  }
  return v;
}

/** Reads `bytes` of at most `max` bytes (identifiers). */
export function readAtMost(v: Uint8Array, max: number, name: string): Uint8Array {
  if (v.length > max) throw new ParseError(`Invalid ${name}: ${v.length} bytes, at most ${max}`);
  return v;
}

/** Checks that a value to write is exactly `length` bytes. */
export function writeExact(v: Uint8Array, length: number, name: string): Uint8Array {
  if (v.length !== length) {
    throw new RangeError(`Invalid ${name}: ${v.length} bytes, expected ${length}`);
  }
  return v;
}

/** Checks that a value to write is at most `max` bytes. */
export function writeAtMost(v: Uint8Array, max: number, name: string): Uint8Array {
  if (v.length > max) throw new RangeError(`Invalid ${name}: ${v.length} bytes, at most ${max}`);
  return v;
}

/**
 * Reads `uint≤max` into a number: big-endian, any length up to `max` bytes
 * (leading zeros and the empty value allowed).
 *
 * @throws {ParseError} when longer than `max` or above `Number.MAX_SAFE_INTEGER`
 */
export function readUint(v: Uint8Array, max: number, name: string): number {
  if (v.length > max) throw new ParseError(`Invalid ${name}: ${v.length} bytes, at most ${max}`);
  let n = 0;
  // Exact while the result stays safe; the rounding is monotonic, so an
  // unsafe true value can never round back under the limit.
  for (const b of v) n = n * 256 + b;
  if (n > Number.MAX_SAFE_INTEGER) throw new ParseError(`Invalid ${name}: too large`);
  return n;
}

/** Reads `uint≤max` into a bigint (lengths, which may use all 64 bits). */
export function readBigUint(v: Uint8Array, max: number, name: string): bigint {
  if (v.length > max) throw new ParseError(`Invalid ${name}: ${v.length} bytes, at most ${max}`);
  if (v.length <= 6) return BigInt(readUint(v, 6, name));
  let n = 0n;
  for (const b of v) n = (n << 8n) | BigInt(b);
  return n;
}

/** Reads `i16`: exactly two bytes, two's complement. */
export function readI16(v: Uint8Array, name: string): number {
  readExact(v, 2, name);
  const n = (v[0]! << 8) | v[1]!;
  return n >= 0x8000 ? n - 0x10000 : n;
}

/**
 * Writes `uint≤maxBytes` minimally: no leading zero bytes, 0 as the
 * zero-length value (or as `00` when `zeroAsByte`, as x-compressor and the
 * stream x-part-id are written).
 *
 * @throws {RangeError} for a negative, fractional or unsafe value, or one that needs more than `maxBytes` bytes
 */
export function writeUint(
  value: number,
  maxBytes: number,
  name: string,
  zeroAsByte = false,
): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0 || value >= 256 ** maxBytes) {
    throw new RangeError(`Value out of range for ${name}: ${value}`);
  }
  if (value < 256) return value === 0 && !zeroAsByte ? EMPTY : SINGLE_BYTES[value]!;
  let len = 0;
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) len++;
  const out = new Uint8Array(len);
  for (let i = len - 1, rest = value; i >= 0; i--, rest = Math.floor(rest / 256)) {
    out[i] = rest % 256;
  }
  return out;
}

/** Writes a bigint `uint≤8` minimally (0 as the zero-length value). */
export function writeBigUint(value: bigint, name: string): Uint8Array {
  if (value < 0n || value > 0xffffffffffffffffn) {
    throw new RangeError(`Value out of range for ${name}: ${value}`);
  }
  if (value <= BigInt(Number.MAX_SAFE_INTEGER)) return writeUint(Number(value), 8, name);
  const len = value < 1n << 56n ? 7 : 8;
  const out = new Uint8Array(len);
  for (let i = len - 1, rest = value; i >= 0; i--, rest >>= 8n) out[i] = Number(rest & 0xffn);
  return out;
}

/** Writes a fixed-width unsigned value of `width` (1, 2 or 4) bytes. */
export function writeFixed(value: number, width: 1 | 2 | 4, name: string): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value >= 256 ** width) {
    throw new RangeError(`Value out of range for ${name}: ${value}`);
  }
  if (width === 1) return SINGLE_BYTES[value]!;
  const out = new Uint8Array(width);
  for (let i = width - 1, rest = value; i >= 0; i--, rest = Math.floor(rest / 256)) {
    out[i] = rest % 256;
  }
  return out;
}

/** Writes `i16` (fixed two bytes, two's complement). */
export function writeI16(value: number, name: string): Uint8Array {
  if (!Number.isInteger(value) || value < -0x8000 || value > 0x7fff) {
    throw new RangeError(`Value out of range for ${name}: ${value}`);
  }
  return writeFixed(value < 0 ? value + 0x10000 : value, 2, name);
}

/** Reads a one-byte flag: true iff the value is exactly `01`. */
export function readFlag(v: Uint8Array): boolean {
  return v.length === 1 && v[0] === 1;
}

/** Writes a one-byte flag (`01` or `00`). */
export function writeFlag(value: boolean): Uint8Array {
  return SINGLE_BYTES[value ? 1 : 0]!;
}
