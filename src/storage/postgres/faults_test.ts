import assert from "node:assert/strict";
import { recordingLogger } from "../../log.ts";
import { connect } from "./driver.ts";
import { GlobListener } from "./listener.ts";
import { names } from "./schema.ts";
import { postgresTest, startPostgres, TEST_PASSWORD, waitFor } from "./_testing.ts";
import { openPostgresStore } from "./store.ts";

const TOPIC = new TextEncoder().encode("t");
const URL_A = "http://127.0.0.1:3002/v1/receive";

postgresTest(
  "postgres store: down means unavailable within the timeout, then back by itself",
  async (bin) => {
    await using cluster = await startPostgres(bin);
    const log = recordingLogger();
    const store = await openPostgresStore({ url: cluster.url(), timeoutMs: 1000, log });
    try {
      assert.equal(await store.subscribeExact(URL_A, TOPIC, null), "success");
      await cluster.stopServer("fast");
      for (let i = 0; i < 3; i++) {
        const at = Date.now();
        assert.equal(await store.getSubscribers(TOPIC), "unavailable");
        assert.equal(await store.subscribeGlob(URL_A, "x*", null), "unavailable");
        assert.equal(await store.ping(), "unavailable");
        assert.ok(Date.now() - at < 3 * 1000 + 1500, `took ${Date.now() - at} ms`);
      }
      await cluster.startServer();
      await waitFor("the store answers again", 10_000, async () => await store.ping() === "ok");
      assert.deepEqual(await store.getSubscribers(TOPIC), [{
        kind: "exact",
        url: URL_A,
        recovery: null,
      }]);
      assert.ok(log.lines.some((l) => l.includes("PostgreSQL unavailable")));
      // The label names the server; no line carries the password.
      assert.ok(log.lines.every((l) => !l.includes(TEST_PASSWORD)), log.lines.join("\n"));
      assert.ok(log.lines.some((l) => l.includes("postgres://postgres@127.0.0.1:")));
    } finally {
      await store.close();
    }
  },
);

postgresTest(
  "postgres store: the statement timeout bounds a query stuck behind a lock",
  async (bin) => {
    await using cluster = await startPostgres(bin);
    // Our own bound is far away: only the server's statement_timeout can end the wait.
    const store = await openPostgresStore({
      url: cluster.url(),
      timeoutMs: 60_000,
      statementTimeoutMs: 300,
    });
    const sql = await connect({
      url: cluster.url(),
      ssl: false,
      max: 1,
      connectTimeoutS: 5,
      statementTimeoutMs: 60_000,
    });
    try {
      const n = names(null, "");
      const locked = Promise.withResolvers<void>();
      const release = Promise.withResolvers<void>();
      const holder = sql.begin(async (tx) => {
        await tx.unsafe(`LOCK TABLE ${n.exacts} IN ACCESS EXCLUSIVE MODE`);
        locked.resolve();
        await release.promise;
      });
      await locked.promise;
      const at = Date.now();
      assert.equal(await store.subscribeExact(URL_A, TOPIC, null), "unavailable");
      assert.ok(Date.now() - at < 10_000);
      release.resolve();
      await holder;
      assert.equal(await store.subscribeExact(URL_A, TOPIC, null), "success");
    } finally {
      await Promise.all([store.close(), sql.end()]);
    }
  },
);

postgresTest(
  "glob listener: woken by NOTIFY, and listening again after a server restart",
  async (bin) => {
    await using cluster = await startPostgres(bin);
    let wakes = 0;
    const listener = await GlobListener.start(
      { url: cluster.url(), ssl: false, connectTimeoutS: 2, statementTimeoutMs: 2000 },
      "lonelypss_globs:test",
      100,
      (why) => {
        if (why === "notify") wakes++;
      },
    );
    const sql = await connect({
      url: cluster.url(),
      ssl: false,
      max: 1,
      connectTimeoutS: 2,
      statementTimeoutMs: 2000,
    });
    const notified = async () => {
      const before = wakes;
      await sql.unsafe(`SELECT pg_notify('lonelypss_globs:test', '')`);
      return before;
    };
    try {
      assert.ok(listener.listening);
      let before = await notified();
      await waitFor("a wake-up", 5000, () => wakes > before);
      await cluster.stopServer("fast");
      await waitFor("the listening connection lost", 5000, () => !listener.listening);
      await cluster.startServer();
      await waitFor("listening again", 10_000, () => listener.listening);
      before = await notified().catch(async () => await notified());
      await waitFor("a wake-up after the restart", 5000, () => wakes > before);
    } finally {
      await Promise.all([listener.close(), sql.end()]);
    }
  },
);
