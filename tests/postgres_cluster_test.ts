/**
 * Several broadcasters sharing one real PostgreSQL server: each broadcaster
 * is a real `cli.ts serve` process. Subscriptions confirmed through one are
 * seen by the next notify through the other (exact and glob, also a glob
 * row written with plain SQL); check_subscriptions agrees on both; the
 * sweepers of both deliver each MISSED once; a websocket subscriber on one
 * gets what the other is notified; two broadcasters starting at the same
 * instant on an empty database migrate once; and restarting the server
 * under load never yields anything but 200, 409 or 503, nor loses a
 * confirmed subscription.
 *
 * @module
 */

import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { connect, type Sql } from "../src/storage/postgres/driver.ts";
import { names, SCHEMA_VERSION } from "../src/storage/postgres/schema.ts";
import {
  type PgCluster,
  postgresTest,
  startPostgres,
  TEST_PASSWORD,
  waitFor,
} from "../src/storage/postgres/_testing.ts";
import { cliCommand, type Served, startServe, tempDir } from "./_cli.ts";
import { checkEtag, IMMEDIATE_RETRY } from "./_harness.ts";
import { notify, sharedStoreSteps, subscribeExact } from "./_several.ts";
import { withSubscriber } from "./_subscriber.ts";
import { WsClient } from "./_ws_client.ts";

const UTF8 = new TextEncoder();
const N = names(null, "");

/** Starts `cli.ts serve` on the cluster (url in LONELYPSS_POSTGRES_URL, options in the file). */
async function serveOn(dir: string, name: string, cluster: PgCluster, timeoutMs: number) {
  const config = join(dir, `${name}.json`);
  await writeFile(
    config,
    JSON.stringify({
      host: "127.0.0.1",
      port: 0,
      postgres: { timeoutMs },
      logLevel: "warn",
      limits: {
        sweepIntervalMs: 50,
        missedRetry: IMMEDIATE_RETRY,
        connectTimeoutMs: 1000,
        totalTimeoutMs: 2000,
        missedLeaseMs: 10_000,
      },
    }),
  );
  const [exe, pre] = await cliCommand("deno");
  return await startServe(exe, [...pre, "serve", "--config", config], {
    env: { LONELYPSS_POSTGRES_URL: cluster.url() },
  });
}

function inspect(cluster: PgCluster): Promise<Sql> {
  return connect({
    url: cluster.url(),
    ssl: false,
    max: 1,
    connectTimeoutS: 5,
    statementTimeoutMs: 10_000,
  });
}

async function stopBoth(a: Served, b: Served): Promise<void> {
  const [ra, rb] = await Promise.all([a.stop("SIGTERM"), b.stop("SIGTERM")]);
  assert.equal(ra.code, 0, ra.stderr);
  assert.equal(rb.code, 0, rb.stderr);
  // Warnings (the restart test has some) never carry the password.
  assert.ok(!(ra.stderr + rb.stderr + ra.stdout + rb.stdout).includes(TEST_PASSWORD));
}

postgresTest(
  "two broadcasters on one PostgreSQL: subscribe through one, notify through the other",
  async (bin, t) => {
    await using cluster = await startPostgres(bin);
    await using dir = await tempDir();
    // Both start at the same instant on the empty database: one migration.
    const [a, b] = await Promise.all([
      serveOn(dir.path, "a", cluster, 5000),
      serveOn(dir.path, "b", cluster, 5000),
    ]);
    await using _a = a;
    await using _b = b;
    const sql = await inspect(cluster);
    try {
      const versions = await sql.unsafe(`SELECT version FROM ${N.versions}`);
      // Each migration ran exactly once.
      const all = Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1);
      assert.deepEqual(versions.map((r) => Number(r.version)).sort((x, y) => x - y), all);
      await sharedStoreSteps(t, a, b, async () => {
        const [row] = await sql.unsafe(
          `SELECT (SELECT count(*) FROM ${N.exacts} WHERE missed_next_retry_at IS NOT NULL) + ` +
            `(SELECT count(*) FROM ${N.globs} WHERE missed_next_retry_at IS NOT NULL) AS n`,
        );
        return Number(row?.n);
      }, async (sub) => {
        await t.step(
          "a glob row inserted with plain SQL reaches both within a second",
          async () => {
            await sql.unsafe(`INSERT INTO ${N.globs} (url, glob) VALUES ($1, 'sql/*')`, [
              sub.url("/sql"),
            ]);
            const since = Date.now();
            for (const via of [a, b]) assert.equal((await notify(via.url, "sql/1")).count, 1);
            assert.ok(Date.now() - since < 1000);
            await sql.unsafe(`DELETE FROM ${N.globs} WHERE glob = 'sql/*'`);
            for (const via of [a, b]) assert.equal((await notify(via.url, "sql/1")).count, 0);
          },
        );
      });

      await t.step(
        "websockets: a subscriber on one broadcaster gets what the other is notified",
        async () => {
          await using onA = await WsClient.connect(a.url);
          await onA.configure();
          await onA.subscription("subscribe_exact", UTF8.encode("ws/pg"));
          assert.deepEqual(await notify(b.url, "ws/pg"), { status: 200, count: 1 });
          assert.deepEqual((await onA.receive()).message, UTF8.encode("message for ws/pg"));
          assert.equal((await onA.close()).code, 1000);
          await waitFor(
            "A's relay rows are gone",
            10_000,
            async () => (await notify(b.url, "ws/pg")).count === 0,
          );
        },
      );
    } finally {
      await sql.end();
    }
    await stopBoth(a, b);
  },
);

interface Outcome {
  readonly status: number;
  readonly ms: number;
  readonly startedAt: number;
}

postgresTest(
  "restarting PostgreSQL under load: 200, 409 or 503 only, then recovery, nothing lost",
  async (bin) => {
    await using cluster = await startPostgres(bin);
    await using dir = await tempDir();
    const timeoutMs = 2000;
    await using a = await serveOn(dir.path, "a", cluster, timeoutMs);
    await using b = await serveOn(dir.path, "b", cluster, timeoutMs);
    await withSubscriber(() => ({ kind: "confirm" }), async (sub) => {
      const outcomes: Outcome[] = [];
      const confirmed = new Set<string>();
      let stop = false;
      let startedAt = Infinity;
      const lateMisses: string[] = [];
      const timed = async <T extends { status: number }>(fn: () => Promise<T>): Promise<T> => {
        const at = Date.now();
        const r = await fn();
        outcomes.push({ status: r.status, ms: Date.now() - at, startedAt: at });
        return r;
      };
      const worker = async (from: Served, to: Served, tag: string) => {
        for (let i = 0; !stop; i++) {
          const topic = `${tag}/${i}`;
          const s = await timed(async () => ({
            status: await subscribeExact(from.url, sub.url("/f"), topic),
          }));
          if (s.status === 200) confirmed.add(topic);
          const n = await timed(() => notify(to.url, topic));
          // A notify right after a confirmed subscribe must reach it (no replica lags behind).
          if (s.status === 200 && n.status === 200 && n.count !== 1) {
            lateMisses.push(topic);
          }
        }
      };
      // A worker that throws (a refused connection, say) is reported with the
      // outcomes, not as an unhandled rejection while the test waits elsewhere.
      const errors: string[] = [];
      const workers = [worker(a, b, "ab1"), worker(a, b, "ab2"), worker(b, a, "ba1")].map((w) =>
        w.catch((e) => {
          errors.push(String(e));
        })
      );
      const succeeded = (since: number) =>
        outcomes.filter((o) => o.startedAt > since && o.status === 200).length;
      try {
        await waitFor("load running", 20_000, () => succeeded(0) >= 40);
        const stoppedAt = Date.now();
        await cluster.stopServer("fast");
        // Down: answers are 503s, each within the timeout.
        await waitFor(
          "503s while down",
          20_000,
          () => outcomes.filter((o) => o.startedAt > stoppedAt && o.status === 503).length >= 6,
        );
        // What does not need the database stays up and fast; readiness says it is down.
        const health = Date.now();
        const healthz = await fetch(`${a.url}/healthz`);
        await healthz.body?.cancel();
        assert.equal(healthz.status, 200);
        assert.ok(Date.now() - health < timeoutMs, "healthz does not wait for the database");
        const readyz = await fetch(`${b.url}/readyz`);
        await readyz.body?.cancel();
        assert.equal(readyz.status, 503);
        await cluster.startServer();
        startedAt = Date.now();
        await waitFor("200s again after the restart", 20_000, () => {
          const after = outcomes.filter((o) => o.startedAt > startedAt);
          return after.length >= 40 && after.slice(-30).every((o) => o.status === 200);
        });
        const recoveredAt = Date.now();
        await waitFor("load after recovery", 20_000, () => succeeded(recoveredAt) >= 30);
        stop = true;
        await Promise.all(workers);

        assert.deepEqual(errors, []);
        const bad = outcomes.filter((o) => ![200, 409, 503].includes(o.status));
        assert.deepEqual(bad, [], "only 200, 409 or 503");
        const slow = outcomes.filter((o) => o.ms > timeoutMs + 1500);
        assert.deepEqual(slow, [], `none outlasts the timeout (${timeoutMs} ms)`);
        assert.deepEqual(lateMisses, []);
        console.log(
          `restart: ${outcomes.length} requests, ` +
            `${outcomes.filter((o) => o.status === 503).length} answered 503, ` +
            `longest ${Math.max(...outcomes.map((o) => o.ms))} ms, ` +
            `200s again ${recoveredAt - startedAt} ms after the server was back`,
        );
        const sql = await inspect(cluster);
        try {
          const rows = await sql.unsafe(`SELECT exact FROM ${N.exacts} WHERE url = $1`, [
            sub.url("/f"),
          ]);
          const stored = new Set(rows.map((r) => new TextDecoder().decode(r.exact as Uint8Array)));
          assert.deepEqual([...confirmed].filter((t) => !stored.has(t)), []);
        } finally {
          await sql.end();
        }
        assert.deepEqual(
          await checkEtag(a.url, sub.url("/f")),
          await checkEtag(b.url, sub.url("/f")),
        );
      } finally {
        stop = true;
        await Promise.all(workers);
      }
    });
    await stopBoth(a, b);
  },
);
