/**
 * The in-memory glob index of one rqlite store, kept in step with the
 * cluster through the trigger-maintained glob generation: every notify reads
 * the generation in the same request as its exact subscribers, and a
 * generation the index does not hold means a reload (one query) first. So a
 * glob subscription confirmed through any broadcaster is seen by the next
 * notify on every broadcaster.
 *
 * Our own glob writes read the generation before and after the write inside
 * their transaction: if the index was current before, and the generation moved
 * by exactly our changes, they are applied in memory instead of reloading.
 *
 * @module
 */

import { type GlobChange, GlobRows, type GlobSubscriber } from "../glob_rows.ts";
import type { Result, RqliteClient } from "./client.ts";
import { ALL_GLOBS, GENERATION } from "./sql.ts";
import { nullableText } from "./values.ts";

/** The glob rows of the cluster as last seen, with the generation they are at. */
export class RqliteGlobCache {
  #rows = new GlobRows();
  #known = -1;
  #stale = true;
  #reloading: Promise<boolean> | null = null;

  /**
   * Makes sure the index holds generation `generation` or a later one,
   * reloading if not; false when the cluster could not answer before `deadline`.
   */
  async ensure(client: RqliteClient, generation: number, deadline: number): Promise<boolean> {
    // A reload already running may have read an older generation: wait for it, then look again.
    while (this.#stale || this.#known < generation) {
      this.#reloading ??= this.#reload(client, deadline).finally(() => this.#reloading = null);
      if (!await this.#reloading) return false;
    }
    return true;
  }

  /** Every glob subscriber whose pattern matches `topic`. */
  match(topic: Uint8Array): GlobSubscriber[] {
    return this.#rows.match(topic);
  }

  /**
   * Records a committed glob write: `before` and `after` are the generations
   * read inside its transaction, `changes` what it did to glob rows.
   */
  afterWrite(before: number, after: number, changes: readonly GlobChange[]): void {
    if (!this.#stale && before === this.#known && after - before === changes.length) {
      this.#rows.apply(changes);
      this.#known = after;
    } else {
      this.#stale = true;
    }
  }

  /** Forces a reload before the next match (a write whose outcome is unknown). */
  invalidate(): void {
    this.#stale = true;
  }

  async #reload(client: RqliteClient, deadline: number): Promise<boolean> {
    // The generation is read first: rows newer than it only cost another reload later.
    const r = await client.query([[GENERATION], [ALL_GLOBS]], deadline);
    if (!r.ok) return false;
    const rows = r.results[1]!.values.map((v) => ({
      url: String(v[0]),
      glob: String(v[1]),
      recovery: nullableText(v[2]),
    }));
    this.#rows.replace(rows);
    this.#known = generationOf(r.results[0]);
    this.#stale = false;
    return true;
  }
}

/** The generation in a result of {@link GENERATION}. */
export function generationOf(r: Result | undefined): number {
  return Number(r?.values[0]?.[0] ?? 0);
}
