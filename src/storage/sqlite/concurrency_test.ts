import assert from "node:assert/strict";
import type { SubscriptionSet } from "../types.ts";
import { bytes, ok, withTempDb } from "./_testing.ts";
import { openSqlite } from "./driver.ts";
import { openSqliteStore } from "./store.ts";

const URL_A = "http://127.0.0.1:3002/v1/receive";

Deno.test("a write lock held by another connection gives unavailable, then the store recovers", async () => {
  await withTempDb(async (path) => {
    const store = await openSqliteStore({ path, busyTimeoutMs: 20 });
    const other = await openSqlite(path);
    try {
      await store.subscribeGlob(URL_A, "keep*", null);
      other.exec("BEGIN IMMEDIATE");
      assert.equal(await store.subscribeExact(URL_A, bytes("t"), null), "unavailable");
      assert.equal(await store.subscribeGlob(URL_A, "t*", null), "unavailable");
      assert.equal(await store.unsubscribeGlob(URL_A, "keep*"), "unavailable");
      assert.equal(await store.setSubscriptions(URL_A, { exacts: [], globs: [] }), "unavailable");
      assert.equal(
        await store.upsertMissed(
          { kind: "glob", url: URL_A, glob: "keep*" },
          "http://r",
          bytes("k"),
          {
            attempts: 0,
            nextRetryAt: 1,
          },
        ),
        "unavailable",
      );
      assert.equal(await store.leaseOverdueMissed(10, 10, 1_000), "unavailable");
      // WAL: readers are not blocked by the writer.
      assert.equal(ok(await store.getSubscribers(bytes("keep1"))).length, 1);
      other.exec("ROLLBACK");
      assert.equal(await store.subscribeExact(URL_A, bytes("t"), null), "success");
      assert.equal(await store.subscribeGlob(URL_A, "t*", null), "success");
      assert.equal(ok(await store.getSubscribers(bytes("t"))).length, 2);
      assert.equal(ok(await store.getSubscribers(bytes("keep1"))).length, 1);
    } finally {
      other.close();
      await store.close();
    }
  });
});

Deno.test("a failure inside setSubscriptions rolls everything back and leaves no transaction open", async () => {
  await withTempDb(async (path) => {
    const store = await openSqliteStore({ path });
    try {
      await store.subscribeExact(URL_A, bytes("old"), null);
      const broken = {
        exacts: [{ topic: bytes("new"), recovery: null }, {
          topic: {} as Uint8Array,
          recovery: null,
        }],
        globs: [{ glob: "g*", recovery: null }],
      } satisfies SubscriptionSet;
      await assert.rejects(store.setSubscriptions(URL_A, broken));
      assert.deepEqual(ok(await store.listSubscriptions(URL_A)), {
        exacts: [{ topic: bytes("old"), recovery: null }],
        globs: [],
      });
      assert.deepEqual(ok(await store.getSubscribers(bytes("g1"))), []);
      assert.equal(await store.subscribeGlob(URL_A, "g*", null), "success");
      assert.equal(ok(await store.getSubscribers(bytes("g1"))).length, 1);
    } finally {
      await store.close();
    }
  });
});
