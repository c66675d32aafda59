/**
 * A replay store in a SQLite file (the reference's `recent-hmacs.db`), so
 * used codes survive a restart. Same table as the reference
 * (`server-config-storage.md` §3.5), so either implementation can open a file
 * the other wrote.
 *
 * @module
 */

import { describeError, type Logger, silentLogger, ThrottledLog } from "../log.ts";
import {
  configureConnection,
  openSqlite,
  retryWhileBusy,
  type SqliteDb,
  stopBlockingOnBusy,
} from "../storage/sqlite/driver.ts";
import { DatabaseFile } from "../storage/sqlite/file_watch.ts";
import type { ReplayStore } from "./replay_store.ts";

/** Options for {@link sqliteReplayStore}. */
export interface SqliteReplayStoreOptions {
  /** Database file, or `:memory:`. */
  readonly path: string;
  /**
   * How long marking a code waits for another connection's lock before it is
   * `unavailable`, ms (default 5000). The wait does not block the thread.
   */
  readonly busyTimeoutMs?: number;
  /** How often expired codes are deleted (default 60,000 ms). */
  readonly cleanupIntervalMs?: number;
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

/**
 * Opens (creating if needed) the store at `opts.path` and starts a periodic
 * clean-up, which {@link ReplayStore.close} stops. Any database error while
 * marking answers `unavailable`.
 */
export async function sqliteReplayStore(opts: SqliteReplayStoreOptions): Promise<ReplayStore> {
  const clock = opts.clock ?? (() => Date.now() / 1000);
  const db: SqliteDb = await openSqlite(opts.path);
  const waitMs = opts.busyTimeoutMs ?? 5000;
  try {
    configureConnection(db, opts.path, waitMs);
    db.exec(SCHEMA);
    stopBlockingOnBusy(db);
  } catch (e) {
    db.close();
    throw e;
  }
  const mark = db.prepare(MARK);
  const cleanup = db.prepare("DELETE FROM httppubsub_hmacs WHERE expires_at < ?");
  const sweep = (): void => {
    try {
      cleanup.run(Math.floor(clock()));
    } catch {
      // A locked or failing database is retried on the next tick; marking
      // reports its own failures.
    }
  };
  sweep();
  const timer = setInterval(sweep, opts.cleanupIntervalMs ?? 60_000);
  // Node and Bun: the clean-up alone should not keep the process alive.
  (timer as unknown as { unref?: () => void }).unref?.();
  let closed = false;
  const isClosed = () => closed;
  const failures = new ThrottledLog(opts.log ?? silentLogger);
  const file = new DatabaseFile(opts.path);
  return {
    async markUsed(code, expiresAtSeconds, now) {
      if (closed) return "unavailable";
      const gone = file.gone(false);
      if (gone !== null) {
        failures.error("Replay database file is gone: restart to open the new one", {
          path: opts.path,
          cause: gone,
        });
        return "unavailable";
      }
      try {
        const { changes } = await retryWhileBusy(
          () => mark.run(code, Math.ceil(expiresAtSeconds), Math.floor(now)),
          waitMs,
          isClosed,
        );
        return changes === 0 ? "replay" : "fresh";
      } catch (error) {
        if (!closed) failures.warn("Replay store unavailable", { cause: describeError(error) });
        return "unavailable";
      }
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      clearInterval(timer);
      db.close();
      return Promise.resolve();
    },
  };
}
