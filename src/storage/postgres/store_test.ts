import assert from "node:assert/strict";
import { type ContractDatabase, STORE_CONTRACT } from "../_testing_contract/mod.ts";
import { connect, type Sql } from "./driver.ts";
import { type PgCluster, postgresTest, startPostgres } from "./_testing.ts";
import { openPostgresStore, type PostgresStoreOptions } from "./store.ts";
import { names, SchemaTooNewError } from "./schema.ts";

/** A client for inspecting the test cluster directly. */
export function inspect(cluster: PgCluster): Promise<Sql> {
  return connect({
    url: cluster.url(),
    ssl: false,
    max: 2,
    connectTimeoutS: 5,
    statementTimeoutMs: 10_000,
  });
}

function database(
  cluster: PgCluster,
  sql: Sql,
  opts: Partial<PostgresStoreOptions> = {},
): ContractDatabase {
  const n = names(opts.schema ?? null, opts.tablePrefix ?? "");
  return {
    open: () => openPostgresStore({ url: cluster.url(), ...opts }),
    async rowIds(kind, url) {
      const [table, key] = kind === "exact"
        ? [n.exacts, "exact"]
        : [n.globs, "convert_to(glob, 'UTF8')"];
      const rows = await sql.unsafe(
        `SELECT id, upper(encode(${key}, 'hex')) AS k FROM ${table} WHERE url = $1`,
        [url],
      );
      return new Map(rows.map((r) => [String(r.k), Number(r.id)]));
    },
  };
}

postgresTest("the Store contract holds on PostgreSQL", async (bin, t) => {
  await using cluster = await startPostgres(bin);
  const sql = await inspect(cluster);
  try {
    for (const opts of [{}, { schema: "pubsub", tablePrefix: "lps_" }]) {
      // Creates the schema once, so every case can start by emptying the tables.
      await (await openPostgresStore({ url: cluster.url(), ...opts })).close();
      const n = names(opts.schema ?? null, opts.tablePrefix ?? "");
      const where = "schema" in opts ? ` (schema ${opts.schema}, prefix ${opts.tablePrefix})` : "";
      for (const c of STORE_CONTRACT) {
        await t.step(c.name + where, async () => {
          await sql.unsafe(`TRUNCATE ${n.exacts}, ${n.globs}, ${n.prunes}`);
          await c.fn(database(cluster, sql, opts));
        });
      }
    }
  } finally {
    await sql.end();
  }
});

postgresTest("postgres store: the schema is versioned and a newer one is refused", async (bin) => {
  await using cluster = await startPostgres(bin);
  const sql = await inspect(cluster);
  try {
    // Eight stores opening at once on an empty database: one migration.
    const stores = await Promise.all(
      Array.from({ length: 8 }, () => openPostgresStore({ url: cluster.url() })),
    );
    await Promise.all(stores.map((s) => s.close()));
    const n = names(null, "");
    const rows = await sql.unsafe(`SELECT version FROM ${n.versions}`);
    assert.deepEqual(rows.map((r) => r.version), [1, 2]);
    await sql.unsafe(`INSERT INTO ${n.versions} (version) VALUES (99)`);
    await assert.rejects(
      openPostgresStore({ url: cluster.url() }),
      (e: unknown) =>
        e instanceof SchemaTooNewError && /version 99 is newer than 2/.test(e.message),
    );
  } finally {
    await sql.end();
  }
});
