/**
 * An in-memory index of every glob subscription row, so fan-out never runs SQL
 * `GLOB` (docs/decisions.md#glob-semantics) and never scans the glob table.
 *
 * Our own writes update it directly after they commit. Writes by other
 * connections sharing the file (a second broadcaster process) are noticed via
 * `PRAGMA data_version`, which changes only when *another* connection commits;
 * the trigger-maintained glob generation then says whether glob rows changed,
 * and only then is the index reloaded.
 *
 * @module
 */

import { type GlobChange, GlobRows, type GlobSubscriber } from "../glob_rows.ts";
import type { SqliteDb, SqliteStatement } from "./driver.ts";
import { GLOB_GENERATION, GLOBS, META } from "./schema.ts";

export type { GlobChange, GlobSubscriber } from "../glob_rows.ts";

/** The in-memory glob index of one connection. */
export class GlobCache {
  #db: SqliteDb;
  #rows = new GlobRows();
  #dataVersion: SqliteStatement;
  #generation: SqliteStatement;
  #all: SqliteStatement;
  #knownDataVersion = -1;
  #knownGeneration = -1;
  #stale = true;
  readonly #private: boolean;

  /**
   * Creates an empty, stale cache over `db` (filled on first {@link sync}).
   * `private_` (an in-memory database) means no other connection can write,
   * so after the first load our own writes keep the index current and
   * {@link sync} asks SQLite nothing.
   */
  constructor(db: SqliteDb, private_ = false) {
    this.#db = db;
    this.#private = private_;
    this.#dataVersion = db.prepare("PRAGMA data_version");
    this.#generation = db.prepare(`SELECT value FROM ${META} WHERE key = '${GLOB_GENERATION}'`);
    this.#all = db.prepare(`SELECT url, glob, missed_url FROM ${GLOBS}`);
  }

  /** Reloads the index if another connection changed glob rows since we last looked. */
  sync(): void {
    if (this.#private && !this.#stale) return;
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
      this.#rows.replace(
        rows.map((r) => ({
          url: String(r["url"]),
          glob: String(r["glob"]),
          recovery: nullableText(r),
        })),
      );
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
    return this.#rows.match(topic);
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
    this.#rows.apply(changes);
  }

  /** Marks the index stale (after a failed write whose effect is unknown). */
  invalidate(): void {
    this.#stale = true;
  }

  #readGeneration(): number {
    return Number(this.#generation.get()?.["value"] ?? 0);
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
