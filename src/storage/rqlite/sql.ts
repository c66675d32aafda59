/**
 * The SQL the rqlite store sends. Placeholders for user text are
 * {@link TEXT} (see `values.ts`); row ids are chosen by us (random, below
 * 2^53) so a write whose outcome is unknown can be recognised as ours.
 *
 * @module
 */

import { EXACTS, GLOB_GENERATION, GLOBS, META } from "../sqlite/schema.ts";
import { TEXT } from "./values.ts";

/** The glob generation (bumped by triggers on every glob row change). */
export const GENERATION = `SELECT value FROM ${META} WHERE key = '${GLOB_GENERATION}'`;

/** Parameters: id, url, topic, recovery, now. */
export const INSERT_EXACT = `INSERT INTO ${EXACTS}(id, url, exact, missed_url, created_at, ` +
  `renewed_at) VALUES (?1, CAST(?2 AS TEXT), ?3, CAST(?4 AS TEXT), ?5, ?5) ON CONFLICT DO NOTHING`;
/** Parameters: id, url, glob, recovery, now. */
export const INSERT_GLOB = `INSERT INTO ${GLOBS}(id, url, glob, missed_url, created_at, ` +
  `renewed_at) VALUES (?1, CAST(?2 AS TEXT), CAST(?3 AS TEXT), CAST(?4 AS TEXT), ?5, ?5) ` +
  `ON CONFLICT DO NOTHING`;
/** Parameters: now, topic, url. */
export const RENEW_EXACT = `UPDATE ${EXACTS} SET renewed_at = ? WHERE exact = ? AND url = ${TEXT}`;
/** Parameters: now, glob, url. */
export const RENEW_GLOB =
  `UPDATE ${GLOBS} SET renewed_at = ? WHERE glob = ${TEXT} AND url = ${TEXT}`;
/** Parameters: now, url. */
export const RENEW_URL = [EXACTS, GLOBS].map((t) =>
  `UPDATE ${t} SET renewed_at = ? WHERE url = ${TEXT}`
);
/** Parameters: topic, url. */
export const FIND_EXACT = `SELECT id FROM ${EXACTS} WHERE exact = ? AND url = ${TEXT}`;
/** Parameters: glob, url. */
export const FIND_GLOB = `SELECT id FROM ${GLOBS} WHERE glob = ${TEXT} AND url = ${TEXT}`;

/** Parameters: topic. */
export const EXACT_SUBSCRIBERS = `SELECT url, missed_url FROM ${EXACTS} WHERE exact = ?`;
/** Every glob row. */
export const ALL_GLOBS = `SELECT url, glob, missed_url FROM ${GLOBS}`;
/** Parameters: url. */
export const LIST_EXACTS =
  `SELECT exact, missed_url FROM ${EXACTS} WHERE url = ${TEXT} ORDER BY exact`;
/** Parameters: url. */
export const LIST_GLOBS = `SELECT glob, missed_url FROM ${GLOBS} WHERE url = ${TEXT} ORDER BY glob`;
/** Parameters: url. */
export const EXACT_ROWS_OF_URL = `SELECT id, exact, missed_url FROM ${EXACTS} WHERE url = ${TEXT}`;
/** Parameters: url. */
export const GLOB_ROWS_OF_URL = `SELECT id, glob, missed_url FROM ${GLOBS} WHERE url = ${TEXT}`;
/** Parameters: id. */
export const DELETE_EXACT_BY_ID = `DELETE FROM ${EXACTS} WHERE id = ?`;
/** Parameters: id. */
export const DELETE_GLOB_BY_ID = `DELETE FROM ${GLOBS} WHERE id = ?`;

// Removing the recovery url also drops a pending MISSED: it has nowhere to go.
const KEEP_IF_RECOVERY = (col: string) => `${col} = iif(?1 IS NULL, NULL, ${col})`;
const RECOVERY_RESET = ["missed_attempts", "missed_next_retry_at", "missed_lock_id"]
  .concat("missed_lock_expires_at").map(KEEP_IF_RECOVERY).join(", ");
/** Parameters: recovery, id. */
export const SET_EXACT_RECOVERY =
  `UPDATE ${EXACTS} SET missed_url = CAST(?1 AS TEXT), ${RECOVERY_RESET} WHERE id = ?2`;
/** Parameters: recovery, id. */
export const SET_GLOB_RECOVERY = `UPDATE ${GLOBS} SET missed_url = CAST(?1 AS TEXT), ` +
  `${RECOVERY_RESET}, ${KEEP_IF_RECOVERY("missed_topic")} WHERE id = ?2`;

/** Parameters: recovery, attempts, next retry, topic, url. */
export const UPSERT_MISSED_EXACT = `UPDATE ${EXACTS} SET missed_url = ${TEXT}, ` +
  `missed_attempts = ?, missed_next_retry_at = ?, missed_lock_id = NULL, ` +
  `missed_lock_expires_at = NULL WHERE exact = ? AND url = ${TEXT}`;
/** Parameters: recovery, topic, attempts, next retry, glob, url. */
export const UPSERT_MISSED_GLOB = `UPDATE ${GLOBS} SET missed_url = ${TEXT}, missed_topic = ?, ` +
  `missed_attempts = ?, missed_next_retry_at = ?, missed_lock_id = NULL, ` +
  `missed_lock_expires_at = NULL WHERE glob = ${TEXT} AND url = ${TEXT}`;

// Due, not leased (or the lease expired, or it is the lease being taken).
// A negative lock id is a release receipt, not a lease (see RETRY_EXACT).
// ?1 = now, ?2 = lease id.
const DUE = "missed_next_retry_at <= ?1 AND missed_url IS NOT NULL AND (missed_lock_id IS NULL " +
  "OR missed_lock_id < 0 OR missed_lock_expires_at < ?1 OR missed_lock_id = ?2)";

// The `limit` oldest due records across both tables, each arm limited first.
// Rows already stamped with this lease id still count, so the second UPDATE
// sees the same set as the first. ?4 = limit.
const TOP = `WITH top AS (SELECT kind, id FROM (` +
  `SELECT * FROM (SELECT 0 AS kind, id, missed_next_retry_at AS due FROM ${EXACTS} ` +
  `WHERE ${DUE} ORDER BY missed_next_retry_at, id LIMIT ?4) UNION ALL ` +
  `SELECT * FROM (SELECT 1 AS kind, id, missed_next_retry_at AS due FROM ${GLOBS} ` +
  `WHERE ${DUE} AND missed_topic IS NOT NULL ORDER BY missed_next_retry_at, id LIMIT ?4)` +
  `) ORDER BY due, kind, id LIMIT ?4) `;
const STAMP = "SET missed_lock_id = ?2, missed_lock_expires_at = ?3 WHERE id IN " +
  "(SELECT id FROM top WHERE kind = ";
/** Parameters: now, lease id, lease expiry, limit. */
export const LEASE_EXACTS = `${TOP}UPDATE ${EXACTS} ${STAMP}0)`;
/** Parameters: now, lease id, lease expiry, limit. */
export const LEASE_GLOBS = `${TOP}UPDATE ${GLOBS} ${STAMP}1)`;
/** Parameters: lease id. */
export const LEASED_EXACTS = `SELECT url, exact, missed_url, missed_attempts, ` +
  `missed_next_retry_at FROM ${EXACTS} WHERE missed_lock_id = ?`;
/** Parameters: lease id. */
export const LEASED_GLOBS = `SELECT url, glob, missed_url, missed_topic, missed_attempts, ` +
  `missed_next_retry_at FROM ${GLOBS} WHERE missed_lock_id = ?`;

// A release leaves its receipt, a fresh negative number, in missed_lock_id:
// a release that reached rqlite twice (or whose answer was lost) is then
// told apart from a lease that was already released or taken over.
const CLEAR_MISSED = "missed_lock_id = ?, missed_lock_expires_at = NULL, " +
  "missed_attempts = NULL, missed_next_retry_at = NULL";
/** Parameters: attempts, next retry, receipt, topic, url, lease id. */
export const RETRY_EXACT = `UPDATE ${EXACTS} SET missed_attempts = ?, missed_next_retry_at = ?, ` +
  `missed_lock_id = ?, missed_lock_expires_at = NULL ` +
  `WHERE exact = ? AND url = ${TEXT} AND missed_lock_id = ?`;
/** Parameters: attempts, next retry, receipt, glob, url, lease id. */
export const RETRY_GLOB = `UPDATE ${GLOBS} SET missed_attempts = ?, missed_next_retry_at = ?, ` +
  `missed_lock_id = ?, missed_lock_expires_at = NULL ` +
  `WHERE glob = ${TEXT} AND url = ${TEXT} AND missed_lock_id = ?`;
/** Parameters: receipt, topic, url, lease id. */
export const CLEAR_EXACT = `UPDATE ${EXACTS} SET ${CLEAR_MISSED} ` +
  `WHERE exact = ? AND url = ${TEXT} AND missed_lock_id = ?`;
/** Parameters: receipt, glob, url, lease id. */
export const CLEAR_GLOB = `UPDATE ${GLOBS} SET ${CLEAR_MISSED}, missed_topic = NULL ` +
  `WHERE glob = ${TEXT} AND url = ${TEXT} AND missed_lock_id = ?`;
/** Parameters: topic, url. */
export const MISSED_STATE_EXACT =
  `SELECT missed_lock_id FROM ${EXACTS} WHERE exact = ? AND url = ${TEXT}`;
/** Parameters: glob, url. */
export const MISSED_STATE_GLOB =
  `SELECT missed_lock_id FROM ${GLOBS} WHERE glob = ${TEXT} AND url = ${TEXT}`;
