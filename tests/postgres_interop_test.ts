/**
 * The official Python client's interop suite (tests/interop/*.py) against
 * PostgreSQL-backed broadcasters: the HTTP half against one `cli.ts serve`,
 * the websocket half against two sharing one database, each on a fresh
 * database of a real PostgreSQL server, with `LONELYPSS_POSTGRES_URL`
 * choosing the storage. Needs python3 (as tests/interop_test.ts) and
 * PostgreSQL (as the other PostgreSQL tests).
 *
 * @module
 */

import { connect } from "../src/storage/postgres/driver.ts";
import { postgresTest, startPostgres } from "../src/storage/postgres/_testing.ts";
import { combination } from "./_interop.ts";

const CASES = [
  ["run_interop.py", "interop", "hmac", "hmac"],
  ["run_interop.py", "interop", "token", "none"],
  ["run_interop_ws.py", "interop ws", "hmac", "hmac"],
  ["run_interop_ws.py", "interop ws", "none", "token"],
] as const;

postgresTest(
  "interop: lonelypsc 0.0.17 against cli.ts on PostgreSQL (HTTP and websocket)",
  async (bin, t) => {
    await using cluster = await startPostgres(bin);
    const sql = await connect({
      url: cluster.url(),
      ssl: false,
      max: 1,
      connectTimeoutS: 5,
      statementTimeoutMs: 30_000,
    });
    try {
      let n = 0;
      for (const [script, label, tb, ts] of CASES) {
        const db = `interop_${n++}`;
        await sql.unsafe(`CREATE DATABASE ${db}`);
        await t.step(`${label} ${tb}/${ts}`, async () => {
          await combination(script, label, tb, ts, [], {
            LONELYPSS_POSTGRES_URL: cluster.url("", db),
          });
        });
      }
    } finally {
      await sql.end();
    }
  },
);
