/**
 * The operations of the PostgreSQL store (opened by `store.ts`): each one a
 * statement or a transaction, bounded by the timeout, a failure of any kind
 * `"unavailable"` (logged without the password, rate limited).
 *
 * @module
 */

import { describeError, type ThrottledLog } from "../../log.ts";
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
import type { Sql } from "./driver.ts";
import * as admin from "./admin.ts";
import { GenerationGlobCache, type GlobSnapshot } from "../glob_generation.ts";
import type { GlobListener } from "./listener.ts";
import { leaseOverdue, releaseMissed } from "./missed.ts";
import type { Names } from "./schema.ts";
import { setSubscriptions } from "./set_subscriptions.ts";
import { type Statements, statements } from "./sql.ts";
import { bytesOf, textOrNull } from "./values.ts";

/** A {@link Store} over an open pool whose schema is current. */
export class PostgresStore implements Store {
  #sql: Sql;
  #st: Statements;
  #names: Names;
  #timeoutMs: number;
  #failures: ThrottledLog;
  #label: string;
  #globs = new GenerationGlobCache();
  readonly #load = () => this.#loadGlobs();
  #closed = false;
  #checking: Promise<void> | null = null;
  #checkAgain = false;
  /** The wake-up source, closed with the store. */
  listener: GlobListener | null = null;

  /** A store on `sql` for the tables `n`; failures go to `failures`, naming the server `label`. */
  constructor(sql: Sql, n: Names, timeoutMs: number, failures: ThrottledLog, label: string) {
    this.#sql = sql;
    this.#names = n;
    this.#st = statements(n);
    this.#timeoutMs = timeoutMs;
    this.#failures = failures;
    this.#label = label;
  }

  /**
   * Runs `fn` bounded by the timeout; any failure is `"unavailable"` (logged
   * without the password, rate limited).
   */
  async #op<T>(what: string, fn: (sql: Sql) => Promise<T>): Promise<T | "unavailable"> {
    if (this.#closed) return "unavailable";
    let timer: ReturnType<typeof setTimeout> | undefined;
    const work = fn(this.#sql);
    work.catch(() => {}); // a late failure after the timeout is already reported
    const timeout = new Promise<typeof TIMED_OUT>((r) => {
      timer = setTimeout(() => r(TIMED_OUT), this.#timeoutMs);
    });
    try {
      const r = await Promise.race([work, timeout]);
      if (r === TIMED_OUT) {
        this.#failures.warn("PostgreSQL unavailable", {
          db: this.#label,
          op: what,
          error: `no answer within ${this.#timeoutMs} ms`,
        });
        return "unavailable";
      }
      return r;
    } catch (e) {
      this.#failures.warn("PostgreSQL unavailable", {
        db: this.#label,
        op: what,
        error: describeError(e),
      });
      return "unavailable";
    } finally {
      clearTimeout(timer);
    }
  }

  async #loadGlobs(): Promise<GlobSnapshot | null> {
    const rows = await this.#op("load globs", (sql) => sql.unsafe(this.#st.allGlobs));
    if (rows === "unavailable") return null;
    let generation = 0;
    const out: { url: string; glob: string; recovery: string | null }[] = [];
    for (const r of rows) {
      if (r.url === null) generation = Number(r.generation);
      else {out.push({
          url: String(r.url),
          glob: String(r.glob),
          recovery: textOrNull(r.missed_url),
        });}
    }
    return { generation, rows: out };
  }

  /** A wake-up: reloads the glob rows when the generation moved (one check at a time). */
  wake(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#checking !== null) {
      this.#checkAgain = true;
      return this.#checking;
    }
    this.#checking = (async () => {
      do {
        this.#checkAgain = false;
        const r = await this.#op("glob generation", (sql) => sql.unsafe(this.#st.generation));
        if (r === "unavailable") return;
        await this.#globs.catchUp(Number(r[0]?.value ?? 0), this.#load);
      } while (this.#checkAgain && !this.#closed);
    })().finally(() => this.#checking = null);
    return this.#checking;
  }

  async subscribeExact(
    url: string,
    topic: Uint8Array,
    recovery: string | null,
  ): Promise<SubscribeResult> {
    const now = Date.now();
    const r = await this.#op("subscribe", async (sql) => {
      if ((await sql.unsafe(this.#st.insertExact, [url, topic, recovery, now])).length > 0) {
        return "success" as const;
      }
      // A repeated subscribe still conflicts (the wire says so) but renews the lease.
      await sql.unsafe(this.#st.renewExact, [now, topic, url]);
      return "conflict" as const;
    });
    return r;
  }

  async unsubscribeExact(url: string, topic: Uint8Array): Promise<UnsubscribeResult> {
    const r = await this.#op(
      "unsubscribe",
      (sql) => sql.unsafe(this.#st.deleteExact, [topic, url]),
    );
    return r === "unavailable" ? r : r.length > 0 ? "success" : "not_found";
  }

  async subscribeGlob(
    url: string,
    glob: string,
    recovery: string | null,
  ): Promise<SubscribeResult> {
    const now = Date.now();
    const r = await this.#globWrite("subscribe glob", this.#st.insertGlob, [
      url,
      glob,
      recovery,
      now,
    ]);
    if (r === "unavailable") return r;
    if (!r.changed) {
      const renewed = await this.#op(
        "renew glob",
        (sql) => sql.unsafe(this.#st.renewGlob, [now, glob, url]),
      );
      if (renewed === "unavailable") return renewed;
    }
    this.#globs.afterWrite(
      r.before,
      r.after,
      r.changed ? [{ op: "put", url, glob, recovery }] : [],
    );
    return r.changed ? "success" : "conflict";
  }

  async unsubscribeGlob(url: string, glob: string): Promise<UnsubscribeResult> {
    const r = await this.#globWrite("unsubscribe glob", this.#st.deleteGlob, [glob, url]);
    if (r === "unavailable") return r;
    this.#globs.afterWrite(r.before, r.after, r.changed ? [{ op: "remove", url, glob }] : []);
    return r.changed ? "success" : "not_found";
  }

  /** One statement on glob rows, between two reads of the locked generation. */
  async #globWrite(
    what: string,
    statement: string,
    params: unknown[],
  ): Promise<{ before: number; after: number; changed: boolean } | "unavailable"> {
    const r = await this.#op(what, (sql) =>
      sql.begin(async (tx) => {
        const [before] = await tx.unsafe(this.#st.lockGeneration);
        const rows = await tx.unsafe(statement, params);
        const [after] = await tx.unsafe(this.#st.generation);
        return {
          before: Number(before?.value),
          after: Number(after?.value),
          changed: rows.count > 0,
        };
      }));
    // Unknown outcome (e.g. the answer to COMMIT was lost): reload before the next match.
    if (r === "unavailable") this.#globs.invalidate();
    return r;
  }

  async listSubscriptions(url: string): Promise<SubscriptionSet | "unavailable"> {
    const rows = await this.#op("list", (sql) => sql.unsafe(this.#st.list, [url]));
    if (rows === "unavailable") return rows;
    const out: {
      exacts: SubscriptionSet["exacts"][number][];
      globs: SubscriptionSet["globs"][number][];
    } = {
      exacts: [],
      globs: [],
    };
    for (const r of rows) {
      const recovery = textOrNull(r.missed_url);
      if (Number(r.kind) === 0) out.exacts.push({ topic: bytesOf(r.exact), recovery });
      else out.globs.push({ glob: String(r.glob), recovery });
    }
    return out;
  }

  async setSubscriptions(url: string, desired: SubscriptionSet): Promise<WriteResult> {
    const r = await this.#op(
      "set subscriptions",
      (sql) => setSubscriptions(sql, this.#st, this.#names.lockKey, url, desired),
    );
    if (r === "unavailable") {
      this.#globs.invalidate();
      return r;
    }
    if (r.before !== null && r.after !== null) this.#globs.afterWrite(r.before, r.after, r.changes);
    return "success";
  }

  async getSubscribers(topic: Uint8Array): Promise<Subscriber[] | "unavailable"> {
    const rows = await this.#op("fan-out", (sql) => sql.unsafe(this.#st.fanout, [topic]));
    if (rows === "unavailable") return rows;
    const out: Subscriber[] = [];
    let generation = 0;
    for (const r of rows) {
      if (r.url === null) generation = Number(r.generation);
      else out.push({ kind: "exact", url: String(r.url), recovery: textOrNull(r.missed_url) });
    }
    if (!await this.#globs.catchUp(generation, this.#load)) return "unavailable";
    for (const g of this.#globs.match(topic)) out.push(g);
    return out;
  }

  async upsertMissed(
    subscription: SubscriptionKey,
    recovery: string,
    topic: Uint8Array,
    retry: MissedRetry,
  ): Promise<WriteResult> {
    const s = subscription;
    if (s.kind === "exact") {
      const r = await this.#op(
        "record missed",
        (sql) =>
          sql.unsafe(this.#st.upsertMissedExact, [
            recovery,
            retry.attempts,
            retry.nextRetryAt,
            s.topic,
            s.url,
          ]),
      );
      return r === "unavailable" ? r : "success";
    }
    // The recovery url is part of what fan-out returns, so the glob index follows it.
    const r = await this.#globWrite("record missed", this.#st.upsertMissedGlob, [
      recovery,
      topic,
      retry.attempts,
      retry.nextRetryAt,
      s.glob,
      s.url,
    ]);
    if (r === "unavailable") return r;
    const put = [{ op: "put" as const, url: s.url, glob: s.glob, recovery }];
    this.#globs.afterWrite(r.before, r.after, r.after === r.before + 1 ? put : []);
    return "success";
  }

  leaseOverdueMissed(
    now: number,
    limit: number,
    leaseMs: number,
  ): Promise<LeasedMissed[] | "unavailable"> {
    return this.#op("lease missed", (sql) => leaseOverdue(sql, this.#st, now, limit, leaseMs));
  }

  releaseMissed(leased: LeasedMissed, retry: MissedRetry | null): Promise<ReleaseResult> {
    return this.#op("release missed", (sql) => releaseMissed(sql, this.#st, leased, retry));
  }

  async ping(): Promise<"ok" | "unavailable"> {
    const r = await this.#op("ping", (sql) => sql.unsafe("SELECT 1"));
    return r === "unavailable" ? r : "ok";
  }

  async countPendingMissed(): Promise<number | "unavailable"> {
    const r = await this.#op("count missed", (sql) => sql.unsafe(this.#st.pendingMissed));
    return r === "unavailable" ? r : Number(r[0]?.n ?? 0);
  }

  async recordDeliveries(tallies: readonly DeliveryTally[]): Promise<WriteResult> {
    const r = await this.#op(
      "record deliveries",
      (sql) => admin.recordDeliveries(sql, this.#names, tallies),
    );
    return r === "unavailable" ? r : "success";
  }

  listSubscriptionStats(query: StatsQuery): Promise<StatsPage | "unavailable"> {
    return this.#op("list stats", (sql) => admin.listStats(sql, this.#names, query));
  }

  subscriptionReport(top: number): Promise<SubscriptionReport | "unavailable"> {
    return this.#op("report", (sql) => admin.report(sql, this.#names, top));
  }

  async pruneSubscriptions(
    rule: PruneRule,
    options: PruneOptions,
  ): Promise<PrunedUrl[] | "unavailable"> {
    const r = await this.#op("prune", (sql) => admin.prune(sql, this.#names, rule, options));
    // Removed glob rows moved the generation: the next match reloads.
    if (r === "unavailable" || r.some((u) => u.globs > 0)) this.#globs.invalidate();
    return r;
  }

  listPrunes(limit: number): Promise<PruneRecord[] | "unavailable"> {
    return this.#op("list prunes", (sql) => admin.listPrunes(sql, this.#names, limit));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.listener?.close(), this.#checking]);
    await this.#sql.end({ timeout: 1 });
  }
}

const TIMED_OUT = Symbol("timed out");
