/**
 * The SQL the PostgreSQL store sends, built once per store for its table
 * names. Text is ordered `COLLATE "C"` (bytewise in UTF-8) whatever the
 * database's collation, as the strong etag needs; bytea orders bytewise.
 *
 * @module
 */

import { GLOB_GENERATION, type Names } from "./schema.ts";

/** Every statement, for one set of table names. */
export type Statements = ReturnType<typeof statements>;

// Removing the recovery url also drops a pending MISSED: it has nowhere to go.
const keep = (col: string, recovery: string) =>
  `${col} = CASE WHEN ${recovery} IS NULL THEN NULL ELSE ${col} END`;
const RESET = (r: string) =>
  ["missed_attempts", "missed_next_retry_at", "missed_lock_id", "missed_lock_expires_at"]
    .map((c) => keep(c, r)).join(", ");

const CLEAR = "missed_lock_id = NULL, missed_lock_expires_at = NULL, " +
  "missed_attempts = NULL, missed_next_retry_at = NULL";

// Due, not leased (or the lease expired), with somewhere to send MISSED. $1 = now.
const DUE = "missed_next_retry_at <= $1 AND missed_url IS NOT NULL " +
  "AND (missed_lock_id IS NULL OR missed_lock_expires_at < $1)";

/** The statements for `n`. */
export function statements(n: Names) {
  const gen = `SELECT value FROM ${n.meta} WHERE key = '${GLOB_GENERATION}'`;
  return {
    /** The glob generation. */
    generation: gen,
    /** The glob generation, locked until commit: our glob writes then move it alone. */
    lockGeneration: `${gen} FOR UPDATE`,
    /** $1 url, $2 topic, $3 recovery, $4 now. */
    insertExact: `INSERT INTO ${n.exacts} (url, exact, missed_url, created_at, renewed_at) ` +
      `VALUES ($1, $2, $3, $4, $4) ` +
      `ON CONFLICT (exact, url) DO NOTHING RETURNING id`,
    /** $1 url, $2 glob, $3 recovery, $4 now. */
    insertGlob: `INSERT INTO ${n.globs} (url, glob, missed_url, created_at, renewed_at) ` +
      `VALUES ($1, $2, $3, $4, $4) ` +
      `ON CONFLICT (glob, url) DO NOTHING RETURNING id`,
    /** $1 topic, $2 url. */
    deleteExact: `DELETE FROM ${n.exacts} WHERE exact = $1 AND url = $2 RETURNING id`,
    /** $1 glob, $2 url. */
    deleteGlob: `DELETE FROM ${n.globs} WHERE glob = $1 AND url = $2 RETURNING id`,
    /** $1 topic: the generation first (url null), then the exact subscribers. */
    fanout: `SELECT NULL::text AS url, NULL::text AS missed_url, value AS generation ` +
      `FROM ${n.meta} WHERE key = '${GLOB_GENERATION}' UNION ALL ` +
      `SELECT url, missed_url, NULL FROM ${n.exacts} WHERE exact = $1`,
    /** The generation, then every glob row (one snapshot). */
    allGlobs: `SELECT NULL::text AS url, NULL::text AS glob, NULL::text AS missed_url, ` +
      `value AS generation FROM ${n.meta} WHERE key = '${GLOB_GENERATION}' UNION ALL ` +
      `SELECT url, glob, missed_url, NULL FROM ${n.globs}`,
    /** $1 url: exact rows (kind 0, by topic), then glob rows (kind 1, by pattern). */
    list: `SELECT * FROM (SELECT 0 AS kind, exact, NULL::text AS glob, missed_url ` +
      `FROM ${n.exacts} WHERE url = $1 UNION ALL SELECT 1, NULL, glob, missed_url ` +
      `FROM ${n.globs} WHERE url = $1) u ORDER BY kind, exact, glob COLLATE "C"`,
    /** $1 url. */
    exactRowsOfUrl: `SELECT id, exact, missed_url FROM ${n.exacts} WHERE url = $1`,
    /** $1 url. */
    globRowsOfUrl: `SELECT id, glob, missed_url FROM ${n.globs} WHERE url = $1`,
    /** $1 now, $2 topic, $3 url: a repeated subscribe renews the lease. */
    renewExact: `UPDATE ${n.exacts} SET renewed_at = $1 WHERE exact = $2 AND url = $3`,
    /** $1 now, $2 glob, $3 url. */
    renewGlob: `UPDATE ${n.globs} SET renewed_at = $1 WHERE glob = $2 AND url = $3`,
    /** $1 now, $2 url: set_subscriptions renews what it keeps. */
    renewUrl: `WITH e AS (UPDATE ${n.exacts} SET renewed_at = $1 WHERE url = $2) ` +
      `UPDATE ${n.globs} SET renewed_at = $1 WHERE url = $2`,
    /** $1 url, $2 JSON array of [topic hex, recovery], $3 now. */
    insertExacts: `INSERT INTO ${n.exacts} (url, exact, missed_url, created_at, renewed_at) ` +
      `SELECT $1, decode(e->>0, 'hex'), e->>1, $3, $3 FROM jsonb_array_elements($2::text::jsonb) e ` +
      `ON CONFLICT (exact, url) DO NOTHING`,
    /** $1 url, $2 JSON array of [glob, recovery], $3 now. */
    insertGlobs: `INSERT INTO ${n.globs} (url, glob, missed_url, created_at, renewed_at) ` +
      `SELECT $1, e->>0, e->>1, $3, $3 FROM jsonb_array_elements($2::text::jsonb) e ` +
      `ON CONFLICT (glob, url) DO NOTHING`,
    /** $1 JSON array of ids. */
    deleteExactIds: `DELETE FROM ${n.exacts} WHERE id IN ` +
      `(SELECT (jsonb_array_elements_text($1::text::jsonb))::bigint)`,
    /** $1 JSON array of ids. */
    deleteGlobIds: `DELETE FROM ${n.globs} WHERE id IN ` +
      `(SELECT (jsonb_array_elements_text($1::text::jsonb))::bigint)`,
    /** $1 JSON array of [id, recovery]. */
    setExactRecoveries: `UPDATE ${n.exacts} t SET missed_url = v.r, ${RESET("v.r")} ` +
      `FROM (SELECT (e->>0)::bigint AS id, e->>1 AS r FROM jsonb_array_elements($1::text::jsonb) e) v ` +
      `WHERE t.id = v.id`,
    /** $1 JSON array of [id, recovery]. */
    setGlobRecoveries: `UPDATE ${n.globs} t SET missed_url = v.r, ${RESET("v.r")}, ` +
      `${keep("missed_topic", "v.r")} ` +
      `FROM (SELECT (e->>0)::bigint AS id, e->>1 AS r FROM jsonb_array_elements($1::text::jsonb) e) v ` +
      `WHERE t.id = v.id`,
    /** $1 recovery, $2 attempts, $3 next retry, $4 topic, $5 url. */
    upsertMissedExact: `UPDATE ${n.exacts} SET missed_url = $1, missed_attempts = $2, ` +
      `missed_next_retry_at = $3, missed_lock_id = NULL, missed_lock_expires_at = NULL ` +
      `WHERE exact = $4 AND url = $5`,
    /** $1 recovery, $2 topic, $3 attempts, $4 next retry, $5 glob, $6 url. */
    upsertMissedGlob: `UPDATE ${n.globs} SET missed_url = $1, missed_topic = $2, ` +
      `missed_attempts = $3, missed_next_retry_at = $4, missed_lock_id = NULL, ` +
      `missed_lock_expires_at = NULL WHERE glob = $5 AND url = $6`,
    /**
     * $1 now, $2 lease id, $3 lease expiry, $4 limit: stamps the `limit`
     * oldest due records of both tables and returns them. The UPDATEs check
     * DUE again on the row they lock, so two sweepers never both lease a row.
     */
    lease: `WITH top AS (SELECT kind, id FROM (` +
      `(SELECT 0 AS kind, id, missed_next_retry_at AS due FROM ${n.exacts} WHERE ${DUE} ` +
      `ORDER BY missed_next_retry_at, id LIMIT $4) UNION ALL ` +
      `(SELECT 1, id, missed_next_retry_at FROM ${n.globs} WHERE ${DUE} ` +
      `AND missed_topic IS NOT NULL ORDER BY missed_next_retry_at, id LIMIT $4)` +
      `) c ORDER BY due, kind, id LIMIT $4), ` +
      `e AS (UPDATE ${n.exacts} SET missed_lock_id = $2, missed_lock_expires_at = $3 ` +
      `WHERE id IN (SELECT id FROM top WHERE kind = 0) AND ${DUE} RETURNING url, exact, ` +
      `NULL::text AS glob, missed_url, NULL::bytea AS topic, missed_attempts, ` +
      `missed_next_retry_at), ` +
      `g AS (UPDATE ${n.globs} SET missed_lock_id = $2, missed_lock_expires_at = $3 ` +
      `WHERE id IN (SELECT id FROM top WHERE kind = 1) AND ${DUE} AND missed_topic IS NOT NULL ` +
      `RETURNING url, NULL::bytea, glob, missed_url, missed_topic, missed_attempts, ` +
      `missed_next_retry_at) ` +
      `SELECT * FROM e UNION ALL SELECT * FROM g`,
    /** $1 attempts, $2 next retry, $3 topic, $4 url, $5 lease id. */
    retryExact: `UPDATE ${n.exacts} SET missed_attempts = $1, missed_next_retry_at = $2, ` +
      `missed_lock_id = NULL, missed_lock_expires_at = NULL ` +
      `WHERE exact = $3 AND url = $4 AND missed_lock_id = $5`,
    /** $1 attempts, $2 next retry, $3 glob, $4 url, $5 lease id. */
    retryGlob: `UPDATE ${n.globs} SET missed_attempts = $1, missed_next_retry_at = $2, ` +
      `missed_lock_id = NULL, missed_lock_expires_at = NULL ` +
      `WHERE glob = $3 AND url = $4 AND missed_lock_id = $5`,
    /** $1 topic, $2 url, $3 lease id. */
    clearExact: `UPDATE ${n.exacts} SET ${CLEAR} WHERE exact = $1 AND url = $2 ` +
      `AND missed_lock_id = $3`,
    /** $1 glob, $2 url, $3 lease id. */
    clearGlob: `UPDATE ${n.globs} SET ${CLEAR}, missed_topic = NULL WHERE glob = $1 ` +
      `AND url = $2 AND missed_lock_id = $3`,
    /** Missed records waiting for a MISSED, both tables (the partial indexes answer it). */
    pendingMissed: `SELECT (SELECT count(*) FROM ${n.exacts} WHERE missed_next_retry_at ` +
      `IS NOT NULL) + (SELECT count(*) FROM ${n.globs} WHERE missed_next_retry_at IS NOT NULL) ` +
      `AS n`,
  };
}
