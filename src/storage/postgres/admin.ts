/**
 * {@link SubscriptionAdmin} on PostgreSQL: the statistics, listing, report
 * and prune statements of the SQLite store's `admin_sql.ts`, in PostgreSQL's
 * dialect (`$n` parameters, `COLLATE "C"` for bytewise text order), each
 * write in one transaction.
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
  SubscriptionStats,
} from "../admin_types.ts";
import { failingRow, pruneRow, statsRow, topKeyRow } from "../sqlite/admin_sql.ts";
import type { Row, Sql } from "./driver.ts";
import type { Names } from "./schema.ts";

/** Numbered parameters collected while a statement is built. */
class Params {
  readonly values: unknown[] = [];
  /** `$n` for `v`. */
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

const COLUMNS = "url, missed_url, created_at, renewed_at, last_attempt_at, last_success_at, " +
  "last_failure_at, last_failure, failing_since, consecutive_failures, deliveries, failures";

const positional = (r: Row): unknown[] => Object.values(r);

/** Adds a batch of tallies (see {@link DeliveryTally}), one UPDATE each, in one transaction. */
export async function recordDeliveries(
  sql: Sql,
  n: Names,
  tallies: readonly DeliveryTally[],
): Promise<void> {
  if (tallies.length === 0) return;
  const set = `deliveries = deliveries + $1, failures = failures + $2, ` +
    `last_attempt_at = greatest(last_attempt_at, $3), ` +
    `last_success_at = coalesce($4, last_success_at), ` +
    `last_failure_at = coalesce($5, last_failure_at), ` +
    `last_failure = coalesce($6::text, last_failure), ` +
    `consecutive_failures = CASE WHEN $7 THEN 0 ELSE consecutive_failures END + $8, ` +
    `failing_since = CASE WHEN $7 THEN $9::bigint ELSE coalesce(failing_since, $9::bigint) END`;
  await sql.begin(async (tx) => {
    for (const t of tallies) {
      const s = t.subscription;
      const where = s.kind === "exact"
        ? `UPDATE ${n.exacts} SET ${set} WHERE exact = $10 AND url = $11`
        : `UPDATE ${n.globs} SET ${set} WHERE glob = $10 AND url = $11`;
      await tx.unsafe(where, [
        t.deliveries,
        t.failures,
        t.lastAttemptAt,
        t.lastSuccessAt,
        t.lastFailureAt,
        t.lastFailure,
        t.succeeded,
        t.trailingFailures,
        t.trailingSince,
        s.kind === "exact" ? s.topic : s.glob,
        s.url,
      ]);
    }
  });
}

function filtered(
  n: Names,
  q: StatsQuery,
  p: Params,
  select: (kind: "exact" | "glob") => string,
  part: "failing" | "healthy" | "all",
): string {
  const arms: string[] = [];
  for (const kind of ["exact", "glob"] as const) {
    if (kind === "exact" && q.glob !== undefined) continue;
    if (kind === "glob" && q.topic !== undefined) continue;
    const where: string[] = [];
    if (q.url !== undefined) where.push(`url = ${p.add(q.url)}`);
    if (kind === "exact" && q.topic !== undefined) where.push(`exact = ${p.add(q.topic)}`);
    if (kind === "glob" && q.glob !== undefined) where.push(`glob = ${p.add(q.glob)}`);
    if (q.search !== undefined && q.search !== "") {
      const s = p.add(q.search);
      const inKey = kind === "exact"
        ? `position(convert_to(${s}::text, 'UTF8') IN exact) > 0`
        : `strpos(glob, ${s}::text) > 0`;
      where.push(`(strpos(url, ${s}::text) > 0 OR ${inKey})`);
    }
    if (q.failing === true) where.push("consecutive_failures > 0");
    if (part === "failing") where.push("failing_since IS NOT NULL");
    if (part === "healthy") where.push("failing_since IS NULL");
    arms.push(select(kind) + (where.length > 0 ? ` WHERE ${where.join(" AND ")}` : ""));
  }
  void n;
  return arms.length === 0 ? "SELECT 1 WHERE false" : arms.join(" UNION ALL ");
}

function arm(n: Names): (kind: "exact" | "glob") => string {
  return (kind) =>
    kind === "exact"
      ? `SELECT 0 AS kind, upper(encode(exact, 'hex')) AS k, ${COLUMNS}, exact AS ord FROM ${n.exacts}`
      : `SELECT 1 AS kind, upper(encode(convert_to(glob, 'UTF8'), 'hex')) AS k, ${COLUMNS}, ` +
        `convert_to(glob, 'UTF8') AS ord FROM ${n.globs}`;
}

const countArm = (n: Names) => (kind: "exact" | "glob") =>
  `SELECT 1 FROM ${kind === "exact" ? n.exacts : n.globs}`;

/** A page: failing rows first (longest first), then the others by url and key. */
export async function listStats(sql: Sql, n: Names, q: StatsQuery): Promise<StatsPage> {
  return await sql.begin(async (tx) => {
    await tx.unsafe("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    const pc = new Params();
    const countFailing = filtered(n, q, pc, countArm(n), "failing");
    const failing = Number(
      (await tx.unsafe(`SELECT count(*) AS n FROM (${countFailing}) c`, pc.values))[0]?.n ?? 0,
    );
    const rows: SubscriptionStats[] = [];
    if (q.offset < failing) {
      const p = new Params();
      const union = filtered(n, q, p, arm(n), "failing");
      const page = await tx.unsafe(
        `SELECT * FROM (${union}) u ORDER BY failing_since, url COLLATE "C", kind, ord ` +
          `LIMIT ${p.add(q.limit)} OFFSET ${p.add(q.offset)}`,
        p.values,
      );
      rows.push(...page.map((r) => statsRow(positional(r))));
    }
    if (rows.length < q.limit && q.failing !== true) {
      const p = new Params();
      const union = filtered(n, q, p, arm(n), "healthy");
      const page = await tx.unsafe(
        `SELECT * FROM (${union}) u ORDER BY url COLLATE "C", kind, ord ` +
          `LIMIT ${p.add(q.limit - rows.length)} OFFSET ${p.add(Math.max(0, q.offset - failing))}`,
        p.values,
      );
      rows.push(...page.map((r) => statsRow(positional(r))));
    }
    const pa = new Params();
    const all = filtered(n, q, pa, countArm(n), "all");
    const total = Number(
      (await tx.unsafe(`SELECT count(*) AS n FROM (${all}) c`, pa.values))[0]?.n ?? 0,
    );
    return { rows, total };
  });
}

/** Counts, plus the `top` longest failing urls and most subscribed topics and globs. */
export async function report(sql: Sql, n: Names, top: number): Promise<SubscriptionReport> {
  const failingUrls = `SELECT url FROM ${n.exacts} WHERE failing_since IS NOT NULL ` +
    `UNION SELECT url FROM ${n.globs} WHERE failing_since IS NOT NULL`;
  const [t] = await sql.unsafe(
    `SELECT (SELECT count(*) FROM ${n.exacts}) AS e, (SELECT count(*) FROM ${n.globs}) AS g, ` +
      `(SELECT count(*) FROM (SELECT url FROM ${n.exacts} UNION SELECT url FROM ${n.globs}) u) ` +
      `AS u, (SELECT count(*) FROM (${failingUrls}) f) AS f`,
  );
  const limit = Math.max(0, Math.floor(top));
  const failing = limit === 0 ? [] : await sql.unsafe(
    `SELECT f.url, f.since, f.streak, (SELECT count(*) FROM ${n.exacts} e WHERE e.url = f.url) ` +
      `+ (SELECT count(*) FROM ${n.globs} g WHERE g.url = f.url) AS n FROM (` +
      `SELECT url, min(failing_since) AS since, max(consecutive_failures) AS streak FROM (` +
      `SELECT url, failing_since, consecutive_failures FROM ${n.exacts} ` +
      `WHERE failing_since IS NOT NULL UNION ALL SELECT url, failing_since, ` +
      `consecutive_failures FROM ${n.globs} WHERE failing_since IS NOT NULL) a GROUP BY url) f ` +
      `ORDER BY f.since, f.url COLLATE "C" LIMIT $1`,
    [limit],
  );
  const keys = limit === 0 ? [] : await sql.unsafe(
    `SELECT * FROM (SELECT 0 AS kind, upper(encode(exact, 'hex')) AS k, count(*) AS n ` +
      `FROM ${n.exacts} GROUP BY exact UNION ALL SELECT 1, ` +
      `upper(encode(convert_to(glob, 'UTF8'), 'hex')), count(*) FROM ${n.globs} GROUP BY glob) ` +
      `c ORDER BY n DESC, kind, k COLLATE "C" LIMIT $1`,
    [limit],
  );
  return {
    exacts: Number(t?.e ?? 0),
    globs: Number(t?.g ?? 0),
    urls: Number(t?.u ?? 0),
    failingUrls: Number(t?.f ?? 0),
    topFailing: failing.map((r) => failingRow(positional(r))),
    topKeys: keys.map((r) => topKeyRow(positional(r))),
  };
}

/** The newest `limit` audit records. */
export async function listPrunes(sql: Sql, n: Names, limit: number): Promise<PruneRecord[]> {
  const rows = await sql.unsafe(
    `SELECT at, url, reason, exacts, globs FROM ${n.prunes} ORDER BY at DESC, id DESC LIMIT $1`,
    [Math.max(0, Math.floor(limit))],
  );
  return rows.map((r) => pruneRow(positional(r)));
}

/** Removes what `rule` selects and audits it, in one transaction. */
export async function prune(
  sql: Sql,
  n: Names,
  rule: PruneRule,
  opts: PruneOptions,
): Promise<PrunedUrl[]> {
  const reason = opts.reason ?? rule.kind;
  const dry = opts.dryRun === true;
  return await sql.begin(async (tx) => {
    const p = new Params();
    const spare = (r: { readonly exceptSuffix?: string }) =>
      r.exceptSuffix === undefined || r.exceptSuffix === ""
        ? "true"
        : `right(url, length(${p.add(r.exceptSuffix)}::text)) <> ${p.add(r.exceptSuffix)}::text`;
    let urls: PrunedUrl[];
    if (rule.kind === "lease") {
      if (!dry) {
        for (const t of [n.exacts, n.globs]) {
          await tx.unsafe(`UPDATE ${t} SET renewed_at = $1 WHERE renewed_at IS NULL`, [opts.now]);
        }
      }
      const keep = spare(rule);
      const before = p.add(rule.before);
      const rows = await tx.unsafe(
        `SELECT 0 AS kind, id, url FROM ${n.exacts} WHERE renewed_at <= ${before} AND ${keep} ` +
          `UNION ALL SELECT 1, id, url FROM ${n.globs} WHERE renewed_at <= ${before} AND ${keep}`,
        p.values,
      );
      const byUrl = new Map<string, { url: string; exacts: number; globs: number }>();
      const ids: [string[], string[]] = [[], []];
      for (const r of rows) {
        const u = String(r.url);
        const e = byUrl.get(u) ?? { url: u, exacts: 0, globs: 0 };
        byUrl.set(u, e);
        if (Number(r.kind) === 0) e.exacts++;
        else e.globs++;
        ids[Number(r.kind) as 0 | 1].push(String(r.id));
      }
      urls = [...byUrl.values()].sort((a, b) => a.url < b.url ? -1 : a.url > b.url ? 1 : 0);
      if (!dry) {
        for (const [i, t] of [n.exacts, n.globs].entries()) {
          if (ids[i as 0 | 1].length === 0) continue;
          await tx.unsafe(
            `DELETE FROM ${t} WHERE id IN (SELECT (jsonb_array_elements_text($1::text::jsonb))::bigint)`,
            [JSON.stringify(ids[i as 0 | 1])],
          );
        }
      }
    } else {
      const all = `SELECT url, 1 AS e, 0 AS g, failing_since, last_success_at, renewed_at, ` +
        `created_at FROM ${n.exacts} UNION ALL SELECT url, 0, 1, failing_since, ` +
        `last_success_at, renewed_at, created_at FROM ${n.globs}`;
      let where: string, having: string;
      if (rule.kind === "url") {
        where = `url = ${p.add(rule.url)}`;
        having = "true";
      } else if (rule.kind === "failing") {
        where = spare(rule);
        const b = p.add(rule.before);
        having = `min(failing_since) <= ${b} AND coalesce(max(last_success_at), 0) < ${b}`;
      } else {
        where = spare(rule);
        const now = p.add(opts.now);
        having = `max(greatest(coalesce(last_success_at, 0), coalesce(renewed_at, created_at, ` +
          `CASE WHEN last_success_at IS NULL THEN ${now}::bigint ELSE 0 END))) <= ${
            p.add(rule.before)
          }`;
      }
      const rows = await tx.unsafe(
        `SELECT url, sum(e) AS e, sum(g) AS g FROM (${all}) a WHERE ${where} GROUP BY url ` +
          `HAVING ${having} ORDER BY url COLLATE "C"`,
        p.values,
      );
      urls = rows.map((r) => ({ url: String(r.url), exacts: Number(r.e), globs: Number(r.g) }));
      if (!dry && urls.length > 0) {
        const list = JSON.stringify(urls.map((u) => u.url));
        for (const t of [n.exacts, n.globs]) {
          await tx.unsafe(
            `DELETE FROM ${t} WHERE url IN (SELECT jsonb_array_elements_text($1::text::jsonb))`,
            [list],
          );
        }
      }
    }
    if (!dry && urls.length > 0) {
      await tx.unsafe(
        `INSERT INTO ${n.prunes} (at, url, reason, exacts, globs) SELECT $1, e->>0, $2, ` +
          `(e->>1)::bigint, (e->>2)::bigint FROM jsonb_array_elements($3::text::jsonb) e`,
        [opts.now, reason, JSON.stringify(urls.map((u) => [u.url, u.exacts, u.globs]))],
      );
    }
    return urls;
  });
}
