/**
 * Shared helpers for the protocol tests: vector lookup, a seeded PRNG with
 * random field generators, and the property checks every codec runs.
 * Not a test file itself (no `_test` suffix); never imported by src code.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import vectors from "../../tests/vectors/stateless.json" with { type: "json" };
import { fromHex, ParseError } from "./bytes.ts";

/** One entry of `messages` in the vector file (extra keys vary per entry). */
export type MessageVector = (typeof vectors.messages)[number] & Record<string, unknown>;

/** The whole vector file. */
export const VECTORS = vectors;

/** The message vector called `name` (throws if the file has none, so a rename fails loudly). */
export function vector(name: string): MessageVector {
  const found = vectors.messages.find((m) => m.name === name);
  if (found === undefined) throw new Error(`No vector named: ${name}`);
  return found as MessageVector;
}

/** The bytes of message vector `name`. */
export function vectorBytes(name: string): Uint8Array {
  return fromHex(vector(name).hex);
}

/** SHA-512 as a plain Uint8Array. */
export function sha512(data: Uint8Array | string): Uint8Array {
  return new Uint8Array(createHash("sha512").update(data).digest());
}

/** Iterations of every property test. */
export const ITERATIONS = 200;

/** A small deterministic PRNG (mulberry32) with field generators. */
export class Rand {
  #state: number;

  /** Seeds the generator; the same seed gives the same sequence. */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Random bytes; the length is usually small, sometimes up to `max`. */
  bytes(max = 40): Uint8Array {
    const n = this.chance(0.05) ? this.int(max + 1) : this.int(Math.min(max, 12) + 1);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }

  /** Random valid text mixing ASCII, BMP (incl. BOM and U+E000) and astral characters. */
  text(maxChars = 12): string {
    const specials = [0xfeff, 0xe000, 0xffff, 0x1f600, 0x10ffff, 0x80, 0x7ff, 0x800, 0];
    let s = "";
    for (let n = this.int(maxChars + 1); n > 0; n--) {
      const kind = this.int(4);
      let cp: number;
      if (kind === 0) cp = specials[this.int(specials.length)]!;
      else if (kind === 1) cp = 0x20 + this.int(0x5f);
      else if (kind === 2) cp = this.int(0xd800);
      else cp = 0x10000 + this.int(0x100000);
      s += String.fromCodePoint(cp);
    }
    return s;
  }

  /** Random non-empty text or null (empty text would come back as null). */
  optionalText(): string | null {
    return this.chance(0.3) ? null : "r" + this.text();
  }
}

/** Asserts that `fn` throws a ParseError (and nothing else). */
export function assertParseError(fn: () => unknown, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ParseError, `expected ParseError, got ${String(e)}`);
    if (message) assert.match(e.message, message);
    return true;
  });
}

/** Asserts that every strict prefix of `whole` makes `parse` throw ParseError. */
export function assertPrefixesThrow(whole: Uint8Array, parse: (b: Uint8Array) => unknown): void {
  for (let n = 0; n < whole.length; n++) assertParseError(() => parse(whole.subarray(0, n)));
}

/** Asserts that every strict prefix of `whole` makes an incremental parser return null. */
export function assertPrefixesNull(whole: Uint8Array, parse: (b: Uint8Array) => unknown): void {
  for (let n = 0; n < whole.length; n++) {
    assert.equal(parse(whole.subarray(0, n)), null, `prefix of ${n} bytes`);
  }
}

/**
 * Feeds `ITERATIONS` random byte strings (short, and mutated copies of
 * `sample`) to `parse`; anything thrown must be a ParseError.
 */
export function assertOnlyParseErrors(
  seed: number,
  sample: Uint8Array,
  parse: (b: Uint8Array) => unknown,
): void {
  const rand = new Rand(seed);
  for (let i = 0; i < ITERATIONS; i++) {
    let b: Uint8Array;
    if (i % 2 === 0) {
      b = rand.bytes(64);
    } else {
      b = sample.slice(0, rand.int(sample.length + 4));
      for (let k = rand.int(4); k > 0 && b.length > 0; k--) b[rand.int(b.length)] = rand.int(256);
    }
    try {
      parse(b);
    } catch (e) {
      assert.ok(e instanceof ParseError, `non-ParseError for ${Array.from(b)}: ${String(e)}`);
    }
  }
}

/**
 * Property checks for one codec: `ITERATIONS` random values round-trip
 * (parse(encode(x)) deep-equals x) and every strict prefix of the first 30
 * encodings throws ParseError.
 */
export function checkCodec<T>(
  seed: number,
  gen: (rand: Rand) => T,
  encode: (x: T) => Uint8Array,
  parse: (b: Uint8Array) => T,
): void {
  const rand = new Rand(seed);
  for (let i = 0; i < ITERATIONS; i++) {
    const x = gen(rand);
    const bytes = encode(x);
    assert.deepEqual(parse(bytes), x);
    if (i < 30) assertPrefixesThrow(bytes, parse);
  }
}

/** A random subscription set, sorted and deduplicated as the strong etag requires. */
export function randomSet(
  rand: Rand,
  compareBytes: (a: Uint8Array, b: Uint8Array) => number,
  compareGlobs: (a: string, b: string) => number,
): {
  exacts: { topic: Uint8Array; recovery: string | null }[];
  globs: { glob: string; recovery: string | null }[];
} {
  const topics = Array.from({ length: rand.int(5) }, () => rand.bytes(8))
    .sort(compareBytes)
    .filter((t, i, all) => i === 0 || compareBytes(all[i - 1]!, t) !== 0);
  const globs = Array.from({ length: rand.int(5) }, () => rand.text(6))
    .sort(compareGlobs)
    .filter((g, i, all) => i === 0 || all[i - 1] !== g);
  return {
    exacts: topics.map((topic) => ({ topic, recovery: rand.optionalText() })),
    globs: globs.map((glob) => ({ glob, recovery: rand.optionalText() })),
  };
}
