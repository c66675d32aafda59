/**
 * Glob patterns with SQLite `GLOB` rules, applied to the whole topic
 * (docs/protocol/globs.md#semantics, docs/decisions.md#glob-semantics).
 *
 * - `*` matches any run of code points, including `/` and the empty run.
 * - `?` matches exactly one Unicode code point.
 * - `[...]` is a class; `a-z` ranges compare code points; a leading `^` negates; `]` right
 *   after `[` or `[^` is literal; `-` first or last is literal; `!` is not a negation.
 * - An unterminated `[` makes the whole pattern match nothing (as in SQLite).
 * - There are no escapes: `\` is literal. NUL is an ordinary character (no C-string cut).
 * - A topic that is not valid UTF-8 matches no pattern.
 *
 * Matching never backtracks exponentially: the pattern is split at `*` into segments of
 * one-code-point tokens; the first segment is anchored at the start, the last at the end,
 * and each middle segment is found left-most (correct because `*` is unconstrained), so a
 * match costs O(n·m) at worst for a topic of n code points and a pattern of m tokens, and
 * O(n + m) for patterns whose middle segments are plain literals (searched with KMP).
 *
 * @module
 */

import { type CharClass, classHas, parseGlob } from "./_parse.ts";

/**
 * The longest pattern, in UTF-8 bytes, that SQLite accepts for `GLOB`
 * (docs/protocol/globs.md#limits). Callers reject longer patterns at subscribe time
 * (docs/decisions.md#limits-on-fields); {@link compileGlob} itself accepts any length, since
 * matching is linear.
 */
export const MAX_GLOB_BYTES = 50_000;

/** A compiled glob pattern; immutable and safe to share. */
export interface GlobMatcher {
  /** The source pattern. */
  readonly pattern: string;
  /** Whether the topic bytes match; false when they are not valid UTF-8. */
  matches(topic: Uint8Array): boolean;
  /** Whether the topic text matches; false when it holds a lone surrogate. */
  matchesText(topic: string): boolean;
}

const DECODER = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Decodes topic bytes as strict UTF-8, keeping a leading BOM as a character.
 *
 * @returns The text, or `undefined` when the bytes are not valid UTF-8.
 */
export function decodeTopic(topic: Uint8Array): string | undefined {
  try {
    return DECODER.decode(topic);
  } catch {
    return undefined;
  }
}

/**
 * Splits text into code points.
 *
 * @returns The code points, or `undefined` when the text holds a lone surrogate (such text
 * has no UTF-8 form, so it is treated like an invalid UTF-8 topic).
 */
export function toCodePoints(text: string): Uint32Array | undefined {
  const out = new Uint32Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const hi = text.charCodeAt(i);
    if (hi >= 0xd800 && hi <= 0xdfff) {
      const lo = text.charCodeAt(i + 1);
      if (hi > 0xdbff || !(lo >= 0xdc00 && lo <= 0xdfff)) return undefined;
      out[n++] = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
      i++;
    } else {
      out[n++] = hi;
    }
  }
  return out.subarray(0, n);
}

/**
 * A pattern compiled to star-separated segments. Exported for the index in this folder,
 * which matches many patterns against one already-decoded topic.
 */
export class CompiledGlob implements GlobMatcher {
  /** The source pattern. */
  readonly pattern: string;
  /** True when the pattern can match nothing (an unterminated `[`). */
  readonly never: boolean;
  #segments: Int32Array[];
  #classes: CharClass[];
  #hasStar: boolean;
  #minLength: number;
  // KMP failure tables for middle segments made only of literals; undefined otherwise.
  #failure: (Int32Array | undefined)[];

  /** Compiles `pattern`; prefer {@link compileGlob}, which caches. */
  constructor(pattern: string) {
    this.pattern = pattern;
    const parsed = parseGlob(pattern);
    this.never = parsed === undefined;
    this.#segments = parsed?.segments ?? [];
    this.#classes = parsed?.classes ?? [];
    this.#hasStar = this.#segments.length > 1;
    this.#minLength = this.#segments.reduce((sum, s) => sum + s.length, 0);
    this.#failure = this.#segments.map((s, i) =>
      i > 0 && i < this.#segments.length - 1 && s.every((t) => t >= 0) ? kmpTable(s) : undefined
    );
  }

  /** Whether the topic bytes match; false when they are not valid UTF-8. */
  matches(topic: Uint8Array): boolean {
    if (this.never) return false;
    const text = decodeTopic(topic);
    return text !== undefined && this.matchesText(text);
  }

  /** Whether the topic text matches; false when it holds a lone surrogate. */
  matchesText(topic: string): boolean {
    if (this.never) return false;
    const cps = toCodePoints(topic);
    return cps !== undefined && this.matchesCodePoints(cps);
  }

  /** Whether the topic, given as code points, matches. */
  matchesCodePoints(cps: Uint32Array): boolean {
    const segs = this.#segments;
    const n = cps.length;
    if (this.never || n < this.#minLength) return false;
    const first = segs[0]!;
    if (!this.#hasStar) return n === first.length && this.#at(first, cps, 0);
    const last = segs[segs.length - 1]!;
    if (!this.#at(first, cps, 0) || !this.#at(last, cps, n - last.length)) return false;
    let pos = first.length;
    const end = n - last.length;
    for (let s = 1; s < segs.length - 1; s++) {
      const seg = segs[s]!;
      const table = this.#failure[s];
      const found = table === undefined
        ? this.#scan(seg, cps, pos, end)
        : kmpFind(seg, table, cps, pos, end);
      if (found < 0) return false;
      pos = found + seg.length;
    }
    return true;
  }

  /** Left-most start in [from, end - seg.length] where `seg` matches, or -1. */
  #scan(seg: Int32Array, cps: Uint32Array, from: number, end: number): number {
    for (let p = from; p + seg.length <= end; p++) {
      if (this.#at(seg, cps, p)) return p;
    }
    return -1;
  }

  #at(seg: Int32Array, cps: Uint32Array, offset: number): boolean {
    for (let k = 0; k < seg.length; k++) {
      const t = seg[k]!;
      const c = cps[offset + k]!;
      if (t >= 0) {
        if (t !== c) return false;
      } else if (t !== ANY && !classHas(this.#classes[-t - 2]!, c)) {
        return false;
      }
    }
    return true;
  }
}

/** Token value for `?`; classes are `-(2 + index)`, literals are their code point. */
const ANY = -1;

function kmpTable(seg: Int32Array): Int32Array {
  const fail = new Int32Array(seg.length);
  let k = 0;
  for (let i = 1; i < seg.length; i++) {
    while (k > 0 && seg[i] !== seg[k]) k = fail[k - 1]!;
    if (seg[i] === seg[k]) k++;
    fail[i] = k;
  }
  return fail;
}

function kmpFind(
  seg: Int32Array,
  fail: Int32Array,
  cps: Uint32Array,
  from: number,
  end: number,
): number {
  if (seg.length === 0) return from;
  let k = 0;
  for (let i = from; i < end; i++) {
    const c = cps[i]!;
    while (k > 0 && seg[k] !== c) k = fail[k - 1]!;
    if (seg[k] === c) k++;
    if (k === seg.length) return i - k + 1;
  }
  return -1;
}

/** How many compiled patterns {@link compileGlob} keeps. */
const CACHE_LIMIT = 10_000;
const cache = new Map<string, CompiledGlob>();

/**
 * Compiles a pattern, reusing a compiled copy from a bounded LRU cache
 * (10,000 entries, keyed by pattern).
 *
 * @example
 * ```ts
 * import { compileGlob } from "./glob.ts";
 * const m = compileGlob("foo/*");
 * console.assert(m.matchesText("foo/bar/baz"));
 * ```
 */
export function compileGlob(pattern: string): GlobMatcher {
  const hit = cache.get(pattern);
  if (hit !== undefined) {
    cache.delete(pattern);
    cache.set(pattern, hit);
    return hit;
  }
  const compiled = new CompiledGlob(pattern);
  cache.set(pattern, compiled);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  return compiled;
}

/** Whether `topic` matches `pattern`, compiling through the cache of {@link compileGlob}. */
export function globMatches(pattern: string, topic: Uint8Array): boolean {
  return compileGlob(pattern).matches(topic);
}
