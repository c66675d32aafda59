/**
 * The rqlite implementation of {@link Store}: several broadcasters share one
 * rqlite cluster (docs/protocol/storage.md#rqlite, docs/decisions.md#shared-stores).
 *
 * Every operation is bounded by `timeoutMs`: a dead node, an election, a
 * timeout or an rqlite error is `"unavailable"`, and the next operation after
 * the cluster recovers succeeds. A write may reach rqlite more than once (we
 * retry one whose outcome is unknown, and fetch itself re-sends a request whose
 * pooled connection broke), so every write is safe to repeat and its answer
 * never rests on a row count alone: subscribe inserts a row with an id of our
 * choosing and, after an unknown outcome or a conflict, reads whether the row
 * there is ours; unsubscribe reads the row's id, then deletes by id. Notify
 * costs at most one query, exact rows plus the glob generation, shared by the
 * notifies that arrive together; exact subscribes that arrive together share
 * one write (`batch.ts`).
 *
 * @example
 * ```ts ignore
 * import { openRqliteStore } from "./store.ts";
 * const store = await openRqliteStore({ urls: ["http://127.0.0.1:4001"] });
 * await store.subscribeGlob("http://127.0.0.1:3002/v1/receive", "news/*", null);
 * await store.close();
 * ```
 *
 * @module
 */

import { silentLogger } from "../../log.ts";
import type { Logger } from "../../log.ts";
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
import * as admin from "./admin.ts";
import { checkCluster } from "./check.ts";
import { type ReadConsistency, RqliteClient } from "./client.ts";
import { generationOf, RqliteGlobCache } from "./glob_cache.ts";
import { leaseOverdue, releaseMissed } from "./missed.ts";
import { migrate } from "./schema.ts";
import { setSubscriptions } from "./set_subscriptions.ts";
import { Batcher } from "./batch.ts";
import * as sql from "./sql.ts";
import { PENDING_MISSED } from "../sqlite/statements.ts";
import { decodeBlob, nullableText, randomId, type Statement } from "./values.ts";
import { checkRqliteUrl } from "./options.ts";

/** Options of {@link openRqliteStore}. */
export interface RqliteStoreOptions {
  /** Base urls of one or more nodes of the cluster, e.g. `http://127.0.0.1:4001`. */
  readonly urls: readonly string[];
  /** Basic auth user (rqlite started with `-auth`). */
  readonly user?: string;
  /** Basic auth password. */
  readonly password?: string;
  /** Read consistency of fan-out and listing reads (default `weak`). */
  readonly readConsistency?: ReadConsistency;
  /** Longest time one store operation takes before it is `unavailable`, ms (default 5000). */
  readonly timeoutMs?: number;
  /** How long a node that failed is passed over before it is tried again, ms (default 2000). */
  readonly nodeRetryMs?: number;
  /** At open, how long to wait for the cluster to have a leader, ms (default 30000). */
  readonly leaderWaitMs?: number;
  /** Where node failures are reported (default: nowhere). */
  readonly log?: Logger;
}

/**
 * Opens the store: checks that the cluster answers (with a leader, waiting up
 * to `leaderWaitMs` for one) and brings its schema up to date.
 *
 * @throws {RqliteUnavailableError} saying what is wrong (unreachable, credentials refused, no leader)
 * @throws {Error} when the database has a newer schema version
 */
export async function openRqliteStore(opts: RqliteStoreOptions): Promise<Store> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  if (!(timeoutMs > 0)) throw new RangeError("Invalid option: timeoutMs must be positive");
  for (const u of opts.urls) checkRqliteUrl(u);
  const log = opts.log ?? silentLogger;
  const client = new RqliteClient({
    urls: opts.urls,
    user: opts.user,
    password: opts.password,
    readConsistency: opts.readConsistency ?? "weak",
    nodeRetryMs: opts.nodeRetryMs ?? 2000,
    log,
  });
  try {
    const waitMs = opts.leaderWaitMs ?? 30_000;
    await checkCluster(client, waitMs, opts.user !== undefined);
    await migrate(client, Date.now() + Math.max(waitMs, timeoutMs));
  } catch (e) {
    client.close();
    throw e;
  }
  return new RqliteStore(client, timeoutMs);
}

export { RqliteUnavailableError } from "./check.ts";
export { checkRqliteUrl } from "./options.ts";

class RqliteStore implements Store {
  #client: RqliteClient;
  #timeoutMs: number;
  #globs = new RqliteGlobCache();
  /** Fan-out reads: the glob generation, then one exact-subscriber query per notify. */
  #reads: Batcher;
  /** First attempts of exact subscribes: one Raft entry for all that arrive together. */
  #inserts: Batcher;
  #closed = false;

  constructor(client: RqliteClient, timeoutMs: number) {
    this.#client = client;
    this.#timeoutMs = timeoutMs;
    this.#reads = new Batcher((s, d) => client.query(s, d), [[sql.GENERATION]]);
    this.#inserts = new Batcher((s, d) => client.executeEach(s, d), []);
  }

  #deadline(): number {
    return Date.now() + this.#timeoutMs;
  }

  subscribeExact(
    url: string,
    topic: Uint8Array,
    recovery: string | null,
  ): Promise<SubscribeResult> {
    if (this.#closed) return Promise.resolve("unavailable");
    return this.#subscribeExact(url, topic, recovery);
  }

  async #subscribeExact(
    url: string,
    topic: Uint8Array,
    recovery: string | null,
  ): Promise<SubscribeResult> {
    const deadline = this.#deadline();
    const id = randomId();
    const now = Date.now();
    const insert = (rowId: number): Statement => [
      sql.INSERT_EXACT,
      rowId,
      url,
      topic,
      recovery,
      now,
    ];
    const first = await this.#inserts.run(insert(id), deadline);
    if (first.ok && first.own.rowsAffected === 1) return "success";
    if (!first.ok && first.outcome === "unavailable") return "unavailable";
    // Nothing inserted (a conflict, or a second delivery of an insert that did
    // apply), or unknown: whose row is there, if any?
    const result = await this.#insertOwned(
      insert,
      [sql.FIND_EXACT, topic, url],
      id,
      deadline,
      first.ok ? "taken" : "unknown",
    );
    return result === "conflict"
      ? await this.#renew([sql.RENEW_EXACT, now, topic, url], deadline)
      : result;
  }

  async subscribeGlob(
    url: string,
    glob: string,
    recovery: string | null,
  ): Promise<SubscribeResult> {
    if (this.#closed) return "unavailable";
    const deadline = this.#deadline();
    const id = randomId();
    const now = Date.now();
    // The usual case: one transaction that also tells the glob index whether
    // it may apply the row itself.
    const w = await this.#client.write(
      [[sql.GENERATION], [sql.INSERT_GLOB, id, url, glob, recovery, now], [sql.GENERATION]],
      deadline,
      { withReads: true },
    );
    if (w.ok) {
      const added = w.results[1]!.rowsAffected === 1;
      this.#globs.afterWrite(
        generationOf(w.results[0]),
        generationOf(w.results[2]),
        added ? [{ op: "put", url, glob, recovery }] : [],
      );
      if (added) return "success";
    } else if (w.outcome === "unavailable") {
      return "unavailable";
    } else {
      this.#globs.invalidate();
    }
    const result = await this.#insertOwned(
      (rowId) => [sql.INSERT_GLOB, rowId, url, glob, recovery, now],
      [sql.FIND_GLOB, glob, url],
      id,
      deadline,
      w.ok ? "taken" : "unknown",
    );
    return result === "conflict"
      ? await this.#renew([sql.RENEW_GLOB, now, glob, url], deadline)
      : result;
  }

  /** A repeated subscribe still conflicts (the wire says so) but renews the lease. */
  async #renew(statement: Statement, deadline: number): Promise<SubscribeResult> {
    const w = await this.#client.write([statement], deadline, { idempotent: true });
    return w.ok ? "conflict" : "unavailable";
  }

  unsubscribeExact(url: string, topic: Uint8Array): Promise<UnsubscribeResult> {
    if (this.#closed) return Promise.resolve("unavailable");
    return this.#unsubscribe([sql.FIND_EXACT, topic, url], (id) => [[sql.DELETE_EXACT_BY_ID, id]]);
  }

  unsubscribeGlob(url: string, glob: string): Promise<UnsubscribeResult> {
    if (this.#closed) return Promise.resolve("unavailable");
    return this.#unsubscribe(
      [sql.FIND_GLOB, glob, url],
      (id) => [[sql.GENERATION], [sql.DELETE_GLOB_BY_ID, id], [sql.GENERATION]],
      { url, glob },
    );
  }

  async ping(): Promise<"ok" | "unavailable"> {
    if (this.#closed) return "unavailable";
    const r = await this.#client.query([["SELECT 1"]], this.#deadline());
    return r.ok ? "ok" : "unavailable";
  }

  async countPendingMissed(): Promise<number | "unavailable"> {
    if (this.#closed) return "unavailable";
    const r = await this.#client.query([[PENDING_MISSED]], this.#deadline());
    if (!r.ok) return "unavailable";
    return Number(r.results[0]?.values[0]?.[0] ?? 0);
  }

  async listSubscriptions(url: string): Promise<SubscriptionSet | "unavailable"> {
    if (this.#closed) return "unavailable";
    const r = await this.#client.query(
      [[sql.LIST_EXACTS, url], [sql.LIST_GLOBS, url]],
      this.#deadline(),
    );
    if (!r.ok) return "unavailable";
    return {
      exacts: r.results[0]!.values.map(([topic, recovery]) => ({
        topic: decodeBlob(topic),
        recovery: nullableText(recovery),
      })),
      globs: r.results[1]!.values.map(([glob, recovery]) => ({
        glob: String(glob),
        recovery: nullableText(recovery),
      })),
    };
  }

  setSubscriptions(url: string, desired: SubscriptionSet): Promise<WriteResult> {
    if (this.#closed) return Promise.resolve("unavailable");
    return setSubscriptions(this.#client, this.#globs, url, desired, this.#deadline());
  }

  async getSubscribers(topic: Uint8Array): Promise<Subscriber[] | "unavailable"> {
    if (this.#closed) return "unavailable";
    const deadline = this.#deadline();
    const r = await this.#reads.run([sql.EXACT_SUBSCRIBERS, topic], deadline);
    if (!r.ok) return "unavailable";
    if (!await this.#globs.ensure(this.#client, generationOf(r.shared[0]), deadline)) {
      return "unavailable";
    }
    const out: Subscriber[] = r.own.values.map(([url, recovery]) => ({
      kind: "exact",
      url: String(url),
      recovery: nullableText(recovery),
    }));
    for (const g of this.#globs.match(topic)) out.push(g);
    return out;
  }

  async upsertMissed(
    subscription: SubscriptionKey,
    recovery: string,
    topic: Uint8Array,
    retry: MissedRetry,
  ): Promise<WriteResult> {
    if (this.#closed) return "unavailable";
    const deadline = this.#deadline();
    const s = subscription;
    if (s.kind === "exact") {
      const w = await this.#client.write(
        [[sql.UPSERT_MISSED_EXACT, recovery, retry.attempts, retry.nextRetryAt, s.topic, s.url]],
        deadline,
        { idempotent: true },
      );
      return w.ok ? "success" : "unavailable";
    }
    // The recovery url is part of what fan-out returns, so the glob index follows it.
    const w = await this.#client.write(
      [
        [sql.GENERATION],
        [sql.UPSERT_MISSED_GLOB, recovery, topic, retry.attempts, retry.nextRetryAt, s.glob, s.url],
        [sql.GENERATION],
      ],
      deadline,
      { idempotent: true, withReads: true },
    );
    if (!w.ok) {
      this.#globs.invalidate();
      return "unavailable";
    }
    const before = generationOf(w.results[0]);
    const after = generationOf(w.results[2]);
    this.#globs.afterWrite(
      before,
      after,
      after === before + 1 ? [{ op: "put", url: s.url, glob: s.glob, recovery }] : [],
    );
    return "success";
  }

  leaseOverdueMissed(
    now: number,
    limit: number,
    leaseMs: number,
  ): Promise<LeasedMissed[] | "unavailable"> {
    if (this.#closed) return Promise.resolve("unavailable");
    return leaseOverdue(this.#client, now, limit, leaseMs, this.#deadline());
  }

  releaseMissed(leased: LeasedMissed, retry: MissedRetry | null): Promise<ReleaseResult> {
    if (this.#closed) return Promise.resolve("unavailable");
    return releaseMissed(this.#client, leased, retry, this.#deadline());
  }

  recordDeliveries(tallies: readonly DeliveryTally[]): Promise<WriteResult> {
    if (this.#closed) return Promise.resolve("unavailable");
    return admin.recordDeliveries(this.#client, tallies, this.#deadline());
  }

  listSubscriptionStats(query: StatsQuery): Promise<StatsPage | "unavailable"> {
    if (this.#closed) return Promise.resolve("unavailable");
    return admin.listStats(this.#client, query, this.#deadline());
  }

  subscriptionReport(top: number): Promise<SubscriptionReport | "unavailable"> {
    if (this.#closed) return Promise.resolve("unavailable");
    return admin.report(this.#client, top, this.#deadline());
  }

  pruneSubscriptions(
    rule: PruneRule,
    options: PruneOptions,
  ): Promise<PrunedUrl[] | "unavailable"> {
    if (this.#closed) return Promise.resolve("unavailable");
    return admin.prune(
      this.#client,
      rule,
      options,
      this.#deadline(),
      () => this.#globs.invalidate(),
    );
  }

  listPrunes(limit: number): Promise<PruneRecord[] | "unavailable"> {
    if (this.#closed) return Promise.resolve("unavailable");
    return admin.listPrunes(this.#client, limit, this.#deadline());
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#client.close();
    return Promise.resolve();
  }

  /**
   * After an insert with our own id that inserted nothing or whose outcome is
   * unknown, reads before sending it again: a
   * row found with our id is ours (`success`), with another id someone
   * else's (`conflict`); no row means the insert did not happen (yet), so it
   * is sent again, still with our id, which makes a late first attempt harmless.
   */
  async #insertOwned(
    insert: (id: number) => Statement,
    find: Statement,
    id: number,
    deadline: number,
    state: "taken" | "unknown",
  ): Promise<SubscribeResult> {
    let rowId = id;
    // uncertain: an insert with rowId may have been applied, now or later.
    let uncertain = state === "unknown";
    for (;;) {
      const r = await this.#client.queryLeader([find], deadline);
      if (!r.ok) return "unavailable";
      const found = r.results[0]!.values[0]?.[0];
      if (found !== undefined) return found === rowId ? "success" : "conflict";
      // Gone, or our id was another row's: a fresh id unless ours may still land.
      if (!uncertain) rowId = randomId();
      const w = await this.#client.write([insert(rowId)], deadline);
      if (w.ok && w.results[0]!.rowsAffected === 1) return "success";
      if (!w.ok && w.outcome === "unavailable") return "unavailable";
      if (!w.ok) uncertain = true;
    }
  }

  /**
   * Finds the row's id, then deletes by id. A write can reach rqlite twice
   * (fetch re-sends a request whose pooled connection broke), so the delete's
   * row count cannot tell "ours" from "already gone"; the id read first can:
   * the row existed, and deleting by id is safe to repeat.
   */
  async #unsubscribe(
    find: Statement,
    remove: (id: number) => Statement[],
    glob?: { readonly url: string; readonly glob: string },
  ): Promise<UnsubscribeResult> {
    const deadline = this.#deadline();
    const r = await this.#client.queryLeader([find], deadline);
    if (!r.ok) return "unavailable";
    const id = r.results[0]!.values[0]?.[0];
    if (typeof id !== "number") return "not_found";
    const w = await this.#client.write(remove(id), deadline, {
      idempotent: true,
      withReads: glob !== undefined,
    });
    if (!w.ok) {
      this.#globs.invalidate();
      return "unavailable";
    }
    if (glob !== undefined) {
      const removed = w.results[1]!.rowsAffected > 0;
      this.#globs.afterWrite(
        generationOf(w.results[0]),
        generationOf(w.results[2]),
        removed ? [{ op: "remove", ...glob }] : [],
      );
    }
    return "success";
  }
}
