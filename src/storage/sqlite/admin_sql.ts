/**
 * The SQL of {@link SubscriptionAdmin}, shared by the SQLite and rqlite
 * stores (same schema): statements as `[sql, ...params]`, text parameters
 * written `CAST(? AS TEXT)` (what rqlite needs, harmless in SQLite), keys
 * read back as hex so both drivers return the same values.
 *
 * @module
 */

import type {
  DeliveryTally,
  FailingUrl,
  PruneRecord,
  PruneRule,
  StatsQuery,
  SubscriptionStats,
  TopKey,
} from "../admin_types.ts";
import { EXACTS, GLOBS, PRUNES } from "./schema.ts";

/** A parameter value. */
export type SqlParam = null | number | string | Uint8Array;
/** `[sql, ...params]`. */
export type SqlStatement = readonly [string, ...SqlParam[]];
/** A result row as positional values. */
export type SqlRow = readonly unknown[];

const T = "CAST(? AS TEXT)";

/** Adds one tally to its row's counters (see {@link DeliveryTally}). */
export function recordStatement(t: DeliveryTally): SqlStatement {
  const s = t.subscription;
  const table = s.kind === "exact" ? EXACTS : GLOBS;
  const where = s.kind === "exact"
    ? `exact = ?10 AND url = CAST(?11 AS TEXT)`
    : `glob = CAST(?10 AS TEXT) AND url = CAST(?11 AS TEXT)`;
  return [
    `UPDATE ${table} SET deliveries = deliveries + ?1, failures = failures + ?2, ` +
    `last_attempt_at = max(coalesce(last_attempt_at, 0), ?3), ` +
    `last_success_at = coalesce(?4, last_success_at), ` +
    `last_failure_at = coalesce(?5, last_failure_at), ` +
    `last_failure = coalesce(CAST(?6 AS TEXT), last_failure), ` +
    `consecutive_failures = iif(?7, 0, consecutive_failures) + ?8, ` +
    `failing_since = iif(?7, ?9, coalesce(failing_since, ?9)) WHERE ${where}`,
    t.deliveries,
    t.failures,
    t.lastAttemptAt,
    t.lastSuccessAt,
    t.lastFailureAt,
    t.lastFailure,
    t.succeeded ? 1 : 0,
    t.trailingFailures,
    t.trailingSince,
    s.kind === "exact" ? s.topic : s.glob,
    s.url,
  ];
}

const COLUMNS = "url, missed_url, created_at, renewed_at, last_attempt_at, last_success_at, " +
  "last_failure_at, last_failure, failing_since, consecutive_failures, deliveries, failures";

/**
 * The filtered union of both tables, with its parameters; `part` keeps only
 * failing rows (`failing_since` set) or only the others.
 */
function filtered(
  q: StatsQuery,
  select: (kind: "exact" | "glob") => string,
  part: "failing" | "healthy" | "all",
): SqlStatement {
  const arms: string[] = [];
  const params: SqlParam[] = [];
  for (const kind of ["exact", "glob"] as const) {
    if (kind === "exact" && q.glob !== undefined) continue;
    if (kind === "glob" && q.topic !== undefined) continue;
    const where: string[] = [];
    if (q.url !== undefined) where.push(`url = ${T}`), params.push(q.url);
    if (kind === "exact" && q.topic !== undefined) where.push("exact = ?"), params.push(q.topic);
    if (kind === "glob" && q.glob !== undefined) where.push(`glob = ${T}`), params.push(q.glob);
    if (q.search !== undefined && q.search !== "") {
      const col = kind === "exact" ? "CAST(exact AS TEXT)" : "glob";
      where.push(`(instr(url, ${T}) > 0 OR instr(${col}, ${T}) > 0)`);
      params.push(q.search, q.search);
    }
    if (q.failing === true) where.push("consecutive_failures > 0");
    if (part === "failing") where.push("failing_since IS NOT NULL");
    if (part === "healthy") where.push("failing_since IS NULL");
    arms.push(select(kind) + (where.length > 0 ? ` WHERE ${where.join(" AND ")}` : ""));
  }
  if (arms.length === 0) return ["SELECT * FROM (SELECT 1) WHERE 0"];
  return [arms.join(" UNION ALL "), ...params];
}

// `ord` is the raw key: each arm can then be read in (url, key) index order
// and the two merged, instead of sorting every row for one page.
function armOf(kind: "exact" | "glob"): string {
  return kind === "exact"
    ? `SELECT 0 AS kind, hex(exact) AS k, ${COLUMNS}, exact AS ord FROM ${EXACTS}`
    : `SELECT 1 AS kind, hex(CAST(glob AS BLOB)) AS k, ${COLUMNS}, glob AS ord FROM ${GLOBS}`;
}

/**
 * A page of the query is read in two parts: the failing rows (few, by the
 * `failing_since` index), longest failing first, then the others by url and
 * key. These are the failing part's statements: its size and its rows from
 * `offset`.
 */
export function failingStatements(q: StatsQuery): [SqlStatement, SqlStatement] {
  const [union, ...params] = filtered(q, armOf, "failing");
  const [count, ...countParams] = filtered(q, (k) => `SELECT 1 FROM ${table(k)}`, "failing");
  return [
    [`SELECT count(*) FROM (${count})`, ...countParams],
    [
      `${union} ORDER BY failing_since, url, kind, ord LIMIT ? OFFSET ?`,
      ...params,
      q.limit,
      q.offset,
    ],
  ];
}

/** The other rows of the query, `limit` from `offset` of that part, and how many match in all. */
export function healthyStatements(
  q: StatsQuery,
  limit: number,
  offset: number,
): [SqlStatement, SqlStatement] {
  const [union, ...params] = filtered(q, armOf, q.failing === true ? "failing" : "healthy");
  const [count, ...countParams] = filtered(q, (k) => `SELECT 1 FROM ${table(k)}`, "all");
  return [
    [`SELECT count(*) FROM (${count})`, ...countParams],
    q.failing === true
      ? ["SELECT * FROM (SELECT 1) WHERE 0"]
      : [`${union} ORDER BY url, kind, ord LIMIT ? OFFSET ?`, ...params, limit, offset],
  ];
}

function table(kind: "exact" | "glob"): string {
  return kind === "exact" ? EXACTS : GLOBS;
}

/** Decodes a row of {@link failingStatements} or {@link healthyStatements}. */
export function statsRow(r: SqlRow): SubscriptionStats {
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    kind: Number(r[0]) === 0 ? "exact" : "glob",
    key: fromHex(String(r[1] ?? "")),
    url: String(r[2]),
    recovery: r[3] === null || r[3] === undefined ? null : String(r[3]),
    createdAt: n(r[4]),
    renewedAt: n(r[5]),
    lastAttemptAt: n(r[6]),
    lastSuccessAt: n(r[7]),
    lastFailureAt: n(r[8]),
    lastFailure: r[9] === null || r[9] === undefined ? null : String(r[9]),
    failingSince: n(r[10]),
    consecutiveFailures: Number(r[11] ?? 0),
    deliveries: Number(r[12] ?? 0),
    failures: Number(r[13] ?? 0),
  };
}

/** Exact rows, glob rows, distinct urls, failing urls (one row). */
export const TOTALS = `SELECT (SELECT count(*) FROM ${EXACTS}) AS e, ` +
  `(SELECT count(*) FROM ${GLOBS}) AS g, ` +
  `(SELECT count(*) FROM (SELECT url FROM ${EXACTS} UNION SELECT url FROM ${GLOBS})) AS u, ` +
  `(SELECT count(*) FROM (SELECT url FROM ${EXACTS} WHERE failing_since IS NOT NULL ` +
  `UNION SELECT url FROM ${GLOBS} WHERE failing_since IS NOT NULL)) AS f`;

/** Parameter: limit. url, failing since, streak, subscriptions. */
export const TOP_FAILING = `SELECT f.url AS url, f.since AS since, f.streak AS streak, ` +
  `(SELECT count(*) FROM ${EXACTS} e WHERE e.url = f.url) + ` +
  `(SELECT count(*) FROM ${GLOBS} g WHERE g.url = f.url) AS n FROM (` +
  `SELECT url, min(failing_since) AS since, max(consecutive_failures) AS streak FROM (` +
  `SELECT url, failing_since, consecutive_failures FROM ${EXACTS} WHERE failing_since IS NOT NULL ` +
  `UNION ALL SELECT url, failing_since, consecutive_failures FROM ${GLOBS} ` +
  `WHERE failing_since IS NOT NULL) GROUP BY url) f ORDER BY f.since, f.url LIMIT ?`;

/** Decodes a row of {@link TOP_FAILING}. */
export function failingRow(r: SqlRow): FailingUrl {
  return {
    url: String(r[0]),
    failingSince: Number(r[1]),
    consecutiveFailures: Number(r[2]),
    subscriptions: Number(r[3]),
  };
}

/** Parameter: limit. kind, hex key, subscriptions. */
export const TOP_KEYS = `SELECT * FROM (SELECT 0 AS kind, hex(exact) AS k, count(*) AS n ` +
  `FROM ${EXACTS} GROUP BY exact UNION ALL SELECT 1, hex(CAST(glob AS BLOB)), count(*) ` +
  `FROM ${GLOBS} GROUP BY glob) ORDER BY n DESC, kind, k LIMIT ?`;

/** Decodes a row of {@link TOP_KEYS}. */
export function topKeyRow(r: SqlRow): TopKey {
  return {
    kind: Number(r[0]) === 0 ? "exact" : "glob",
    key: fromHex(String(r[1] ?? "")),
    subscriptions: Number(r[2]),
  };
}

/** Parameter: limit. */
export const LIST_PRUNES =
  `SELECT at, url, reason, exacts, globs FROM ${PRUNES} ORDER BY at DESC, id DESC LIMIT ?`;

/** Decodes a row of {@link LIST_PRUNES}. */
export function pruneRow(r: SqlRow): PruneRecord {
  return {
    at: Number(r[0]),
    url: String(r[1]),
    reason: String(r[2]),
    exacts: Number(r[3]),
    globs: Number(r[4]),
  };
}

/** Parameters: at, url, reason, exacts, globs. */
export const INSERT_PRUNE =
  `INSERT INTO ${PRUNES}(at, url, reason, exacts, globs) VALUES (?, ${T}, ${T}, ?, ?)`;

/** Removes every subscription of a url. Parameter: url. */
export const DELETE_URL = [EXACTS, GLOBS].map((t) => `DELETE FROM ${t} WHERE url = ${T}`);

function spare(rule: { readonly exceptSuffix?: string }): SqlStatement {
  const s = rule.exceptSuffix;
  if (s === undefined || s === "") return ["1"];
  return [`substr(url, -length(${T})) <> ${T}`, s, s];
}

/**
 * The urls a url-wide rule selects, each with how many exact and glob rows
 * it has: url, exacts, globs. `now` stands in for rows without any time.
 */
export function candidatesStatement(rule: PruneRule, now: number): SqlStatement {
  const all = `SELECT url, 1 AS e, 0 AS g, failing_since, last_success_at, renewed_at, ` +
    `created_at FROM ${EXACTS} UNION ALL SELECT url, 0, 1, failing_since, last_success_at, ` +
    `renewed_at, created_at FROM ${GLOBS}`;
  const grouped = (having: string, ...params: SqlParam[]): SqlStatement => {
    const [keep, ...keepParams] = spare(rule as { exceptSuffix?: string });
    return [
      `SELECT url, sum(e) AS e, sum(g) AS g FROM (${all}) WHERE ${keep} GROUP BY url ` +
      `HAVING ${having} ` +
      `ORDER BY url`,
      ...keepParams,
      ...params,
    ];
  };
  switch (rule.kind) {
    case "url":
      return [
        `SELECT url, sum(e) AS e, sum(g) AS g FROM (${all}) WHERE url = ${T} GROUP BY url`,
        rule.url,
      ];
    case "failing":
      return grouped(
        "min(failing_since) <= ? AND coalesce(max(last_success_at), 0) < ?",
        rule.before,
        rule.before,
      );
    case "idle":
      // A row's last sign of life: its last success or renewal (none known: now).
      return grouped(
        "max(max(coalesce(last_success_at, 0), " +
          "coalesce(renewed_at, created_at, iif(last_success_at IS NULL, ?, 0)))) <= ?",
        now,
        rule.before,
      );
    case "lease":
      throw new RangeError("Invalid rule: a lease is per subscription");
  }
}

/** Starts the lease of rows that never had one. Parameter: now. */
export const START_LEASES = [EXACTS, GLOBS].map((t) =>
  `UPDATE ${t} SET renewed_at = ?1 WHERE renewed_at IS NULL`
);

/** Rows whose lease ran out: kind (0 exact, 1 glob), id, url. */
export function expiredStatement(rule: PruneRule & { kind: "lease" }): SqlStatement {
  const [keep, ...keepParams] = spare(rule);
  return [
    `SELECT 0 AS kind, id, url FROM ${EXACTS} WHERE renewed_at <= ? AND ${keep} UNION ALL ` +
    `SELECT 1, id, url FROM ${GLOBS} WHERE renewed_at <= ? AND ${keep}`,
    rule.before,
    ...keepParams,
    rule.before,
    ...keepParams,
  ];
}

/** Deletes one row by id. Parameter: id. */
export const DELETE_BY_ID = [EXACTS, GLOBS].map((t) => `DELETE FROM ${t} WHERE id = ?`);

/** Bytes from upper- or lower-case hex. */
export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
