/**
 * The in-memory glob index of a store shared by several broadcasters (rqlite,
 * PostgreSQL), kept in step with the database through a trigger-maintained
 * glob generation: every notify reads the generation in the same request as
 * its exact subscribers, and a generation the index does not hold means a
 * reload first, so a glob subscription confirmed through any broadcaster is
 * seen by the next notify on every broadcaster. Each backend says how to
 * read a snapshot; PostgreSQL also reloads early on LISTEN/NOTIFY wake-ups
 * (`postgres/listener.ts`).
 *
 * Our own glob writes read the generation before and after the write inside
 * their transaction: when the index was current before and the generation
 * moved by exactly our changes, they are applied in memory instead of
 * reloading.
 *
 * @module
 */

import { type GlobChange, GlobRows, type GlobSubscriber } from "./glob_rows.ts";

/** What a reload reads: the generation and every glob row, from one snapshot. */
export interface GlobSnapshot {
  /** The glob generation. */
  readonly generation: number;
  /** Every glob row. */
  readonly rows: readonly { url: string; glob: string; recovery: string | null }[];
}

/** The glob rows of the database as last seen, with the generation they are at. */
export class GenerationGlobCache {
  #rows = new GlobRows();
  #known = -1;
  #stale = true;
  #reloading: Promise<boolean> | null = null;

  /** The generation the index holds (-1 before the first load). */
  get known(): number {
    return this.#stale ? -1 : this.#known;
  }

  /**
   * Makes sure the index holds `generation` or a later one, reloading
   * through `load` if not (null: the database could not answer); false when
   * the database could not answer.
   */
  async catchUp(
    generation: number,
    load: () => Promise<GlobSnapshot | null>,
  ): Promise<boolean> {
    // A reload already running may have read an older generation: wait for it, then look again.
    while (this.#stale || this.#known < generation) {
      this.#reloading ??= this.#reload(load).finally(() => this.#reloading = null);
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

  async #reload(load: () => Promise<GlobSnapshot | null>): Promise<boolean> {
    const snapshot = await load();
    if (snapshot === null) return false;
    this.#rows.replace(snapshot.rows);
    this.#known = snapshot.generation;
    this.#stale = false;
    return true;
  }
}
