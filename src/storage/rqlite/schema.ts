/**
 * The schema on rqlite: the very tables, indexes, triggers and versions of the
 * SQLite store (`../sqlite/schema.ts`, whose migrations are sent as they are),
 * applied without interactive transactions. Each step is one `?transaction`
 * request that also sets `PRAGMA user_version`; a step that another
 * broadcaster applied meanwhile fails inside that transaction (so nothing of
 * it is applied twice), and the version is read again.
 *
 * @module
 */

import { GLOB_GENERATION, META, MIGRATIONS, SCHEMA_VERSION } from "../sqlite/schema.ts";
import type { RqliteClient } from "./client.ts";
import type { Statement } from "./values.ts";

/** The schema version this code writes (the SQLite store's). */
export { SCHEMA_VERSION };

/**
 * Brings the cluster's database up to {@link SCHEMA_VERSION} before `deadline`.
 *
 * @throws {Error} when the database is newer than this code, or rqlite cannot be reached in time
 */
export async function migrate(client: RqliteClient, deadline: number): Promise<void> {
  for (let tries = 0;; tries++) {
    const version = await readVersion(client, deadline);
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `Unsupported database schema: version ${version} is newer than ${SCHEMA_VERSION}; upgrade lonelypss`,
      );
    }
    if (version === SCHEMA_VERSION) return;
    const step: Statement[] = [];
    // Version 0 has no meta table yet; V1's CREATE TABLE of it is its own guard.
    if (version > 0) step.push(guard(version));
    step.push([MIGRATIONS[version]!], [`PRAGMA user_version = ${version + 1}`]);
    const r = await client.write(step, deadline, { idempotent: true });
    // A failed step is normal once (someone else applied it: the version
    // read next says so); a step that keeps failing is an error.
    if (!r.ok && (tries >= 3 || Date.now() >= deadline)) {
      throw new Error(`Cannot migrate the rqlite database: ${r.reason}`);
    }
  }
}

/** The schema version of the cluster's database. */
export async function readVersion(client: RqliteClient, deadline: number): Promise<number> {
  const r = await client.queryLeader([["PRAGMA user_version"]], deadline);
  if (!r.ok) throw new Error(`Cannot read the rqlite schema version: ${r.reason}`);
  return Number(r.results[0]?.values[0]?.[0] ?? 0);
}

// Fails (a primary key conflict on a row that always exists) unless the
// database is still at `version`, rolling the whole step back.
function guard(version: number): Statement {
  return [
    `INSERT INTO ${META}(key, value) SELECT '${GLOB_GENERATION}', 0 ` +
    `WHERE (SELECT user_version FROM pragma_user_version) <> ?`,
    version,
  ];
}
