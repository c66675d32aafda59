/**
 * Comparing secrets without leaking where they differ, and random bytes as
 * hex, on Web Crypto alone (no `node:crypto`, which on Deno loads the Node
 * compatibility layer).
 *
 * @module
 */

/**
 * Whether `a` and `b` hold the same bytes, in time that depends only on their
 * lengths (every byte is visited; no early exit on the first difference).
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** `n` bytes from the CSPRNG. */
export function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** `n` random bytes as lowercase hex (2n characters). */
export function randomHex(n: number): string {
  let out = "";
  for (const b of randomBytes(n)) out += b.toString(16).padStart(2, "0");
  return out;
}
