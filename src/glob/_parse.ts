/**
 * Parser for glob patterns (SQLite `GLOB` rules, see glob.ts). Internal to this folder.
 *
 * @module
 */

/** A bracket class: inclusive code point ranges as `[lo0, hi0, lo1, hi1, ...]`. */
export interface CharClass {
  /** True for `[^...]`. */
  readonly negated: boolean;
  /** Inclusive ranges; a single character is a range with lo === hi. */
  readonly ranges: Int32Array;
}

/** A parsed pattern: one-code-point tokens, split at runs of `*`. */
export interface ParsedGlob {
  /**
   * At least one segment; with n stars (runs collapsed) there are n + 1, the first and last
   * possibly empty, the middle ones never empty. Token values: a code point (>= 0), -1 for
   * `?`, or `-(2 + i)` for `classes[i]`.
   */
  readonly segments: Int32Array[];
  /** The bracket classes the tokens refer to. */
  readonly classes: CharClass[];
}

const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const CARET = 0x5e;
const DASH = 0x2d;

/** Whether code point `c` is in the class. */
export function classHas(cls: CharClass, c: number): boolean {
  const r = cls.ranges;
  let seen = false;
  for (let i = 0; i < r.length; i += 2) {
    if (c >= r[i]! && c <= r[i + 1]!) {
      seen = true;
      break;
    }
  }
  return seen !== cls.negated;
}

/**
 * Parses a pattern.
 *
 * @returns The parsed pattern, or `undefined` when it can match nothing because a `[` is
 * never closed (SQLite fails such a class whatever the topic).
 */
export function parseGlob(pattern: string): ParsedGlob | undefined {
  // Lone surrogates stay as their unit value: they equal no code point of a valid topic.
  const cps = Array.from(pattern, (ch) => ch.codePointAt(0)!);
  const segments: Int32Array[] = [];
  const classes: CharClass[] = [];
  let tokens: number[] = [];
  let i = 0;
  while (i < cps.length) {
    const c = cps[i]!;
    if (c === STAR) {
      while (cps[i] === STAR) i++;
      // A run of stars is one star, so middle segments are never empty; an empty first
      // segment is kept so that segments[0] is always the one anchored at the start.
      segments.push(Int32Array.from(tokens));
      tokens = [];
      continue;
    }
    if (c === QUESTION) {
      tokens.push(-1);
      i++;
      continue;
    }
    if (c === OPEN) {
      const parsed = parseClass(cps, i + 1);
      if (parsed === undefined) return undefined;
      tokens.push(-(2 + classes.length));
      classes.push(parsed.cls);
      i = parsed.next;
      continue;
    }
    tokens.push(c);
    i++;
  }
  segments.push(Int32Array.from(tokens));
  return { segments, classes };
}

/** Parses a class body starting after `[`, mirroring SQLite's patternCompare. */
function parseClass(
  cps: number[],
  start: number,
): { cls: CharClass; next: number } | undefined {
  const ranges: number[] = [];
  let i = start;
  let negated = false;
  if (cps[i] === CARET) {
    negated = true;
    i++;
  }
  if (cps[i] === CLOSE) {
    ranges.push(CLOSE, CLOSE);
    i++;
  }
  // As in SQLite, a leading `]` does not start a range: `[]-a]` is `]`, `-` or `a`.
  let prior: number | undefined;
  while (i < cps.length && cps[i] !== CLOSE) {
    const c = cps[i]!;
    const next = cps[i + 1];
    if (c === DASH && prior !== undefined && next !== undefined && next !== CLOSE) {
      ranges.push(prior, next);
      prior = undefined;
      i += 2;
    } else {
      ranges.push(c, c);
      prior = c;
      i++;
    }
  }
  if (i >= cps.length) return undefined;
  return { cls: { negated, ranges: Int32Array.from(ranges) }, next: i + 1 };
}
