/**
 * Every statement the store runs, prepared once per connection so the hot
 * path never re-parses SQL.
 *
 * Parameters bound as JS numbers arrive as REAL; the INTEGER columns convert
 * integral values back on storage, and comparisons are numeric either way.
 *
 * @module
 */

import type { SqliteDb, SqliteStatement } from "./driver.ts";
import { EXACTS, GLOBS } from "./schema.ts";

const CLEAR_MISSED = "missed_lock_id = NULL, missed_lock_expires_at = NULL, " +
  "missed_attempts = NULL, missed_next_retry_at = NULL";

// Due, not leased (or lease expired), with somewhere to send MISSED.
// Parameters: ?1 = now.
const DUE = "missed_next_retry_at <= ?1 AND missed_url IS NOT NULL " +
  "AND (missed_lock_id IS NULL OR missed_lock_expires_at < ?1)";

/** The prepared statements of one connection. */
export interface Statements {
  readonly subscribeExact: SqliteStatement;
  readonly unsubscribeExact: SqliteStatement;
  readonly subscribeGlob: SqliteStatement;
  readonly unsubscribeGlob: SqliteStatement;
  readonly exactSubscribers: SqliteStatement;
  readonly listExacts: SqliteStatement;
  readonly listGlobs: SqliteStatement;
  readonly exactIdsOfUrl: SqliteStatement;
  readonly globIdsOfUrl: SqliteStatement;
  readonly deleteExactById: SqliteStatement;
  readonly deleteGlobById: SqliteStatement;
  readonly setExactRecovery: SqliteStatement;
  readonly setGlobRecovery: SqliteStatement;
  readonly upsertMissedExact: SqliteStatement;
  readonly upsertMissedGlob: SqliteStatement;
  readonly dueCandidates: SqliteStatement;
  readonly leaseExacts: SqliteStatement;
  readonly leaseGlobs: SqliteStatement;
  readonly retryExact: SqliteStatement;
  readonly retryGlob: SqliteStatement;
  readonly clearExact: SqliteStatement;
  readonly clearGlob: SqliteStatement;
  readonly ping: SqliteStatement;
  readonly pendingMissed: SqliteStatement;
  readonly renewExact: SqliteStatement;
  readonly renewGlob: SqliteStatement;
  readonly renewUrlExacts: SqliteStatement;
  readonly renewUrlGlobs: SqliteStatement;
}

/** Missed records waiting for a MISSED, both tables (the partial indexes answer it). */
export const PENDING_MISSED = `SELECT (SELECT count(*) FROM ${EXACTS} ` +
  `WHERE missed_next_retry_at IS NOT NULL) + (SELECT count(*) FROM ${GLOBS} ` +
  `WHERE missed_next_retry_at IS NOT NULL) AS n`;

/** Prepares {@link Statements} on `db` (whose schema is current). */
export function prepareStatements(db: SqliteDb): Statements {
  const p = (sql: string) => db.prepare(sql);
  return {
    subscribeExact: p(
      `INSERT INTO ${EXACTS}(url, exact, missed_url, created_at, renewed_at) VALUES (?1, ?2, ?3, ?4, ?4) ` +
        `ON CONFLICT(exact, url) DO NOTHING`,
    ),
    unsubscribeExact: p(`DELETE FROM ${EXACTS} WHERE exact = ? AND url = ?`),
    subscribeGlob: p(
      `INSERT INTO ${GLOBS}(url, glob, missed_url, created_at, renewed_at) VALUES (?1, ?2, ?3, ?4, ?4) ` +
        `ON CONFLICT(glob, url) DO NOTHING`,
    ),
    unsubscribeGlob: p(`DELETE FROM ${GLOBS} WHERE glob = ? AND url = ?`),
    exactSubscribers: p(`SELECT url, missed_url FROM ${EXACTS} WHERE exact = ?`),
    listExacts: p(`SELECT exact, missed_url FROM ${EXACTS} WHERE url = ? ORDER BY exact`),
    listGlobs: p(`SELECT glob, missed_url FROM ${GLOBS} WHERE url = ? ORDER BY glob`),
    exactIdsOfUrl: p(`SELECT id, exact, missed_url FROM ${EXACTS} WHERE url = ?`),
    globIdsOfUrl: p(`SELECT id, glob, missed_url FROM ${GLOBS} WHERE url = ?`),
    deleteExactById: p(`DELETE FROM ${EXACTS} WHERE id = ?`),
    deleteGlobById: p(`DELETE FROM ${GLOBS} WHERE id = ?`),
    // Removing the recovery url also drops a pending MISSED: it has nowhere to go.
    setExactRecovery: p(
      `UPDATE ${EXACTS} SET missed_url = ?1, ` +
        `missed_attempts = iif(?1 IS NULL, NULL, missed_attempts), ` +
        `missed_next_retry_at = iif(?1 IS NULL, NULL, missed_next_retry_at), ` +
        `missed_lock_id = iif(?1 IS NULL, NULL, missed_lock_id), ` +
        `missed_lock_expires_at = iif(?1 IS NULL, NULL, missed_lock_expires_at) WHERE id = ?2`,
    ),
    setGlobRecovery: p(
      `UPDATE ${GLOBS} SET missed_url = ?1, ` +
        `missed_attempts = iif(?1 IS NULL, NULL, missed_attempts), ` +
        `missed_next_retry_at = iif(?1 IS NULL, NULL, missed_next_retry_at), ` +
        `missed_lock_id = iif(?1 IS NULL, NULL, missed_lock_id), ` +
        `missed_lock_expires_at = iif(?1 IS NULL, NULL, missed_lock_expires_at), ` +
        `missed_topic = iif(?1 IS NULL, NULL, missed_topic) WHERE id = ?2`,
    ),
    upsertMissedExact: p(
      `UPDATE ${EXACTS} SET missed_url = ?, missed_attempts = ?, missed_next_retry_at = ?, ` +
        `missed_lock_id = NULL, missed_lock_expires_at = NULL WHERE exact = ? AND url = ?`,
    ),
    upsertMissedGlob: p(
      `UPDATE ${GLOBS} SET missed_url = ?, missed_topic = ?, missed_attempts = ?, ` +
        `missed_next_retry_at = ?, missed_lock_id = NULL, missed_lock_expires_at = NULL ` +
        `WHERE glob = ? AND url = ?`,
    ),
    // How many of the `limit` oldest due records live in each table; each arm is
    // limited first so the final sort sees at most 2 × limit rows.
    // ?1 = now, ?2 = limit.
    dueCandidates: p(
      `SELECT kind, count(*) AS n FROM (SELECT kind FROM (` +
        `SELECT * FROM (SELECT 0 AS kind, id, missed_next_retry_at AS due FROM ${EXACTS} ` +
        `WHERE ${DUE} ORDER BY missed_next_retry_at, id LIMIT ?2) UNION ALL ` +
        `SELECT * FROM (SELECT 1 AS kind, id, missed_next_retry_at AS due FROM ${GLOBS} ` +
        `WHERE ${DUE} AND missed_topic IS NOT NULL ORDER BY missed_next_retry_at, id LIMIT ?2)` +
        `) ORDER BY due, kind, id LIMIT ?2) GROUP BY kind`,
    ),
    // ?1 = now, ?2 = lease id, ?3 = lease expiry, ?4 = how many.
    leaseExacts: p(
      `UPDATE ${EXACTS} SET missed_lock_id = ?2, missed_lock_expires_at = ?3 WHERE id IN (` +
        `SELECT id FROM ${EXACTS} WHERE ${DUE} ORDER BY missed_next_retry_at, id LIMIT ?4) ` +
        `RETURNING url, exact, missed_url, missed_attempts, missed_next_retry_at`,
    ),
    leaseGlobs: p(
      `UPDATE ${GLOBS} SET missed_lock_id = ?2, missed_lock_expires_at = ?3 WHERE id IN (` +
        `SELECT id FROM ${GLOBS} WHERE ${DUE} AND missed_topic IS NOT NULL ` +
        `ORDER BY missed_next_retry_at, id LIMIT ?4) ` +
        `RETURNING url, glob, missed_url, missed_topic, missed_attempts, missed_next_retry_at`,
    ),
    retryExact: p(
      `UPDATE ${EXACTS} SET missed_attempts = ?, missed_next_retry_at = ?, ` +
        `missed_lock_id = NULL, missed_lock_expires_at = NULL ` +
        `WHERE exact = ? AND url = ? AND missed_lock_id = ?`,
    ),
    retryGlob: p(
      `UPDATE ${GLOBS} SET missed_attempts = ?, missed_next_retry_at = ?, ` +
        `missed_lock_id = NULL, missed_lock_expires_at = NULL ` +
        `WHERE glob = ? AND url = ? AND missed_lock_id = ?`,
    ),
    clearExact: p(
      `UPDATE ${EXACTS} SET ${CLEAR_MISSED} WHERE exact = ? AND url = ? AND missed_lock_id = ?`,
    ),
    clearGlob: p(
      `UPDATE ${GLOBS} SET ${CLEAR_MISSED}, missed_topic = NULL ` +
        `WHERE glob = ? AND url = ? AND missed_lock_id = ?`,
    ),
    // Reads a page of the schema: the file is there and readable.
    ping: p(`SELECT 1 FROM ${EXACTS} LIMIT 1`),
    pendingMissed: p(PENDING_MISSED),
    // Parameters: now, topic|glob, url.
    renewExact: p(`UPDATE ${EXACTS} SET renewed_at = ? WHERE exact = ? AND url = ?`),
    renewGlob: p(`UPDATE ${GLOBS} SET renewed_at = ? WHERE glob = ? AND url = ?`),
    // Parameters: now, url.
    renewUrlExacts: p(`UPDATE ${EXACTS} SET renewed_at = ? WHERE url = ?`),
    renewUrlGlobs: p(`UPDATE ${GLOBS} SET renewed_at = ? WHERE url = ?`),
  };
}
