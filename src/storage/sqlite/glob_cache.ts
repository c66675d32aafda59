/**
 * An in-memory index of every glob subscription row, so fan-out never runs SQL
 * `GLOB` (DECISIONS §1) and never scans the glob table.
 *
 * Our own writes update it directly after they commit. Writes by other
 * connections sharing the file (a second broadcaster process) are noticed via
 * `PRAGMA data_version`, which changes only when *another* connection commits;
 * the trigger-maintained glob generation then says whether glob rows changed,
 * and only then is the index reloaded.
 *
 * @module
 */

import { GlobIndex } from "../../glob/mod.ts";
import type { Subscriber } from "../types.ts";
import type { SqliteDb, SqliteStatement } from "./driver.ts";
import { GLOB_GENERATION, GLOBS, META } from "./schema.ts";

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

/** The in-memory glob index of one connection. */
export class GlobCache {
  #db: SqliteDb;
  #index = new GlobIndex<GlobSubscriber>();
  /** glob → url → the value held by the index (needed to delete it). */
  #rows = new Map<string, Map<string, GlobSubscriber>>();
  #dataVersion: SqliteStatement;
  #generation: SqliteStatement;
  #all: SqliteStatement;
  #knownDataVersion = -1;
  #knownGeneration = -1;
  #stale = true;

  /** Creates an empty, stale cache over `db` (filled on first {@link sync}). */
  constructor(db: SqliteDb) {
    this.#db = db;
    this.#dataVersion = db.prepare("PRAGMA data_version");
    this.#generation = db.prepare(`SELECT value FROM ${META} WHERE key = '${GLOB_GENERATION}'`);
    this.#all = db.prepare(`SELECT url, glob, missed_url FROM ${GLOBS}`);
  }

  /** Reloads the index if another connection changed glob rows since we last looked. */
  sync(): void {
    const dv = Number(this.#dataVersion.get()?.["data_version"]);
    if (!this.#stale && dv === this.#knownDataVersion) return;
    if (!this.#stale && this.#readGeneration() === this.#knownGeneration) {
      this.#knownDataVersion = dv;
      return;
    }
    this.#db.exec("BEGIN DEFERRED");
    try {
      const generation = this.#readGeneration();
      const rows = this.#all.all();
      this.#db.exec("COMMIT");
      this.#index.clear();
      this.#rows.clear();
      for (const r of rows) this.#put(r["url"] as string, r["glob"] as string, nullableText(r));
      this.#knownGeneration = generation;
      this.#knownDataVersion = dv;
      this.#stale = false;
    } catch (e) {
      rollback(this.#db);
      throw e;
    }
  }

  /** Every glob subscriber whose pattern matches `topic`. */
  match(topic: Uint8Array): GlobSubscriber[] {
    return this.#index.match(topic);
  }

  /** Reads the glob generation; call inside a write transaction, before writing. */
  beforeWrite(): number {
    return this.#readGeneration();
  }

  /**
   * Records the generation our write produced; call inside the same write
   * transaction, after writing. If someone else had changed globs since our
   * last sync, the index is marked stale and fully reloaded next time.
   */
  afterWrite(before: number): void {
    if (before === this.#knownGeneration && !this.#stale) {
      this.#knownGeneration = this.#readGeneration();
    } else {
      this.#stale = true;
    }
  }

  /** Applies committed changes to the index. */
  apply(changes: readonly GlobChange[]): void {
    for (const c of changes) {
      this.#remove(c.url, c.glob);
      if (c.op === "put") this.#put(c.url, c.glob, c.recovery);
    }
  }

  /** Marks the index stale (after a failed write whose effect is unknown). */
  invalidate(): void {
    this.#stale = true;
  }

  #readGeneration(): number {
    return Number(this.#generation.get()?.["value"] ?? 0);
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

function nullableText(row: Record<string, unknown>): string | null {
  const v = row["missed_url"];
  return typeof v === "string" ? v : null;
}

/** Rolls back if a transaction is open; never throws. */
export function rollback(db: SqliteDb): void {
  try {
    db.exec("ROLLBACK");
  } catch {
    // No transaction was open (BEGIN itself failed) or SQLite already rolled back.
  }
}
