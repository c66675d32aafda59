/**
 * {@link SubscriptionAdmin} on rqlite: the SQLite store's admin SQL
 * (`../sqlite/admin_sql.ts`) sent as it is. rqlite has no interactive
 * transactions, so a prune reads what qualifies, then deletes it and writes
 * the audit in one transaction; a subscription renewed in between may still
 * go (the next subscribe brings it back). Statistics are additive and sent
 * once (never retried after an unknown outcome), so a flush that reached
 * rqlite twice counts twice: they are statistics, not accounts.
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
import type { WriteResult } from "../types.ts";
import * as q from "../sqlite/admin_sql.ts";
import type { RqliteClient } from "./client.ts";

/** See {@link SubscriptionAdmin.recordDeliveries}. */
export async function recordDeliveries(
  client: RqliteClient,
  tallies: readonly DeliveryTally[],
  deadline: number,
): Promise<WriteResult> {
  if (tallies.length === 0) return "success";
  const w = await client.write(tallies.map(q.recordStatement), deadline);
  return w.ok ? "success" : "unavailable";
}

/** See {@link SubscriptionAdmin.listSubscriptionStats}. */
export async function listStats(
  client: RqliteClient,
  query: StatsQuery,
  deadline: number,
): Promise<StatsPage | "unavailable"> {
  // Two reads (the failing part's size decides the second); a write in
  // between may shift a row from one page to the next, as with any paging.
  const [countFailing, failingRows] = q.failingStatements(query);
  const first = await client.query([countFailing, failingRows], deadline);
  if (!first.ok) return "unavailable";
  const failing = Number(first.results[0]!.values[0]?.[0] ?? 0);
  const rows = query.offset < failing ? first.results[1]!.values.map(q.statsRow) : [];
  const [countAll, healthyRows] = q.healthyStatements(
    query,
    query.limit - rows.length,
    Math.max(0, query.offset - failing),
  );
  const second = await client.query(
    rows.length < query.limit ? [countAll, healthyRows] : [countAll],
    deadline,
  );
  if (!second.ok) return "unavailable";
  if (rows.length < query.limit) rows.push(...second.results[1]!.values.map(q.statsRow));
  return { rows, total: Number(second.results[0]!.values[0]?.[0] ?? 0) };
}

/** See {@link SubscriptionAdmin.subscriptionReport}. */
export async function report(
  client: RqliteClient,
  top: number,
  deadline: number,
): Promise<SubscriptionReport | "unavailable"> {
  const n = Math.max(top, 0);
  const r = await client.query([[q.TOTALS], [q.TOP_FAILING, n], [q.TOP_KEYS, n]], deadline);
  if (!r.ok) return "unavailable";
  const t = r.results[0]!.values[0] ?? [];
  return {
    exacts: Number(t[0] ?? 0),
    globs: Number(t[1] ?? 0),
    urls: Number(t[2] ?? 0),
    failingUrls: Number(t[3] ?? 0),
    topFailing: r.results[1]!.values.map(q.failingRow),
    topKeys: r.results[2]!.values.map(q.topKeyRow),
  };
}

/** See {@link SubscriptionAdmin.listPrunes}. */
export async function listPrunes(
  client: RqliteClient,
  limit: number,
  deadline: number,
): Promise<PruneRecord[] | "unavailable"> {
  const r = await client.query([[q.LIST_PRUNES, limit]], deadline);
  return r.ok ? r.results[0]!.values.map(q.pruneRow) : "unavailable";
}

/**
 * See {@link SubscriptionAdmin.pruneSubscriptions}; `removedGlobs` is told
 * when glob rows went (the glob index must reload).
 */
export async function prune(
  client: RqliteClient,
  rule: PruneRule,
  opts: PruneOptions,
  deadline: number,
  removedGlobs: () => void,
): Promise<PrunedUrl[] | "unavailable"> {
  const reason = opts.reason ?? rule.kind;
  const dry = opts.dryRun === true;
  const writes: q.SqlStatement[] = [];
  let urls: PrunedUrl[];
  if (rule.kind === "lease") {
    if (!dry) {
      const w = await client.write(q.START_LEASES.map((s) => [s, opts.now]), deadline, {
        idempotent: true,
      });
      if (!w.ok) return "unavailable";
    }
    const r = await client.queryLeader([q.expiredStatement(rule)], deadline);
    if (!r.ok) return "unavailable";
    const byUrl = new Map<string, { url: string; exacts: number; globs: number }>();
    for (const [kind, id, url] of r.results[0]!.values) {
      const u = String(url);
      const entry = byUrl.get(u) ?? { url: u, exacts: 0, globs: 0 };
      byUrl.set(u, entry);
      if (Number(kind) === 0) entry.exacts++;
      else entry.globs++;
      writes.push([q.DELETE_BY_ID[Number(kind)]!, Number(id)]);
    }
    urls = [...byUrl.values()].sort((a, b) => a.url < b.url ? -1 : a.url > b.url ? 1 : 0);
  } else {
    const r = await client.queryLeader([q.candidatesStatement(rule, opts.now)], deadline);
    if (!r.ok) return "unavailable";
    urls = r.results[0]!.values.map((v) => ({
      url: String(v[0]),
      exacts: Number(v[1]),
      globs: Number(v[2]),
    }));
    for (const u of urls) for (const sql of q.DELETE_URL) writes.push([sql, u.url]);
  }
  if (dry || urls.length === 0) return urls;
  for (const u of urls) writes.push([q.INSERT_PRUNE, opts.now, u.url, reason, u.exacts, u.globs]);
  const w = await client.write(writes, deadline);
  if (urls.some((u) => u.globs > 0)) removedGlobs();
  return w.ok ? urls : "unavailable";
}
