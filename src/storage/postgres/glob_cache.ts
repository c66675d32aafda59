/**
 * The in-memory glob index of one PostgreSQL store, kept in step with the
 * database through the trigger-maintained glob generation.
 *
 * Three things move it forward:
 * - every notify reads the generation in the same statement as its exact
 *   subscribers, and a generation the index does not hold means a reload
 *   first, so a glob subscription confirmed through any broadcaster is seen
 *   by the next notify on every broadcaster;
 * - a NOTIFY from the trigger (no payload: a wake-up) makes the store check
 *   the generation and reload in the background, so that next notify rarely
 *   waits for a reload;
 * - a periodic check does the same, for a wake-up lost while the listening
 *   connection was down.
 *
 * Our own glob writes lock the generation row, then read it before and after
 * the write inside their transaction: when the index was current before and
 * the generation moved by exactly our changes, they are applied in memory.
 *
 * @module
 */

import { type GlobChange, GlobRows, type GlobSubscriber } from "../glob_rows.ts";

/** What a reload reads: the generation and every glob row, from one snapshot. */
export interface GlobSnapshot {
  /** The glob generation. */
  readonly generation: number;
  /** Every glob row. */
  readonly rows: readonly { url: string; glob: string; recovery: string | null }[];
}

/** The glob rows of the database as last seen, with the generation they are at. */
export class PgGlobCache {
  #rows = new GlobRows();
  #known = -1;
  #stale = true;
  #reloading: Promise<boolean> | null = null;
  readonly #load: () => Promise<GlobSnapshot | null>;

  /** A cache reloading through `load` (null: the database could not answer). */
  constructor(load: () => Promise<GlobSnapshot | null>) {
    this.#load = load;
  }

  /** The generation the index holds (-1 before the first load). */
  get known(): number {
    return this.#stale ? -1 : this.#known;
  }

  /**
   * Makes sure the index holds `generation` or a later one, reloading if
   * not; false when the database could not answer.
   */
  async ensure(generation: number): Promise<boolean> {
    // A reload already running may have read an older generation: wait for it, then look again.
    while (this.#stale || this.#known < generation) {
      this.#reloading ??= this.#reload().finally(() => this.#reloading = null);
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

  async #reload(): Promise<boolean> {
    const snapshot = await this.#load();
    if (snapshot === null) return false;
    this.#rows.replace(snapshot.rows);
    this.#known = snapshot.generation;
    this.#stale = false;
    return true;
  }
}
