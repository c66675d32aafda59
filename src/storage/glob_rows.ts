/**
 * The glob subscription rows of a store, held in memory in a {@link GlobIndex}
 * so fan-out never runs SQL `GLOB` (docs/decisions.md#glob-semantics) and never scans the
 * glob table. Each backend decides when to reload it; this file only keeps the rows.
 *
 * @module
 */

import { GlobIndex } from "../glob/mod.ts";
import type { Subscriber } from "./types.ts";

/** A glob subscriber as stored in the index. */
export type GlobSubscriber = Extract<Subscriber, { kind: "glob" }>;

/** A change to apply once the transaction that made it has committed. */
export type GlobChange =
  | {
    readonly op: "put";
    readonly url: string;
    readonly glob: string;
    readonly recovery: string | null;
  }
  | { readonly op: "remove"; readonly url: string; readonly glob: string };

/** Every (url, glob) row with its recovery url, matchable against topics. */
export class GlobRows {
  #index = new GlobIndex<GlobSubscriber>();
  /** glob → url → the value held by the index (needed to delete it). */
  #rows = new Map<string, Map<string, GlobSubscriber>>();

  /** Every glob subscriber whose pattern matches `topic`. */
  match(topic: Uint8Array): GlobSubscriber[] {
    return this.#index.match(topic);
  }

  /** Replaces every row. */
  replace(rows: Iterable<{ url: string; glob: string; recovery: string | null }>): void {
    this.#index = new GlobIndex<GlobSubscriber>();
    this.#rows.clear();
    for (const r of rows) this.#put(r.url, r.glob, r.recovery);
  }

  /** Applies committed changes. */
  apply(changes: readonly GlobChange[]): void {
    for (const c of changes) {
      this.#remove(c.url, c.glob);
      if (c.op === "put") this.#put(c.url, c.glob, c.recovery);
    }
  }

  #put(url: string, glob: string, recovery: string | null): void {
    const value: GlobSubscriber = Object.freeze({ kind: "glob", url, glob, recovery });
    let byUrl = this.#rows.get(glob);
    if (byUrl === undefined) this.#rows.set(glob, byUrl = new Map());
    byUrl.set(url, value);
    this.#index.add(glob, value);
  }

  #remove(url: string, glob: string): void {
    const byUrl = this.#rows.get(glob);
    const old = byUrl?.get(url);
    if (byUrl === undefined || old === undefined) return;
    byUrl.delete(url);
    if (byUrl.size === 0) this.#rows.delete(glob);
    this.#index.delete(glob, old);
  }
}
