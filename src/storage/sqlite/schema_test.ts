import assert from "node:assert/strict";
import { withTempDb } from "./_testing.ts";
import { openSqlite, type SqliteDb } from "./driver.ts";
import { EXACTS, GLOBS, MIGRATIONS, SCHEMA_VERSION } from "./schema.ts";
import { openSqliteStore } from "./store.ts";

async function inspect<T>(path: string, fn: (db: SqliteDb) => T): Promise<T> {
  const db = await openSqlite(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

function plan(db: SqliteDb, sql: string, ...params: (string | Uint8Array | number)[]): string {
  return db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params).map((r) => String(r["detail"]))
    .join("\n");
}

Deno.test("a new file gets WAL, the current user_version and only the useful indexes", async () => {
  await withTempDb(async (path) => {
    await (await openSqliteStore({ path })).close();
    await inspect(path, (db) => {
      assert.equal(db.prepare("PRAGMA journal_mode").get()?.["journal_mode"], "wal");
      assert.equal(db.prepare("PRAGMA user_version").get()?.["user_version"], SCHEMA_VERSION);
      const names = db.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'idx_%' ORDER BY name",
      )
        .all().map((r) => r["name"]);
      assert.deepEqual(names, [
        `idx_${EXACTS}_exact_url`,
        `idx_${EXACTS}_failing_since`,
        `idx_${EXACTS}_next_retry_at`,
        `idx_${EXACTS}_url_exact`,
        `idx_${GLOBS}_failing_since`,
        `idx_${GLOBS}_glob_url`,
        `idx_${GLOBS}_next_retry_at`,
        `idx_${GLOBS}_url_glob`,
      ]);
    });
  });
});

Deno.test("per-url and per-topic queries search an index instead of scanning", async () => {
  await withTempDb(async (path) => {
    await (await openSqliteStore({ path })).close();
    await inspect(path, (db) => {
      const u = "http://x";
      const exacts = plan(
        db,
        `SELECT exact, missed_url FROM ${EXACTS} WHERE url = ? ORDER BY exact`,
        u,
      );
      assert.match(
        exacts,
        new RegExp(`SEARCH ${EXACTS} USING INDEX idx_${EXACTS}_url_exact \\(url=\\?\\)`),
      );
      assert.doesNotMatch(exacts, /SCAN|TEMP B-TREE/);
      const globs = plan(
        db,
        `SELECT glob, missed_url FROM ${GLOBS} WHERE url = ? ORDER BY glob`,
        u,
      );
      assert.match(
        globs,
        new RegExp(`SEARCH ${GLOBS} USING INDEX idx_${GLOBS}_url_glob \\(url=\\?\\)`),
      );
      assert.doesNotMatch(globs, /SCAN|TEMP B-TREE/);
      const topic = plan(
        db,
        `SELECT url, missed_url FROM ${EXACTS} WHERE exact = ?`,
        new Uint8Array([1]),
      );
      assert.match(
        topic,
        new RegExp(`SEARCH ${EXACTS} USING INDEX idx_${EXACTS}_exact_url \\(exact=\\?\\)`),
      );
      const due = plan(
        db,
        `SELECT id FROM ${EXACTS} WHERE missed_next_retry_at <= ? ORDER BY missed_next_retry_at`,
        5,
      );
      assert.match(due, /USING (COVERING )?INDEX idx_\w+_next_retry_at/);
    });
  });
});

Deno.test("a database from a newer version is refused with a clear error", async () => {
  await withTempDb(async (path) => {
    await (await openSqliteStore({ path })).close();
    await inspect(path, (db) => db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`));
    await assert.rejects(
      openSqliteStore({ path }),
      new RegExp(
        `Unsupported database schema: version ${
          SCHEMA_VERSION + 1
        } is newer than ${SCHEMA_VERSION}`,
      ),
    );
  });
});

Deno.test("a database created by the reference is adopted and its unused indexes dropped", async () => {
  await withTempDb(async (path) => {
    await inspect(path, (db) => {
      db.exec(
        `CREATE TABLE ${EXACTS} (id INTEGER PRIMARY KEY, url TEXT NOT NULL, exact BLOB NOT NULL,
        missed_url TEXT NULL, missed_lock_id INTEGER NULL, missed_lock_expires_at INTEGER NULL,
        missed_attempts INTEGER NULL, missed_next_retry_at INTEGER NULL);
        CREATE UNIQUE INDEX idx_${EXACTS}_exact_url ON ${EXACTS}(exact, url);
        CREATE INDEX idx_${EXACTS}_missed_url_topic ON ${EXACTS}(missed_url, exact) WHERE missed_url IS NOT NULL;
        INSERT INTO ${EXACTS}(url, exact, missed_url) VALUES ('http://a', x'6869', 'http://r');`,
      );
    });
    const store = await openSqliteStore({ path });
    try {
      const subs = await store.getSubscribers(new TextEncoder().encode("hi"));
      assert.deepEqual(subs, [{ kind: "exact", url: "http://a", recovery: "http://r" }]);
    } finally {
      await store.close();
    }
    await inspect(path, (db) => {
      const n = db.prepare(
        "SELECT count(*) AS n FROM sqlite_master WHERE name LIKE '%missed_url_topic'",
      ).get();
      assert.equal(n?.["n"], 0);
    });
  });
});

Deno.test("a version 1 database is migrated in place: rows, ids and missed state kept, stats start empty", async () => {
  await withTempDb(async (path) => {
    await inspect(path, (db) => {
      db.exec(MIGRATIONS[0]!);
      db.exec("PRAGMA user_version = 1");
      db.exec(
        `INSERT INTO ${EXACTS}(id, url, exact, missed_url, missed_attempts, missed_next_retry_at)
         VALUES (42, 'http://a', x'6869', 'http://r', 3, 1000);
         INSERT INTO ${GLOBS}(id, url, glob) VALUES (7, 'http://b', 'h*');`,
      );
    });
    const store = await openSqliteStore({ path });
    try {
      assert.equal(await store.countPendingMissed(), 1);
      const page = await store.listSubscriptionStats({ limit: 10, offset: 0 });
      assert.ok(page !== "unavailable");
      assert.deepEqual(page.rows.map((r) => [r.url, r.createdAt, r.deliveries, r.failingSince]), [
        ["http://a", null, 0, null],
        ["http://b", null, 0, null],
      ]);
      // A lease starts at the first sweep that sees such a row, never before.
      const swept = await store.pruneSubscriptions({ kind: "lease", before: 5_000 }, {
        now: 10_000,
      });
      assert.deepEqual(swept, []);
    } finally {
      await store.close();
    }
    await inspect(path, (db) => {
      assert.equal(db.prepare("PRAGMA user_version").get()?.["user_version"], SCHEMA_VERSION);
      assert.equal(db.prepare(`SELECT id FROM ${EXACTS}`).get()?.["id"], 42);
      assert.equal(db.prepare(`SELECT renewed_at FROM ${GLOBS}`).get()?.["renewed_at"], 10_000);
    });
  });
});
