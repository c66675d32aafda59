/**
 * The SQLite schema and its migrations, versioned with `PRAGMA user_version`.
 *
 * Table and column names are the reference's (docs/decisions.md#the-sqlite-schema), so a
 * database created by the Python broadcaster can be adopted. Differences:
 * - Times (`missed_lock_expires_at`, `missed_next_retry_at`) are INTEGER epoch
 *   **milliseconds** (the reference stores seconds, some as REAL).
 *   Pending records adopted from a reference database simply become due at once.
 * - `(url, exact)` and `(url, glob)` indexes serve the per-url queries; the
 *   reference's two unused `missed_url` indexes are dropped.
 * - A one-row counter, bumped by triggers whenever a glob row's url, pattern or
 *   recovery url changes, lets each connection tell cheaply whether its in-memory
 *   glob index is stale after another connection committed.
 *
 * @module
 */

import type { SqliteDb } from "./driver.ts";
import { transaction } from "./driver.ts";

/** Table of exact subscriptions. */
export const EXACTS = "httppubsub_subscription_exacts";
/** Table of glob subscriptions. */
export const GLOBS = "httppubsub_subscription_globs";
/** Table of our own bookkeeping values (key → integer). */
export const META = "lonelypss_meta";
/** The key of the glob generation counter in {@link META}. */
export const GLOB_GENERATION = "glob_generation";

const V1 = `
CREATE TABLE IF NOT EXISTS ${EXACTS} (
  id INTEGER PRIMARY KEY,
  url TEXT NOT NULL,
  exact BLOB NOT NULL,
  missed_url TEXT NULL,
  missed_lock_id INTEGER NULL,
  missed_lock_expires_at INTEGER NULL,
  missed_attempts INTEGER NULL,
  missed_next_retry_at INTEGER NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_${EXACTS}_exact_url ON ${EXACTS}(exact, url);
CREATE INDEX IF NOT EXISTS idx_${EXACTS}_url_exact ON ${EXACTS}(url, exact);
CREATE INDEX IF NOT EXISTS idx_${EXACTS}_next_retry_at ON ${EXACTS}(missed_next_retry_at)
  WHERE missed_next_retry_at IS NOT NULL;
DROP INDEX IF EXISTS idx_${EXACTS}_missed_url_topic;

CREATE TABLE IF NOT EXISTS ${GLOBS} (
  id INTEGER PRIMARY KEY,
  url TEXT NOT NULL,
  glob TEXT NOT NULL,
  missed_url TEXT NULL,
  missed_topic BLOB NULL,
  missed_lock_id INTEGER NULL,
  missed_lock_expires_at INTEGER NULL,
  missed_attempts INTEGER NULL,
  missed_next_retry_at INTEGER NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_${GLOBS}_glob_url ON ${GLOBS}(glob, url);
CREATE INDEX IF NOT EXISTS idx_${GLOBS}_url_glob ON ${GLOBS}(url, glob);
CREATE INDEX IF NOT EXISTS idx_${GLOBS}_next_retry_at ON ${GLOBS}(missed_next_retry_at)
  WHERE missed_next_retry_at IS NOT NULL;
DROP INDEX IF EXISTS idx_${GLOBS}_missed_url_topic;

CREATE TABLE ${META} (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO ${META}(key, value) VALUES ('${GLOB_GENERATION}', 0);
CREATE TRIGGER trg_${GLOBS}_insert AFTER INSERT ON ${GLOBS} BEGIN
  UPDATE ${META} SET value = value + 1 WHERE key = '${GLOB_GENERATION}';
END;
CREATE TRIGGER trg_${GLOBS}_delete AFTER DELETE ON ${GLOBS} BEGIN
  UPDATE ${META} SET value = value + 1 WHERE key = '${GLOB_GENERATION}';
END;
CREATE TRIGGER trg_${GLOBS}_update AFTER UPDATE OF url, glob, missed_url ON ${GLOBS}
  WHEN OLD.url IS NOT NEW.url OR OLD.glob IS NOT NEW.glob OR OLD.missed_url IS NOT NEW.missed_url
BEGIN
  UPDATE ${META} SET value = value + 1 WHERE key = '${GLOB_GENERATION}';
END;
`;

/** The audit of prunes (`admin_types.ts`). */
export const PRUNES = "lonelypss_prunes";

// Delivery statistics and the lease stamp on every subscription row, added in
// place (ALTER TABLE keeps every row; a Python broadcaster ignores the
// columns). Rows from before have no creation or renewal time: a lease
// starts at the first lease sweep that sees them.
const STATS_COLUMNS = [
  "created_at INTEGER NULL",
  "renewed_at INTEGER NULL",
  "last_attempt_at INTEGER NULL",
  "last_success_at INTEGER NULL",
  "last_failure_at INTEGER NULL",
  "last_failure TEXT NULL",
  "failing_since INTEGER NULL",
  "consecutive_failures INTEGER NOT NULL DEFAULT 0",
  "deliveries INTEGER NOT NULL DEFAULT 0",
  "failures INTEGER NOT NULL DEFAULT 0",
];
const V2 =
  [EXACTS, GLOBS].map((t) =>
    STATS_COLUMNS.map((c) => `ALTER TABLE ${t} ADD COLUMN ${c};`).join("\n") +
    `\nCREATE INDEX idx_${t}_failing_since ON ${t}(failing_since) WHERE failing_since IS NOT NULL;`
  ).join("\n") + `
CREATE TABLE ${PRUNES} (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  url TEXT NOT NULL,
  reason TEXT NOT NULL,
  exacts INTEGER NOT NULL,
  globs INTEGER NOT NULL
);
`;

/**
 * Every migration in order; entry `i` moves a database from version `i` to
 * `i + 1`. Append only: never edit a released entry.
 */
export const MIGRATIONS: readonly string[] = [V1, V2];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database up to {@link SCHEMA_VERSION}, one transaction per step.
 *
 * @throws {Error} when the database was written by a newer version of this software
 */
export function migrate(db: SqliteDb): void {
  const version = readVersion(db);
  if (version > SCHEMA_VERSION) {
    throw new Error(
      `Unsupported database schema: version ${version} is newer than ${SCHEMA_VERSION}; upgrade lonelypss`,
    );
  }
  for (let v = version; v < SCHEMA_VERSION; v++) {
    transaction(db, () => {
      // Re-read inside the write lock: another process may have migrated meanwhile.
      if (readVersion(db) !== v) return;
      db.exec(MIGRATIONS[v]!);
      db.exec(`PRAGMA user_version = ${v + 1}`);
    });
  }
}

function readVersion(db: SqliteDb): number {
  return Number(db.prepare("PRAGMA user_version").get()?.["user_version"] ?? 0);
}
