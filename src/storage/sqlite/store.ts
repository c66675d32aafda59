/**
 * The embedded SQLite implementation of {@link Store}.
 *
 * One connection per store (WAL for files, so several broadcaster processes can
 * share one file), every statement prepared once, every multi-statement write
 * in one `BEGIN IMMEDIATE` transaction that always ends (commit or rollback).
 * Contention and I/O failures become `"unavailable"`; the connection stays usable.
 *
 * @example
 * ```ts
 * import { openSqliteStore } from "./store.ts";
 * const store = await openSqliteStore({ path: ":memory:" });
 * await store.subscribeGlob("http://127.0.0.1:3002/v1/receive", "news/*", null);
 * const subs = await store.getSubscribers(new TextEncoder().encode("news/today"));
 * console.assert(subs !== "unavailable" && subs.length === 1);
 * await store.close();
 * ```
 *
 * @module
 */

import type {
  LeasedMissed,
  MissedRetry,
  ReleaseResult,
  Store,
  Subscriber,
  SubscribeResult,
  SubscriptionKey,
  SubscriptionSet,
  UnsubscribeResult,
  WriteResult,
} from "../types.ts";
import { configureConnection, openSqlite, type SqliteDb, transaction } from "./driver.ts";
import { isUnavailableError } from "./errors.ts";
import { GlobCache, rollback } from "./glob_cache.ts";
import { leaseOverdue, releaseMissed, upsertMissed } from "./missed.ts";
import { migrate } from "./schema.ts";
import { setSubscriptions } from "./set_subscriptions.ts";
import { prepareStatements, type Statements } from "./statements.ts";

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /** Database file; `""` or `":memory:"` for a private in-memory database. */
  readonly path: string;
  /** How long to wait for another connection's write lock, ms (default 5000). */
  readonly busyTimeoutMs?: number;
}

/**
 * Opens (creating or migrating as needed) the SQLite store at `opts.path`.
 *
 * @throws {Error} when the file cannot be opened or has a newer schema version
 */
export async function openSqliteStore(opts: SqliteStoreOptions): Promise<Store> {
  const path = opts.path === "" ? ":memory:" : opts.path;
  const db = await openSqlite(path);
  try {
    configureConnection(db, path, opts.busyTimeoutMs ?? 5000);
    migrate(db);
    return new SqliteStore(db, path === ":memory:");
  } catch (e) {
    db.close();
    throw e;
  }
}

class SqliteStore implements Store {
  #db: SqliteDb;
  #st: Statements;
  #globs: GlobCache;
  #closed = false;

  constructor(db: SqliteDb, inMemory: boolean) {
    this.#db = db;
    this.#st = prepareStatements(db);
    this.#globs = new GlobCache(db, inMemory);
  }

  // Runs `fn`, mapping contention/I/O errors (and a closed store) to "unavailable".
  #guard<T>(fn: (st: Statements) => T): Promise<T | "unavailable"> {
    if (this.#closed) return Promise.resolve("unavailable");
    try {
      return Promise.resolve(fn(this.#st));
    } catch (e) {
      if (isUnavailableError(e)) return Promise.resolve("unavailable");
      return Promise.reject(e);
    }
  }

  subscribeExact(
    url: string,
    topic: Uint8Array,
    recovery: string | null,
  ): Promise<SubscribeResult> {
    return this.#guard((st) =>
      st.subscribeExact.run(url, topic, recovery).changes > 0 ? "success" : "conflict"
    );
  }

  unsubscribeExact(url: string, topic: Uint8Array): Promise<UnsubscribeResult> {
    return this.#guard((st) =>
      st.unsubscribeExact.run(topic, url).changes > 0 ? "success" : "not_found"
    );
  }

  subscribeGlob(url: string, glob: string, recovery: string | null): Promise<SubscribeResult> {
    return this.#guard((st) => {
      const n = this.#globWrite(() => st.subscribeGlob.run(url, glob, recovery).changes);
      if (n === 0) return "conflict";
      this.#globs.apply([{ op: "put", url, glob, recovery }]);
      return "success";
    });
  }

  unsubscribeGlob(url: string, glob: string): Promise<UnsubscribeResult> {
    return this.#guard((st) => {
      const n = this.#globWrite(() => st.unsubscribeGlob.run(glob, url).changes);
      if (n === 0) return "not_found";
      this.#globs.apply([{ op: "remove", url, glob }]);
      return "success";
    });
  }

  listSubscriptions(url: string): Promise<SubscriptionSet | "unavailable"> {
    return this.#guard((st) => {
      // One read transaction: both lists come from the same snapshot.
      this.#db.exec("BEGIN DEFERRED");
      try {
        const exacts = st.listExacts.all(url).map((r) => ({
          topic: r["exact"] as Uint8Array,
          recovery: (r["missed_url"] ?? null) as string | null,
        }));
        const globs = st.listGlobs.all(url).map((r) => ({
          glob: String(r["glob"]),
          recovery: (r["missed_url"] ?? null) as string | null,
        }));
        this.#db.exec("COMMIT");
        return { exacts, globs };
      } catch (e) {
        rollback(this.#db);
        throw e;
      }
    });
  }

  setSubscriptions(url: string, desired: SubscriptionSet): Promise<WriteResult> {
    return this.#guard((st) => {
      setSubscriptions(this.#db, st, this.#globs, url, desired);
      return "success" as const;
    });
  }

  getSubscribers(topic: Uint8Array): Promise<Subscriber[] | "unavailable"> {
    return this.#guard((st) => {
      const out: Subscriber[] = [];
      for (const r of st.exactSubscribers.all(topic)) {
        out.push({
          kind: "exact",
          url: String(r["url"]),
          recovery: (r["missed_url"] ?? null) as string | null,
        });
      }
      this.#globs.sync();
      for (const g of this.#globs.match(topic)) out.push(g);
      return out;
    });
  }

  upsertMissed(
    subscription: SubscriptionKey,
    recovery: string,
    topic: Uint8Array,
    retry: MissedRetry,
  ): Promise<WriteResult> {
    return this.#guard((st) => {
      upsertMissed(this.#db, st, this.#globs, subscription, recovery, topic, retry);
      return "success" as const;
    });
  }

  leaseOverdueMissed(
    now: number,
    limit: number,
    leaseMs: number,
  ): Promise<LeasedMissed[] | "unavailable"> {
    return this.#guard((st) => leaseOverdue(this.#db, st, now, limit, leaseMs));
  }

  releaseMissed(leased: LeasedMissed, retry: MissedRetry | null): Promise<ReleaseResult> {
    return this.#guard((st) => releaseMissed(st, leased, retry) ? "ok" : "conflict");
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#db.close();
    }
    return Promise.resolve();
  }

  // A glob write in one transaction that also tracks the glob generation.
  #globWrite(fn: () => number): number {
    try {
      return transaction(this.#db, () => {
        const before = this.#globs.beforeWrite();
        const n = fn();
        this.#globs.afterWrite(before);
        return n;
      });
    } catch (e) {
      this.#globs.invalidate();
      throw e;
    }
  }
}
