import assert from "node:assert/strict";
import { bytes, type ContractDatabase, ok, STORE_CONTRACT } from "../_testing_contract/mod.ts";
import type { Store } from "../types.ts";
import { EXACTS, GLOBS, PRUNES, SCHEMA_VERSION } from "../sqlite/schema.ts";
import { breakingProxy } from "./_testing_proxy.ts";
import {
  type Cluster,
  FAST_RAFT,
  freePorts,
  RqliteNode,
  rqliteTest,
  startCluster,
  waitFor,
} from "./_testing.ts";
import { openRqliteStore, type RqliteStoreOptions, RqliteUnavailableError } from "./store.ts";

const URL_A = "http://127.0.0.1:3002/v1/receive";

function database(cluster: Cluster, opts: Partial<RqliteStoreOptions> = {}): ContractDatabase {
  return {
    open: () => openRqliteStore({ urls: [cluster.nodes[0]!.url], ...opts }),
    async rowIds(kind, url) {
      const [table, key] = kind === "exact" ? [EXACTS, "exact"] : [GLOBS, "glob"];
      const [r] = await cluster.query([[
        `SELECT id, hex(${key}) FROM ${table} WHERE url = ?`,
        url,
      ]]);
      return new Map((r!.values ?? []).map(([id, k]) => [String(k), Number(id)]));
    },
  };
}

async function wipe(cluster: Cluster): Promise<void> {
  await cluster.execute([`DELETE FROM ${EXACTS}`, `DELETE FROM ${GLOBS}`, `DELETE FROM ${PRUNES}`]);
}

rqliteTest("the Store contract holds on rqlite (1 node)", async (bin, t) => {
  await using cluster = await startCluster(bin, 1, { args: FAST_RAFT });
  // Creates the schema once, so every case can start by wiping the tables.
  await (await openRqliteStore({ urls: [cluster.nodes[0]!.url] })).close();
  for (const c of STORE_CONTRACT) {
    await t.step(c.name, async () => {
      await wipe(cluster);
      await c.fn(database(cluster));
    });
  }
});

rqliteTest("rqlite store: behaviour beyond the contract (1 node)", async (bin, t) => {
  await using cluster = await startCluster(bin, 1, { args: FAST_RAFT });
  const node = cluster.nodes[0]!;

  await t.step("text that looks like a blob literal stays text", async () => {
    const store = await openRqliteStore({ urls: [node.url] });
    try {
      const glob = "x'00'";
      const url = "x'4142'";
      assert.equal(await store.subscribeGlob(url, glob, "X'00' "), "success");
      assert.equal(await store.subscribeGlob(url, glob, null), "conflict");
      assert.deepEqual(ok(await store.listSubscriptions(url)), {
        exacts: [],
        globs: [{ glob, recovery: "X'00' " }],
      });
      assert.deepEqual(ok(await store.getSubscribers(bytes("x'00'"))), [
        { kind: "glob", url, glob, recovery: "X'00' " },
      ]);
      const [r] = await cluster.query([`SELECT typeof(glob), typeof(url) FROM ${GLOBS}`]);
      assert.deepEqual(r!.values, [["text", "text"]]);
      assert.equal(await store.unsubscribeGlob(url, glob), "success");
    } finally {
      await store.close();
    }
  });

  await t.step("the schema is at our version and a newer one is refused", async () => {
    const [r] = await cluster.query(["PRAGMA user_version"]);
    assert.deepEqual(r!.values, [[SCHEMA_VERSION]]);
    await cluster.execute([`PRAGMA user_version = ${SCHEMA_VERSION + 1}`]);
    try {
      await assert.rejects(
        openRqliteStore({ urls: [node.url] }),
        new RegExp(`version ${SCHEMA_VERSION + 1} is newer than ${SCHEMA_VERSION}`),
      );
    } finally {
      await cluster.execute([`PRAGMA user_version = ${SCHEMA_VERSION}`]);
    }
  });

  await t.step("a write answered on a broken connection is resolved by reading", async () => {
    await wipe(cluster);
    await using proxy = breakingProxy(node.url);
    const store = await openRqliteStore({ urls: [proxy.url] });
    try {
      proxy.breakNextResponse();
      assert.equal(await store.subscribeExact(URL_A, bytes("t"), null), "success");
      proxy.breakNextResponse();
      assert.equal(await store.subscribeGlob(URL_A, "t*", null), "success");
      assert.equal(proxy.broken, 2);
      // Applied exactly once each, and the glob index is current.
      assert.equal(await store.subscribeExact(URL_A, bytes("t"), null), "conflict");
      assert.equal(ok(await store.getSubscribers(bytes("t"))).length, 2);

      proxy.breakNextResponse();
      assert.equal(await store.unsubscribeGlob(URL_A, "t*"), "success");
      proxy.breakNextResponse();
      assert.equal(await store.unsubscribeExact(URL_A, bytes("t")), "success");
      assert.equal(proxy.broken, 4);
      assert.deepEqual(ok(await store.getSubscribers(bytes("t"))), []);

      // A release whose answer is lost is still "ok", not "conflict".
      const rec = "http://127.0.0.1:3002/v1/missed";
      await store.subscribeExact(URL_A, bytes("m"), rec);
      const key = { kind: "exact", url: URL_A, topic: bytes("m") } as const;
      await store.upsertMissed(key, rec, bytes("m"), { attempts: 0, nextRetryAt: 1 });
      const [leased] = ok(await store.leaseOverdueMissed(10, 10, 60_000));
      proxy.breakNextResponse();
      assert.equal(await store.releaseMissed(leased!, { attempts: 1, nextRetryAt: 20 }), "ok");
      assert.equal(proxy.broken, 5);
      const [again] = ok(await store.leaseOverdueMissed(20, 10, 60_000));
      assert.equal(again!.attempts, 1);
      proxy.breakNextResponse();
      assert.equal(await store.releaseMissed(again!, null), "ok");
      assert.deepEqual(ok(await store.leaseOverdueMissed(1e12, 10, 60_000)), []);
    } finally {
      await store.close();
    }
  });

  await t.step(
    "a notify costs one query however many subscribers; concurrent ones share",
    async () => {
      await wipe(cluster);
      await using proxy = breakingProxy(node.url);
      const store = await openRqliteStore({ urls: [proxy.url] });
      try {
        for (let i = 0; i < 10; i++) {
          await store.subscribeExact(`http://127.0.0.1:1/${i}`, bytes("many"), null);
          await store.subscribeGlob(`http://127.0.0.1:2/${i}`, "ma*", null);
        }
        assert.equal(ok(await store.getSubscribers(bytes("many"))).length, 20); // loads the globs
        let before = proxy.requests;
        assert.equal(ok(await store.getSubscribers(bytes("many"))).length, 20);
        assert.equal(proxy.requests - before, 1);
        before = proxy.requests;
        const all = await Promise.all(
          Array.from({ length: 40 }, (_, i) => store.getSubscribers(bytes(i % 2 ? "many" : "max"))),
        );
        assert.deepEqual(all.map((r) => ok(r).length), all.map((_, i) => (i % 2 ? 20 : 10)));
        const used = proxy.requests - before;
        assert.ok(used >= 1 && used < 40, `${used} requests for 40 notifies`);
      } finally {
        await store.close();
      }
    },
  );

  await t.step("a dead first url is passed over; the live one answers", async () => {
    const [dead] = freePorts(1);
    const store = await openRqliteStore({ urls: [`http://127.0.0.1:${dead}`, node.url] });
    try {
      assert.equal(await store.subscribeExact(URL_A, bytes("two"), null), "success");
      assert.equal(ok(await store.getSubscribers(bytes("two"))).length, 1);
    } finally {
      await store.close();
    }
  });

  await t.step(
    "a stopped node: unavailable within the timeout, then success without a restart",
    async () => {
      const store = await openRqliteStore({ urls: [node.url], timeoutMs: 600 });
      try {
        await node.stop("SIGKILL");
        const ops: [string, () => Promise<unknown>][] = [
          ["subscribeExact", () => store.subscribeExact(URL_A, bytes("d"), null)],
          ["subscribeGlob", () => store.subscribeGlob(URL_A, "d*", null)],
          ["unsubscribeExact", () => store.unsubscribeExact(URL_A, bytes("d"))],
          ["getSubscribers", () => store.getSubscribers(bytes("d"))],
          ["listSubscriptions", () => store.listSubscriptions(URL_A)],
          ["setSubscriptions", () => store.setSubscriptions(URL_A, { exacts: [], globs: [] })],
          ["leaseOverdueMissed", () => store.leaseOverdueMissed(1, 1, 1000)],
        ];
        for (const [name, op] of ops) {
          const started = Date.now();
          assert.equal(await op(), "unavailable", name);
          const took = Date.now() - started;
          assert.ok(took < 1100, `${name} took ${took} ms`);
        }
        node.start();
        await waitFor("the node back", 20_000, () => node.ready());
        await waitFor(
          "a subscribe through the same store",
          5_000,
          async () => await store.subscribeExact(URL_A, bytes("d"), null) === "success",
        );
        assert.equal(ok(await store.getSubscribers(bytes("d"))).length, 1);
      } finally {
        await store.close();
      }
    },
  );

  await t.step("a closed store answers unavailable at once", async () => {
    const store = await openRqliteStore({ urls: [node.url] });
    await store.close();
    assert.equal(await store.subscribeExact(URL_A, bytes("c"), null), "unavailable");
    assert.equal(await store.getSubscribers(bytes("c")), "unavailable");
  });
});

rqliteTest("rqlite store: open says what is wrong with the cluster", async (bin, t) => {
  await t.step("nothing listening: unreachable, at once", async () => {
    const [a, b] = freePorts(2);
    const started = Date.now();
    const e = await openRqliteStore({
      urls: [`http://127.0.0.1:${a}`, `http://127.0.0.1:${b}`],
    }).catch((e) => e);
    assert.ok(e instanceof RqliteUnavailableError, String(e));
    assert.equal(e.reason, "unreachable");
    assert.match(e.message, /^Cannot reach rqlite at http:\/\/127\.0\.0\.1:\d+, http/);
    assert.ok(Date.now() - started < 3000);
  });

  await t.step("credentials missing or wrong: refused", async () => {
    const dir = await Deno.makeTempDir({ prefix: "lonelypss-rqlite-auth-" });
    try {
      const file = `${dir}/auth.json`;
      await Deno.writeTextFile(
        file,
        JSON.stringify([{ username: "bob", password: "s3cret", perms: ["all"] }]),
      );
      await using cluster = await startCluster(bin, 1, {
        args: [...FAST_RAFT, "-auth", file],
        auth: { user: "bob", password: "s3cret" },
      });
      const url = cluster.nodes[0]!.url;
      const none = await openRqliteStore({ urls: [url] }).catch((e) => e);
      assert.ok(none instanceof RqliteUnavailableError && none.reason === "auth", String(none));
      assert.match(none.message, /requires credentials \(HTTP 401/);
      const wrong = await openRqliteStore({ urls: [url], user: "bob", password: "nope" })
        .catch((e) => e);
      assert.ok(wrong instanceof RqliteUnavailableError && wrong.reason === "auth");
      assert.match(wrong.message, /refused the credentials \(HTTP 401/);
      const store: Store = await openRqliteStore({ urls: [url], user: "bob", password: "s3cret" });
      try {
        assert.equal(await store.subscribeExact(URL_A, bytes("a"), null), "success");
      } finally {
        await store.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  await t.step("no leader: waits the given time, then says so", async () => {
    const dir = await Deno.makeTempDir({ prefix: "lonelypss-rqlite-lonely-" });
    const [http, raft, peer] = freePorts(3);
    // Expects a second node that never comes: it never elects a leader.
    const node = new RqliteNode(bin, "lonely", http!, raft!, [
      "-bootstrap-expect",
      "2",
      "-join",
      `127.0.0.1:${raft},127.0.0.1:${peer}`,
      "-join-interval",
      "200ms",
      "-join-attempts",
      "1000",
      `${dir}/data`,
    ]);
    node.start();
    try {
      await waitFor("the node's HTTP API", 20_000, async () => {
        try {
          const res = await fetch(`${node.url}/status`);
          await res.body?.cancel();
          return res.status === 200;
        } catch {
          return false;
        }
      });
      const started = Date.now();
      const e = await openRqliteStore({ urls: [node.url], leaderWaitMs: 1000 }).catch((e) => e);
      const took = Date.now() - started;
      assert.ok(e instanceof RqliteUnavailableError && e.reason === "no_leader", String(e));
      assert.match(e.message, /has no leader after 1 s/);
      assert.ok(took >= 700 && took < 5000, `took ${took} ms`);
    } finally {
      await node.stop("SIGKILL");
      await Deno.remove(dir, { recursive: true });
    }
  });
});
