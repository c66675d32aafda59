/**
 * {@link SubscriptionAdmin} on SQLite: the shared SQL of `admin_sql.ts` run
 * on the store's connection, every write in one `BEGIN IMMEDIATE`
 * transaction, so the CLI can run beside a live server on the same file.
 *
 * @module
 */

import type {
  DeliveryTally,
  PrunedUrl,
  PruneOptions,
  PruneRecord,
  PruneRule,
  StatsPage,
  StatsQuery,
  SubscriptionReport,
} from "../admin_types.ts";
import type { SqliteDb, SqliteStatement } from "./driver.ts";
import { transaction } from "./driver.ts";
import { rollback } from "./glob_cache.ts";
import * as q from "./admin_sql.ts";

/** Runs the shared admin SQL on one connection, each statement prepared once. */
export class SqliteAdmin {
  #db: SqliteDb;
  #prepared = new Map<string, SqliteStatement>();

  constructor(db: SqliteDb) {
    this.#db = db;
  }

  #st(sql: string): SqliteStatement {
    let st = this.#prepared.get(sql);
    if (st === undefined) {
      st = this.#db.prepare(sql);
      this.#prepared.set(sql, st);
    }
    return st;
  }

  #all([sql, ...params]: q.SqlStatement): q.SqlRow[] {
    return this.#st(sql).all(...params).map((r) => Object.values(r));
  }

  #run([sql, ...params]: q.SqlStatement): number {
    return this.#st(sql).run(...params).changes;
  }

  /** See {@link SubscriptionAdmin.recordDeliveries}. */
  record(tallies: readonly DeliveryTally[]): void {
    if (tallies.length === 0) return;
    transaction(this.#db, () => {
      for (const t of tallies) this.#run(q.recordStatement(t));
    });
  }

  /** See {@link SubscriptionAdmin.listSubscriptionStats}. */
  page(query: StatsQuery): StatsPage {
    return readTogether(this.#db, () => {
      const [countFailing, failingRows] = q.failingStatements(query);
      const failing = Number(this.#all(countFailing)[0]?.[0] ?? 0);
      const rows = query.offset < failing ? this.#all(failingRows).map(q.statsRow) : [];
      const [countAll, healthyRows] = q.healthyStatements(
        query,
        query.limit - rows.length,
        Math.max(0, query.offset - failing),
      );
      if (rows.length < query.limit) rows.push(...this.#all(healthyRows).map(q.statsRow));
      return { rows, total: Number(this.#all(countAll)[0]?.[0] ?? 0) };
    });
  }

  /** See {@link SubscriptionAdmin.subscriptionReport}. */
  report(top: number): SubscriptionReport {
    return readTogether(this.#db, () => {
      const t = this.#all([q.TOTALS])[0] ?? [];
      return {
        exacts: Number(t[0] ?? 0),
        globs: Number(t[1] ?? 0),
        urls: Number(t[2] ?? 0),
        failingUrls: Number(t[3] ?? 0),
        topFailing: top > 0 ? this.#all([q.TOP_FAILING, top]).map(q.failingRow) : [],
        topKeys: top > 0 ? this.#all([q.TOP_KEYS, top]).map(q.topKeyRow) : [],
      };
    });
  }

  /**
   * See {@link SubscriptionAdmin.pruneSubscriptions}. Returns whether glob
   * rows went too (the caller's glob index must then reload).
   */
  prune(rule: PruneRule, opts: PruneOptions): { urls: PrunedUrl[]; globs: boolean } {
    const reason = opts.reason ?? rule.kind;
    const work = (): PrunedUrl[] => {
      if (rule.kind === "lease") return this.#expire(rule, opts, reason);
      const urls = this.#all(q.candidatesStatement(rule, opts.now)).map((r) => ({
        url: String(r[0]),
        exacts: Number(r[1]),
        globs: Number(r[2]),
      }));
      if (opts.dryRun === true) return urls;
      for (const u of urls) {
        for (const sql of q.DELETE_URL) this.#run([sql, u.url]);
        this.#run([q.INSERT_PRUNE, opts.now, u.url, reason, u.exacts, u.globs]);
      }
      return urls;
    };
    const urls = opts.dryRun === true ? readTogether(this.#db, work) : transaction(this.#db, work);
    return { urls, globs: opts.dryRun !== true && urls.some((u) => u.globs > 0) };
  }

  #expire(rule: PruneRule & { kind: "lease" }, opts: PruneOptions, reason: string): PrunedUrl[] {
    if (opts.dryRun !== true) { for (const sql of q.START_LEASES) this.#run([sql, opts.now]); }
    const byUrl = new Map<string, { url: string; exacts: number; globs: number }>();
    for (const [kind, id, url] of this.#all(q.expiredStatement(rule))) {
      const u = String(url);
      const entry = byUrl.get(u) ?? { url: u, exacts: 0, globs: 0 };
      byUrl.set(u, entry);
      if (Number(kind) === 0) entry.exacts++;
      else entry.globs++;
      if (opts.dryRun !== true) this.#run([q.DELETE_BY_ID[Number(kind)]!, Number(id)]);
    }
    const urls = [...byUrl.values()].sort((a, b) => a.url < b.url ? -1 : a.url > b.url ? 1 : 0);
    if (opts.dryRun !== true) {
      for (const u of urls) this.#run([q.INSERT_PRUNE, opts.now, u.url, reason, u.exacts, u.globs]);
    }
    return urls;
  }

  /** See {@link SubscriptionAdmin.listPrunes}. */
  prunes(limit: number): PruneRecord[] {
    return this.#all([q.LIST_PRUNES, limit]).map(q.pruneRow);
  }
}

/** Runs reads in one snapshot. */
function readTogether<T>(db: SqliteDb, fn: () => T): T {
  db.exec("BEGIN DEFERRED");
  try {
    const out = fn();
    db.exec("COMMIT");
    return out;
  } catch (e) {
    rollback(db);
    throw e;
  }
}
