/**
 * Byte helpers shared by the end-to-end tests: large random messages, their SHA-512 in hex, and
 * the two operations raw-socket peers need (joining buffers, finding the end of an HTTP head).
 *
 * @module
 */

import { createHash } from "node:crypto";

/** `n` random bytes, any `n` (the CSPRNG gives at most 65,536 per call). */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

/** SHA-512 of `bytes`, lowercase hex. */
export function sha512Hex(bytes: Uint8Array): string {
  return createHash("sha512").update(bytes).digest("hex");
}

/** `a` then `b`, in a new buffer. */
export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Where the first CRLF CRLF (the end of an HTTP head) starts in `buf`, or -1. */
export function indexOfCrlfCrlf(buf: Uint8Array): number {
  for (let i = 0; i + 3 < buf.length; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  }
  return -1;
}
