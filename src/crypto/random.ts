/**
 * Small random values (RECEIVE identifiers, hmac nonces) cut from a pool
 * refilled from the CSPRNG 4 KiB at a time: one runtime call per 512
 * identifiers instead of one each. A refill makes a new pool, so bytes
 * handed out never change.
 *
 * @module
 */

const POOL_BYTES = 4096;
let pool = new Uint8Array(0);
let used = 0;

/** `n` fresh random bytes (a view into the pool; callers never write to it). */
export function randomIdentifier(n: number): Uint8Array {
  if (n > POOL_BYTES) return crypto.getRandomValues(new Uint8Array(n));
  if (used + n > pool.length) {
    pool = crypto.getRandomValues(new Uint8Array(POOL_BYTES));
    used = 0;
  }
  const out = pool.subarray(used, used + n);
  used += n;
  return out;
}
