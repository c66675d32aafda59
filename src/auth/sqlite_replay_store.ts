/**
 * A replay store in a SQLite file (the reference's `recent-hmacs.db`), so
 * used codes survive a restart. Same table as the reference
 * (docs/protocol/storage.md#replay-store), so either implementation can open a file
 * the other wrote.
 *
 * Codes marked by this process are also held in memory (a compact
 * {@link ExpiringCodeSet}): a replay of one is answered at once. A code not
 * held is written with the others that arrive within `commitDelayMs`, in one
 * transaction (group commit), and answered once that commits, so nothing is
 * answered "fresh" that a restart would forget. A locked database is waited
 * for without blocking the thread (each attempt fails fast; the pauses are
 * timers), and a database file deleted or replaced under us answers
 * `unavailable`. Expired rows are deleted a few hundred at a time after
 * commits, never in one long statement.
 *
 * `:memory:` needs no SQLite at all: a private in-memory database dies with
 * the process, so the in-memory set alone does the same job (fine for a
 * single process), at 12 bytes a code instead of SQLite's ~200.
 *
 * @module
 */

import { backgroundInterval } from "../background_timer.ts";
import { describeError, type Logger, silentLogger, ThrottledLog } from "../log.ts";
import {
  configureConnection,
  openSqlite,
  retryWhileBusy,
  type SqliteDb,
  stopBlockingOnBusy,
} from "../storage/sqlite/driver.ts";
import { DatabaseFile } from "../storage/sqlite/file_watch.ts";
import { ExpiringCodeSet } from "./_code_set.ts";
import type { MarkResult, ReplayStore } from "./replay_store.ts";

/** Options for {@link sqliteReplayStore}. */
export interface SqliteReplayStoreOptions {
  /** Database file, or `:memory:`. */
  readonly path: string;
  /**
   * How long a commit waits for another connection's lock before its codes
   * are `unavailable`, ms (default 5000). The wait does not block the thread.
   */
  readonly busyTimeoutMs?: number;
  /** How often expired codes are looked for when idle (default 60,000 ms). */
  readonly cleanupIntervalMs?: number;
  /** Codes marked within this long share one transaction (default 1 ms). */
  readonly commitDelayMs?: number;
  /** Where failures are reported, with their cause (rate limited). Default: nowhere. */
  readonly log?: Logger;
  /** Clock for the clean-up, epoch seconds (tests). */
  readonly clock?: () => number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS httppubsub_hmacs (
  code BLOB PRIMARY KEY,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS httppubsub_hmacs_expires_at_idx ON httppubsub_hmacs(expires_at);
`;

// An expired row the clean-up has not yet removed must not count as a
// replay, so a conflict refreshes it when (and only when) it has expired;
// `changes` is then 1 for "fresh" and 0 for a live duplicate.
const MARK = `INSERT INTO httppubsub_hmacs (code, expires_at) VALUES (?, ?)
ON CONFLICT (code) DO UPDATE SET expires_at = excluded.expires_at
WHERE httppubsub_hmacs.expires_at < ?`;

/** Expired rows deleted per clean-up step (one short statement). */
const CLEANUP_STEP = 500;
const CLEANUP = `DELETE FROM httppubsub_hmacs WHERE code IN
(SELECT code FROM httppubsub_hmacs WHERE expires_at < ? LIMIT ${CLEANUP_STEP})`;

const FRESH: Promise<MarkResult> = Promise.resolve("fresh");
const REPLAY: Promise<MarkResult> = Promise.resolve("replay");
const UNAVAILABLE: Promise<MarkResult> = Promise.resolve("unavailable");

/**
 * Opens (creating if needed) the store at `opts.path`, deleting expired rows
 * first; a periodic clean-up runs until {@link ReplayStore.close}. Any
 * database error while marking answers `unavailable`.
 */
export async function sqliteReplayStore(opts: SqliteReplayStoreOptions): Promise<ReplayStore> {
  if (opts.path === ":memory:" || opts.path === "") return memoryOnly();
  const clock = opts.clock ?? (() => Date.now() / 1000);
  const db: SqliteDb = await openSqlite(opts.path);
  try {
    configureConnection(db, opts.path, opts.busyTimeoutMs ?? 5000);
    db.exec(SCHEMA);
    stopBlockingOnBusy(db);
  } catch (e) {
    db.close();
    throw e;
  }
  return new GroupCommitStore(db, clock, opts);
}

/** The `:memory:` store: the set alone. */
function memoryOnly(): ReplayStore {
  let codes: ExpiringCodeSet | null = new ExpiringCodeSet();
  return {
    markUsed(code, expiresAtSeconds, now) {
      if (codes === null) return UNAVAILABLE;
      return codes.mark(code, expiresAtSeconds, now) === "fresh" ? FRESH : REPLAY;
    },
    close() {
      codes = null;
      return Promise.resolve();
    },
  };
}

interface Pending {
  readonly code: Uint8Array;
  readonly expiresAt: number;
  readonly now: number;
  readonly resolve: (result: MarkResult) => void;
}

class GroupCommitStore implements ReplayStore {
  readonly #db: SqliteDb;
  readonly #clock: () => number;
  readonly #mark;
  readonly #cleanup;
  readonly #codes = new ExpiringCodeSet();
  readonly #delayMs: number;
  readonly #waitMs: number;
  readonly #file: DatabaseFile;
  readonly #failures: ThrottledLog;
  #batch: Pending[] = [];
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** The commit in progress (it may be waiting for a lock); the next one waits for it. */
  #committing: Promise<void> = Promise.resolve();
  readonly #stopCleanup: () => void;
  /** More expired rows may be left: take another step after the next commit. */
  #expiredLeft = true;
  #closed = false;

  constructor(db: SqliteDb, clock: () => number, opts: SqliteReplayStoreOptions) {
    this.#db = db;
    this.#clock = clock;
    this.#mark = db.prepare(MARK);
    this.#cleanup = db.prepare(CLEANUP);
    this.#delayMs = opts.commitDelayMs ?? 1;
    this.#waitMs = opts.busyTimeoutMs ?? 5000;
    this.#file = new DatabaseFile(opts.path);
    this.#failures = new ThrottledLog(opts.log ?? silentLogger);
    while (this.#expiredLeft) this.#cleanupStep();
    // A background timer: the clean-up alone does not keep the process alive.
    this.#stopCleanup = backgroundInterval(opts.cleanupIntervalMs ?? 60_000, () => {
      this.#expiredLeft = true;
      this.#cleanupStep();
    });
  }

  markUsed(code: Uint8Array, expiresAtSeconds: number, now: number): Promise<MarkResult> {
    if (this.#closed) return UNAVAILABLE;
    if (this.#codes.mark(code, expiresAtSeconds, now) === "replay") return REPLAY;
    // Not used here before: the database decides (a use before a restart).
    const { promise, resolve } = Promise.withResolvers<MarkResult>();
    this.#batch.push({ code, expiresAt: expiresAtSeconds, now, resolve });
    this.#flushTimer ??= setTimeout(() => this.#flush(), this.#delayMs);
    return promise;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#flush();
    this.#closed = true;
    this.#stopCleanup();
    this.#db.close();
  }

  /** Commits the waiting codes (after any commit in progress) and answers them. */
  #flush(): Promise<void> {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    const batch = this.#batch;
    if (batch.length === 0) return this.#committing;
    this.#batch = [];
    this.#committing = this.#committing.then(() => this.#commit(batch));
    return this.#committing;
  }

  async #commit(batch: Pending[]): Promise<void> {
    let results: MarkResult[];
    try {
      const gone = this.#file.gone(false);
      if (gone !== null) {
        this.#failures.error("Replay database file is gone: restart to open the new one", {
          cause: gone,
        });
        throw new Error(`Replay database file ${gone}`);
      }
      results = await retryWhileBusy(
        () => this.#transaction(batch),
        this.#waitMs,
        () => this.#closed,
      );
    } catch (error) {
      if (!this.#closed) {
        this.#failures.warn("Replay store unavailable", { cause: describeError(error) });
      }
      // Nothing was recorded: the codes may come again and be judged then.
      for (const p of batch) {
        this.#codes.forget(p.code);
        p.resolve("unavailable");
      }
      return;
    }
    batch.forEach((p, i) => p.resolve(results[i]!));
    if (this.#expiredLeft) this.#cleanupStep();
  }

  /** One transaction marking every code (rolled back whole on failure, so safe to repeat). */
  #transaction(batch: readonly Pending[]): MarkResult[] {
    const results: MarkResult[] = [];
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      for (const p of batch) {
        const { changes } = this.#mark.run(p.code, Math.ceil(p.expiresAt), Math.floor(p.now));
        results.push(changes === 0 ? "replay" : "fresh");
      }
      this.#db.exec("COMMIT");
      return results;
    } catch (error) {
      try {
        this.#db.exec("ROLLBACK");
      } catch { /* the transaction did not start, or SQLite already ended it */ }
      throw error;
    }
  }

  /** Deletes up to {@link CLEANUP_STEP} expired rows; notes whether more are left. */
  #cleanupStep(): void {
    try {
      const { changes } = this.#cleanup.run(Math.floor(this.#clock()));
      this.#expiredLeft = changes >= CLEANUP_STEP;
    } catch {
      // A locked or failing database is retried later; marking reports its own failures.
      this.#expiredLeft = false;
    }
  }
}
