import assert from "node:assert/strict";
import type { ExactEntry, GlobEntry, SubscriptionSet } from "../types.ts";
import { bytes, ok, withEachStore, withTempDb } from "./_testing.ts";
import { openSqlite } from "./driver.ts";
import { openSqliteStore } from "./store.ts";

const URL_A = "http://127.0.0.1:3002/v1/receive";
const URL_B = "http://127.0.0.1:3004/v1/receive";

function topicKey(i: number): Uint8Array {
  // 4-byte big-endian keys sort bytewise in numeric order and include non-UTF-8 bytes.
  return new Uint8Array([i >>> 24, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff]);
}

function exactRange(
  from: number,
  to: number,
  recovery: (i: number) => string | null,
): ExactEntry[] {
  const out: ExactEntry[] = [];
  for (let i = from; i < to; i++) out.push({ topic: topicKey(i), recovery: recovery(i) });
  return out;
}

function globRange(from: number, to: number, recovery: string | null): GlobEntry[] {
  const out: GlobEntry[] = [];
  for (let i = from; i < to; i++) out.push({ glob: `g/${String(i).padStart(5, "0")}/*`, recovery });
  return out;
}

async function rowIds(path: string, table: string, key: string): Promise<Map<string, number>> {
  const db = await openSqlite(path);
  try {
    const ids = new Map<string, number>();
    for (
      const r of db.prepare(`SELECT id, hex(${key}) AS k FROM ${table} WHERE url = ?`).all(URL_A)
    ) {
      ids.set(String(r["k"]), Number(r["id"]));
    }
    return ids;
  } finally {
    db.close();
  }
}

Deno.test("setSubscriptions with 10,000 topics then an overlapping set keeps shared rows", async () => {
  await withTempDb(async (path) => {
    const store = await openSqliteStore({ path });
    try {
      await store.subscribeExact(URL_B, topicKey(5), "http://other"); // another url: untouched
      const first: SubscriptionSet = {
        exacts: exactRange(0, 10_000, () => null),
        globs: globRange(0, 500, null),
      };
      assert.equal(await store.setSubscriptions(URL_A, first), "success");
      assert.deepEqual(ok(await store.listSubscriptions(URL_A)), first);
      const exactIds = await rowIds(path, "httppubsub_subscription_exacts", "exact");
      const globIds = await rowIds(path, "httppubsub_subscription_globs", "glob");

      const second: SubscriptionSet = {
        exacts: exactRange(5_000, 15_000, (i) => i % 2 === 0 ? `http://rec/${i}` : null),
        globs: globRange(250, 750, "http://rec/g"),
      };
      assert.equal(await store.setSubscriptions(URL_A, second), "success");
      assert.deepEqual(ok(await store.listSubscriptions(URL_A)), second);
      assert.equal(ok(await store.listSubscriptions(URL_B)).exacts.length, 1);

      const exactIds2 = await rowIds(path, "httppubsub_subscription_exacts", "exact");
      const globIds2 = await rowIds(path, "httppubsub_subscription_globs", "glob");
      let kept = 0;
      for (const [k, id] of exactIds2) {
        if (exactIds.has(k)) {
          assert.equal(id, exactIds.get(k), `exact row ${k} was re-inserted`);
          kept++;
        }
      }
      assert.equal(kept, 5_000);
      kept = 0;
      for (const [k, id] of globIds2) {
        if (globIds.has(k)) {
          assert.equal(id, globIds.get(k), `glob row ${k} was re-inserted`);
          kept++;
        }
      }
      assert.equal(kept, 250);
      // The in-memory glob index followed: removed, kept (new recovery) and added patterns.
      assert.deepEqual(ok(await store.getSubscribers(bytes("g/00100/x"))), []);
      assert.deepEqual(ok(await store.getSubscribers(bytes("g/00300/x"))), [
        { kind: "glob", url: URL_A, glob: "g/00300/*", recovery: "http://rec/g" },
      ]);
      assert.equal(ok(await store.getSubscribers(bytes("g/00700/x"))).length, 1);
    } finally {
      await store.close();
    }
  });
});

Deno.test("setSubscriptions keeps the missed state of kept rows and updates recovery", async () => {
  await withEachStore(async (store) => {
    await store.subscribeExact(URL_A, bytes("keep"), "http://old");
    await store.subscribeExact(URL_A, bytes("drop"), null);
    await store.upsertMissed(
      { kind: "exact", url: URL_A, topic: bytes("keep") },
      "http://old",
      bytes("keep"),
      {
        attempts: 2,
        nextRetryAt: 1_000,
      },
    );
    const desired: SubscriptionSet = {
      exacts: [{ topic: bytes("keep"), recovery: "http://new" }, {
        topic: bytes("new"),
        recovery: null,
      }],
      globs: [],
    };
    assert.equal(await store.setSubscriptions(URL_A, desired), "success");
    assert.deepEqual(ok(await store.listSubscriptions(URL_A)), desired);
    const leased = ok(await store.leaseOverdueMissed(2_000, 10, 30_000));
    assert.equal(leased.length, 1);
    assert.equal(leased[0]!.recovery, "http://new");
    assert.equal(leased[0]!.attempts, 2);
  });
});

Deno.test("setSubscriptions removing a recovery url drops that row's pending MISSED", async () => {
  await withEachStore(async (store) => {
    await store.subscribeGlob(URL_A, "a*", "http://old");
    await store.upsertMissed({ kind: "glob", url: URL_A, glob: "a*" }, "http://old", bytes("ab"), {
      attempts: 0,
      nextRetryAt: 1_000,
    });
    const desired: SubscriptionSet = { exacts: [], globs: [{ glob: "a*", recovery: null }] };
    assert.equal(await store.setSubscriptions(URL_A, desired), "success");
    assert.deepEqual(ok(await store.leaseOverdueMissed(2_000, 10, 30_000)), []);
    assert.deepEqual(ok(await store.getSubscribers(bytes("ab"))), [
      { kind: "glob", url: URL_A, glob: "a*", recovery: null },
    ]);
  });
});

Deno.test("setSubscriptions to the empty set removes everything of that url", async () => {
  await withEachStore(async (store) => {
    await store.subscribeExact(URL_A, bytes("x"), null);
    await store.subscribeGlob(URL_A, "x*", null);
    assert.equal(await store.setSubscriptions(URL_A, { exacts: [], globs: [] }), "success");
    assert.deepEqual(ok(await store.listSubscriptions(URL_A)), { exacts: [], globs: [] });
    assert.deepEqual(ok(await store.getSubscribers(bytes("x"))), []);
  });
});
