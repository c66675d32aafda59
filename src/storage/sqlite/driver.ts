/**
 * The one seam between our SQLite code and the runtime's SQLite binding:
 * `node:sqlite` on Deno (≥ 2.2) and Node (≥ 22.5), `bun:sqlite` on Bun.
 * Everything above this file speaks {@link SqliteDb}.
 *
 * @module
 */

import { isBusyError } from "./errors.ts";

/** A value bound to or read from SQLite. BLOBs are `Uint8Array`. */
export type SqlValue = null | number | bigint | string | Uint8Array;

/** A row as returned by a query: column name → value. */
export type SqlRow = Record<string, SqlValue>;

/** A prepared statement. */
export interface SqliteStatement {
  /** Runs a write; returns the number of changed rows. */
  run(...params: SqlValue[]): { changes: number };
  /** Runs a query and returns every row. */
  all(...params: SqlValue[]): SqlRow[];
  /** Runs a query and returns the first row, if any. */
  get(...params: SqlValue[]): SqlRow | undefined;
}

/** An open database connection. */
export interface SqliteDb {
  /** Executes one or more statements without parameters. */
  exec(sql: string): void;
  /** Prepares a statement (callers cache what they reuse). */
  prepare(sql: string): SqliteStatement;
  /** Closes the connection. */
  close(): void;
}

interface BunStatement {
  run(...p: SqlValue[]): { changes: number };
  all(...p: SqlValue[]): SqlRow[];
  get(...p: SqlValue[]): SqlRow | null;
}
interface BunDatabase {
  exec(sql: string): void;
  prepare(sql: string): BunStatement;
  close(): void;
}
interface NodeStatement {
  run(...p: SqlValue[]): { changes: number | bigint };
  all(...p: SqlValue[]): SqlRow[];
  get(...p: SqlValue[]): SqlRow | undefined;
}
interface NodeDatabase {
  exec(sql: string): void;
  prepare(sql: string): NodeStatement;
  close(): void;
}

/**
 * Opens `path` (a file path or `:memory:`) with the runtime's binding.
 * Loaded lazily so Deno never parses Bun's module and vice versa.
 */
export async function openSqlite(path: string): Promise<SqliteDb> {
  if ("Bun" in globalThis) {
    // A computed specifier keeps Deno's type-checker from resolving it.
    const specifier = "bun:" + "sqlite";
    const mod = await import(specifier) as {
      Database: new (path: string, opts?: { create?: boolean; strict?: boolean }) => BunDatabase;
    };
    const db = new mod.Database(path, { create: true, strict: true });
    return {
      exec: (sql) => db.exec(sql),
      prepare(sql) {
        const st = db.prepare(sql);
        return {
          run: (...p) => ({ changes: Number(st.run(...p).changes) }),
          all: (...p) => st.all(...p).map(normaliseBunRow),
          get: (...p) => {
            const row = st.get(...p);
            return row === null ? undefined : normaliseBunRow(row);
          },
        };
      },
      close: () => db.close(),
    };
  }
  const mod = await import("node:sqlite") as unknown as {
    DatabaseSync: new (path: string) => NodeDatabase;
  };
  const db = new mod.DatabaseSync(path);
  return {
    exec: (sql) => db.exec(sql),
    prepare(sql) {
      const st = db.prepare(sql);
      return {
        run: (...p) => ({ changes: Number(st.run(...p).changes) }),
        all: (...p) => st.all(...p),
        get: (...p) => st.get(...p),
      };
    },
    close: () => db.close(),
  };
}

// Bun hands BLOBs back as Buffer (a Uint8Array subclass); make them plain.
function normaliseBunRow(row: SqlRow): SqlRow {
  for (const k in row) {
    const v = row[k];
    if (v instanceof Uint8Array && v.constructor !== Uint8Array) {
      row[k] = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    }
  }
  return row;
}

/**
 * Runs `fn` inside `BEGIN IMMEDIATE … COMMIT`, rolling back on any error so a
 * failure never leaves the connection inside an open transaction.
 */
export function transaction<T>(db: SqliteDb, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const out = fn();
    db.exec("COMMIT");
    return out;
  } catch (e) {
    try {
      db.exec("ROLLBACK");
    } catch {
      // The transaction may already be gone (e.g. SQLITE_FULL rolled it back).
    }
    throw e;
  }
}

/**
 * Applies the pragmas every connection of ours wants: WAL for files (readers
 * never block the writer), a busy timeout for other processes sharing the
 * file, and foreign keys.
 *
 * `busyTimeoutMs` is SQLite's own wait, which blocks the thread (and so every
 * request): open with a generous one for start-up, then call
 * {@link stopBlockingOnBusy} and wait with {@link retryWhileBusy} instead.
 */
export function configureConnection(db: SqliteDb, path: string, busyTimeoutMs: number): void {
  db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  if (path !== ":memory:" && path !== "") {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
  }
  db.exec("PRAGMA foreign_keys = ON");
}

/** From now on a locked database fails at once (SQLITE_BUSY) instead of blocking the thread. */
export function stopBlockingOnBusy(db: SqliteDb): void {
  db.exec("PRAGMA busy_timeout = 0");
}

/** Longest pause between two attempts on a locked database, ms. */
const MAX_BACKOFF_MS = 50;

/**
 * Runs `fn` (a synchronous SQLite operation that is safe to repeat: one
 * statement or one transaction) and, while it fails with SQLITE_BUSY, runs it
 * again after a growing pause (1, 2, 4 … 50 ms) until `waitMs` has passed,
 * then rethrows the last error. The pauses are timers, so other requests run
 * meanwhile; each attempt costs microseconds because the connection does not
 * block on busy (see {@link stopBlockingOnBusy}). The first attempt is
 * synchronous, so an uncontended call costs no timer. `stopped` ends the wait
 * early (a closed store).
 */
export function retryWhileBusy<T>(
  fn: () => T,
  waitMs: number,
  stopped: () => boolean = () => false,
): T | Promise<T> {
  try {
    return fn();
  } catch (error) {
    if (!isBusyError(error) || !(waitMs > 0)) throw error;
    return retryLater(fn, performance.now() + waitMs, stopped, error);
  }
}

async function retryLater<T>(
  fn: () => T,
  until: number,
  stopped: () => boolean,
  first: unknown,
): Promise<T> {
  let last = first;
  for (let pause = 1;; pause = Math.min(pause * 2, MAX_BACKOFF_MS)) {
    const left = until - performance.now();
    if (left <= 0 || stopped()) throw last;
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)));
    if (stopped()) throw last;
    try {
      return fn();
    } catch (error) {
      if (!isBusyError(error)) throw error;
      last = error;
    }
  }
}
