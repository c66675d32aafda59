/**
 * Seeded randomness for this folder's tests, so that a failing case reproduces.
 *
 * @module
 */

/** Mulberry32: returns a generator of floats in [0, 1) fixed by `seed`. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One item of `items`, chosen by `rand`. */
export function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

/** Up to `maxLength` items of `alphabet`, joined. */
export function randomString(rand: () => number, alphabet: string[], maxLength: number): string {
  const length = Math.floor(rand() * (maxLength + 1));
  let s = "";
  for (let i = 0; i < length; i++) s += pick(rand, alphabet);
  return s;
}
