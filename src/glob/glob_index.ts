/**
 * An in-memory index over many glob patterns, for fan-out: which values' patterns match a
 * topic.
 *
 * @module
 */

import { CompiledGlob, decodeTopic, toCodePoints } from "./glob.ts";

/** Where an entry lives: compared whole, in a prefix bucket, or nowhere (matches nothing). */
type Kind = "exact" | "prefixed" | "never";

interface Entry<T> {
  readonly matcher: CompiledGlob;
  readonly kind: Kind;
  /** Literal text before the first `*`, `?` or `[` (the whole pattern when exact). */
  readonly prefix: string;
  readonly values: T[];
}

/** Characters that end a pattern's literal prefix. */
const WILDCARD = /[*?[]/;

/**
 * Patterns mapped to values, matched many at a time.
 *
 * Patterns are grouped by their literal prefix (the text before the first `*`, `?` or `[`),
 * measured in UTF-16 code units of the decoded topic: any pattern that matches a valid
 * topic has a well-formed prefix equal to the topic's first code units, so looking the
 * topic's prefixes up is enough, and every candidate is then checked by its full matcher.
 * A pattern without wildcards is an exact string and is compared whole.
 *
 * Cost of {@link GlobIndex.match} for a topic of n code points: one strict UTF-8 decode,
 * one map look-up for exact patterns, one slice and look-up per distinct prefix length
 * L ≤ n, and a full match (O(n·m) worst case, usually O(n)) for each pattern in the hit
 * buckets only. `add` and `delete` are O(m) for the pattern plus O(k) in the number of
 * values under the same pattern (the sorted list of prefix lengths is rebuilt lazily).
 */
export class GlobIndex<T> {
  #byPattern = new Map<string, Entry<T>>();
  #buckets = new Map<string, Set<Entry<T>>>();
  // How many buckets have each prefix length, and those lengths sorted (undefined = stale).
  #lengthCounts = new Map<number, number>();
  #lengths: number[] | undefined = [];
  #size = 0;

  /** How many (pattern, value) pairs the index holds. */
  get size(): number {
    return this.#size;
  }

  /** Adds `value` under `pattern`; adding the same pair twice keeps two copies. */
  add(pattern: string, value: T): void {
    let entry = this.#byPattern.get(pattern);
    if (entry === undefined) {
      entry = newEntry<T>(pattern);
      this.#byPattern.set(pattern, entry);
      if (entry.kind === "prefixed") this.#bucketAdd(entry);
    }
    entry.values.push(value);
    this.#size++;
  }

  /**
   * Removes one copy of `value` (compared with `===`) from `pattern`.
   *
   * @returns Whether a copy was found.
   */
  delete(pattern: string, value: T): boolean {
    const entry = this.#byPattern.get(pattern);
    if (entry === undefined) return false;
    const at = entry.values.indexOf(value);
    if (at < 0) return false;
    entry.values.splice(at, 1);
    this.#size--;
    if (entry.values.length === 0) {
      this.#byPattern.delete(pattern);
      if (entry.kind === "prefixed") this.#bucketDelete(entry);
    }
    return true;
  }

  /** Removes everything. */
  clear(): void {
    this.#byPattern.clear();
    this.#buckets.clear();
    this.#lengthCounts.clear();
    this.#lengths = [];
    this.#size = 0;
  }

  /**
   * Every value whose pattern matches `topic`; a value added under several matching
   * patterns appears once per pattern. A topic that is not valid UTF-8 matches nothing.
   */
  match(topic: Uint8Array): T[] {
    const out: T[] = [];
    if (this.#size === 0) return out;
    const text = decodeTopic(topic);
    if (text === undefined) return out;
    const exact = this.#byPattern.get(text);
    if (exact !== undefined && exact.kind === "exact") out.push(...exact.values);
    let cps: Uint32Array | undefined;
    for (const length of this.#sortedLengths()) {
      if (length > text.length) break;
      const bucket = this.#buckets.get(text.slice(0, length));
      if (bucket === undefined) continue;
      cps ??= toCodePoints(text)!;
      for (const entry of bucket) {
        if (entry.matcher.matchesCodePoints(cps)) out.push(...entry.values);
      }
    }
    return out;
  }

  #sortedLengths(): number[] {
    this.#lengths ??= [...this.#lengthCounts.keys()].sort((a, b) => a - b);
    return this.#lengths;
  }

  #bucketAdd(entry: Entry<T>): void {
    const bucket = this.#buckets.get(entry.prefix);
    if (bucket !== undefined) {
      bucket.add(entry);
      return;
    }
    this.#buckets.set(entry.prefix, new Set([entry]));
    const length = entry.prefix.length;
    const count = this.#lengthCounts.get(length) ?? 0;
    this.#lengthCounts.set(length, count + 1);
    if (count === 0) this.#lengths = undefined;
  }

  #bucketDelete(entry: Entry<T>): void {
    const bucket = this.#buckets.get(entry.prefix)!;
    bucket.delete(entry);
    if (bucket.size > 0) return;
    this.#buckets.delete(entry.prefix);
    const length = entry.prefix.length;
    const count = this.#lengthCounts.get(length)!;
    if (count > 1) {
      this.#lengthCounts.set(length, count - 1);
    } else {
      this.#lengthCounts.delete(length);
      this.#lengths = undefined;
    }
  }
}

function newEntry<T>(pattern: string): Entry<T> {
  const matcher = new CompiledGlob(pattern);
  const wildcard = pattern.search(WILDCARD);
  const kind: Kind = matcher.never ? "never" : wildcard < 0 ? "exact" : "prefixed";
  const prefix = wildcard < 0 ? pattern : pattern.slice(0, wildcard);
  return { matcher, kind, prefix, values: [] };
}
