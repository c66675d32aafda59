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
  DeliveryTally,
  LeasedMissed,
  MissedRetry,
  PrunedUrl,
  PruneOptions,
  PruneRecord,
  PruneRule,
  ReleaseResult,
  StatsPage,
  StatsQuery,
  Store,
  Subscriber,
  SubscribeResult,
  SubscriptionKey,
  SubscriptionReport,
  SubscriptionSet,
  UnsubscribeResult,
  WriteResult,
} from "../types.ts";
import { SqliteAdmin } from "./admin.ts";
import { describeError, type Logger, silentLogger, ThrottledLog } from "../../log.ts";
import {
  configureConnection,
  openSqlite,
  retryWhileBusy,
  type SqliteDb,
  stopBlockingOnBusy,
  transaction,
} from "./driver.ts";
import { isUnavailableError } from "./errors.ts";
import { DatabaseFile } from "./file_watch.ts";
import { GlobCache, rollback } from "./glob_cache.ts";
import { leaseOverdue, releaseMissed, upsertMissed } from "./missed.ts";
import { migrate } from "./schema.ts";
import { setSubscriptions } from "./set_subscriptions.ts";
import { prepareStatements, type Statements } from "./statements.ts";

const UNAVAILABLE: Promise<"unavailable"> = Promise.resolve("unavailable");

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /** Database file; `""` or `":memory:"` for a private in-memory database. */
  readonly path: string;
  /**
   * How long an operation waits for another connection's lock before it is
   * `"unavailable"`, ms (default 5000). The wait is asynchronous (short
   * attempts between timers): other requests go on meanwhile.
   */
  readonly busyTimeoutMs?: number;
  /** Where failures are reported (rate limited), with their cause. Default: nowhere. */
  readonly log?: Logger;
}

/**
 * Opens (creating or migrating as needed) the SQLite store at `opts.path`.
 *
 * @throws {Error} when the file cannot be opened or has a newer schema version
 */
export async function openSqliteStore(opts: SqliteStoreOptions): Promise<Store> {
  const path = opts.path === "" ? ":memory:" : opts.path;
  const db = await openSqlite(path);
  const waitMs = opts.busyTimeoutMs ?? 5000;
  try {
    // Start-up may block on a lock like SQLite always does; requests never will.
    configureConnection(db, path, waitMs);
    migrate(db);
    stopBlockingOnBusy(db);
    const file = new DatabaseFile(path);
    return new SqliteStore(db, { path, file, waitMs, log: opts.log ?? silentLogger });
  } catch (e) {
    db.close();
    throw e;
  }
}

interface StoreSettings {
  readonly path: string;
  /** The file as opened, to notice it deleted or replaced. */
  readonly file: DatabaseFile;
  readonly waitMs: number;
  readonly log: Logger;
}

/** An exact subscribe waiting for its group commit. */
interface PendingExact {
  readonly url: string;
  readonly topic: Uint8Array;
  readonly recovery: string | null;
  readonly resolve: (result: SubscribeResult) => void;
  readonly reject: (error: unknown) => void;
}

class SqliteStore implements Store {
  #db: SqliteDb;
  #st: Statements;
  #globs: GlobCache;
  #admin: SqliteAdmin;
  #closed = false;
  /** Exact subscribes waiting for the next group commit. */
  #exacts: PendingExact[] = [];
  readonly #settings: StoreSettings;
  readonly #failures: ThrottledLog;
  readonly #isClosed = () => this.#closed;

  constructor(db: SqliteDb, settings: StoreSettings) {
    this.#db = db;
    this.#st = prepareStatements(db);
    this.#globs = new GlobCache(db, settings.path === ":memory:");
    this.#admin = new SqliteAdmin(db);
    this.#settings = settings;
    this.#failures = new ThrottledLog(settings.log);
  }

  /**
   * Runs `fn` (one statement or one transaction, so safe to repeat), waiting
   * out another process's lock for up to the busy timeout without blocking;
   * contention, I/O errors, a closed store and a database file deleted or
   * replaced under us are `"unavailable"` (logged, rate limited, with the cause).
   */
  #guard<T>(
    op: string,
    fn: (st: Statements) => T,
    read = false,
  ): Promise<T | "unavailable"> {
    if (this.#closed) return UNAVAILABLE;
    const moved = this.#settings.file.gone(read);
    if (moved !== null) {
      this.#failures.error("SQLite database file is gone: restart to open the new one", {
        op,
        path: this.#settings.path,
        cause: moved,
      });
      return UNAVAILABLE;
    }
    // Not async: an uncontended statement is synchronous, and its answer needs no extra
    // object per call beyond the resolved promise.
    let answer: T | Promise<T>;
    try {
      answer = retryWhileBusy(() => fn(this.#st), this.#settings.waitMs, this.#isClosed);
    } catch (e) {
      return this.#failed(op, e);
    }
    if (!(answer instanceof Promise)) return Promise.resolve(answer);
    return answer.catch((e) => this.#failed(op, e));
  }

  /** `"unavailable"` for a failure that means so (logged), else the failure itself. */
  #failed(op: string, e: unknown): Promise<"unavailable"> {
    if (!isUnavailableError(e) || this.#closed) {
      return this.#closed ? UNAVAILABLE : Promise.reject(e);
    }
    this.#failures.warn("SQLite store unavailable", { op, cause: describeError(e) });
    return UNAVAILABLE;
  }

  /**
   * Exact subscribes that arrive together share one transaction (group
   * commit): the first queues a commit for the next turn of the event loop
   * (`setImmediate`, ~2 µs; a microtask would run before other requests get
   * their turn, a 0 ms timer waits a millisecond or more), and each is
   * answered once the transaction holding it has committed, exactly as if it
   * had run alone, in arrival order. At 16 concurrent subscribes on a file
   * that is 5–6 inserts a commit: 77 instead of 123 µs of CPU a subscribe.
   */
  subscribeExact(
    url: string,
    topic: Uint8Array,
    recovery: string | null,
  ): Promise<SubscribeResult> {
    return new Promise((resolve, reject) => {
      this.#exacts.push({ url, topic, recovery, resolve, reject });
      if (this.#exacts.length === 1) nextTurn(() => void this.#commitExacts());
    });
  }

  /** Inserts every queued exact subscribe in one transaction. */
  async #commitExacts(): Promise<void> {
    const batch = this.#exacts;
    this.#exacts = [];
    const now = Date.now();
    // A repeated subscribe still conflicts (the wire says so) but renews the lease.
    const insert = (st: Statements, p: PendingExact): SubscribeResult => {
      if (st.subscribeExact.run(p.url, p.topic, p.recovery, now).changes > 0) return "success";
      st.renewExact.run(now, p.topic, p.url);
      return "conflict";
    };
    try {
      const results = await this.#guard(
        "subscribeExact",
        (st) =>
          batch.length === 1
            ? [insert(st, batch[0]!)]
            : transaction(this.#db, () => batch.map((p) => insert(st, p))),
      );
      batch.forEach((p, i) => p.resolve(results === "unavailable" ? results : results[i]!));
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }

  unsubscribeExact(url: string, topic: Uint8Array): Promise<UnsubscribeResult> {
    return this.#guard(
      "unsubscribeExact",
      (st) => st.unsubscribeExact.run(topic, url).changes > 0 ? "success" : "not_found",
    );
  }

  subscribeGlob(url: string, glob: string, recovery: string | null): Promise<SubscribeResult> {
    return this.#guard("subscribeGlob", (st) => {
      const now = Date.now();
      const n = this.#globWrite(() => st.subscribeGlob.run(url, glob, recovery, now).changes);
      if (n === 0) {
        st.renewGlob.run(now, glob, url);
        return "conflict";
      }
      this.#globs.apply([{ op: "put", url, glob, recovery }]);
      return "success";
    });
  }

  unsubscribeGlob(url: string, glob: string): Promise<UnsubscribeResult> {
    return this.#guard("unsubscribeGlob", (st) => {
      const n = this.#globWrite(() => st.unsubscribeGlob.run(glob, url).changes);
      if (n === 0) return "not_found";
      this.#globs.apply([{ op: "remove", url, glob }]);
      return "success";
    });
  }

  listSubscriptions(url: string): Promise<SubscriptionSet | "unavailable"> {
    return this.#guard("listSubscriptions", (st) => {
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
    }, true);
  }

  setSubscriptions(url: string, desired: SubscriptionSet): Promise<WriteResult> {
    return this.#guard("setSubscriptions", (st) => {
      setSubscriptions(this.#db, st, this.#globs, url, desired);
      return "success" as const;
    });
  }

  getSubscribers(topic: Uint8Array): Promise<Subscriber[] | "unavailable"> {
    return this.#guard("getSubscribers", (st) => {
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
    }, true);
  }

  upsertMissed(
    subscription: SubscriptionKey,
    recovery: string,
    topic: Uint8Array,
    retry: MissedRetry,
  ): Promise<WriteResult> {
    return this.#guard("upsertMissed", (st) => {
      upsertMissed(this.#db, st, this.#globs, subscription, recovery, topic, retry);
      return "success" as const;
    });
  }

  leaseOverdueMissed(
    now: number,
    limit: number,
    leaseMs: number,
  ): Promise<LeasedMissed[] | "unavailable"> {
    return this.#guard(
      "leaseOverdueMissed",
      (st) => leaseOverdue(this.#db, st, now, limit, leaseMs),
    );
  }

  releaseMissed(leased: LeasedMissed, retry: MissedRetry | null): Promise<ReleaseResult> {
    return this.#guard(
      "releaseMissed",
      (st) => releaseMissed(st, leased, retry) ? "ok" : "conflict",
    );
  }

  async ping(): Promise<"ok" | "unavailable"> {
    const r = await this.#guard("ping", (st) => st.ping.get());
    return r === "unavailable" ? r : "ok";
  }

  countPendingMissed(): Promise<number | "unavailable"> {
    return this.#guard(
      "countPendingMissed",
      (st) => Number(st.pendingMissed.get()?.["n"] ?? 0),
      true,
    );
  }

  recordDeliveries(tallies: readonly DeliveryTally[]): Promise<WriteResult> {
    return this.#guard("recordDeliveries", () => {
      this.#admin.record(tallies);
      return "success" as const;
    });
  }

  listSubscriptionStats(query: StatsQuery): Promise<StatsPage | "unavailable"> {
    return this.#guard("listSubscriptionStats", () => this.#admin.page(query), true);
  }

  subscriptionReport(top: number): Promise<SubscriptionReport | "unavailable"> {
    return this.#guard("subscriptionReport", () => this.#admin.report(top), true);
  }

  pruneSubscriptions(
    rule: PruneRule,
    options: PruneOptions,
  ): Promise<PrunedUrl[] | "unavailable"> {
    return this.#guard("pruneSubscriptions", () => {
      try {
        const out = this.#admin.prune(rule, options);
        if (out.globs) this.#globs.invalidate();
        return out.urls;
      } catch (e) {
        this.#globs.invalidate();
        throw e;
      }
    });
  }

  listPrunes(limit: number): Promise<PruneRecord[] | "unavailable"> {
    return this.#guard("listPrunes", () => this.#admin.prunes(limit), true);
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

type Immediate = (run: () => void) => unknown;
let immediate: Immediate | null = null;

/**
 * `setImmediate` from `node:timers`, imported on the first use: on Deno that
 * module (or even the global `setImmediate`) loads part of the Node
 * compatibility layer, which an idle broadcaster does not need.
 */
function nextTurn(run: () => void): void {
  if (immediate !== null) {
    immediate(run);
    return;
  }
  void import("node:timers").then((timers) => {
    immediate = timers.setImmediate;
    immediate(run);
  });
}
