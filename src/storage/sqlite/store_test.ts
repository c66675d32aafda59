import assert from "node:assert/strict";
import { type ContractDatabase, STORE_CONTRACT } from "../_testing_contract/mod.ts";
import { bytes, ok, withTempDb } from "./_testing.ts";
import { openSqlite } from "./driver.ts";
import { EXACTS, GLOBS } from "./schema.ts";
import { openSqliteStore } from "./store.ts";

function memoryDatabase(): ContractDatabase {
  return {
    open: () => openSqliteStore({ path: ":memory:" }),
    rowIds: () => Promise.reject(new Error("An in-memory database has no rows to inspect")),
  };
}

function fileDatabase(path: string): ContractDatabase {
  return {
    open: () => openSqliteStore({ path }),
    async rowIds(kind, url) {
      const [table, key] = kind === "exact" ? [EXACTS, "exact"] : [GLOBS, "glob"];
      const db = await openSqlite(path);
      try {
        const ids = new Map<string, number>();
        const rows = db.prepare(`SELECT id, hex(${key}) AS k FROM ${table} WHERE url = ?`).all(url);
        for (const r of rows) ids.set(String(r["k"]), Number(r["id"]));
        return ids;
      } finally {
        db.close();
      }
    },
  };
}

// The shared contract: each case in memory (unless it needs a file) and on a file.
for (const c of STORE_CONTRACT) {
  Deno.test(c.name, async () => {
    if (!c.persistent) await c.fn(memoryDatabase());
    await withTempDb((path) => c.fn(fileDatabase(path)));
  });
}

Deno.test("an empty path opens a private in-memory store", async () => {
  const store = await openSqliteStore({ path: "" });
  try {
    assert.equal(
      await store.subscribeGlob("http://127.0.0.1:3002/v1/receive", "*", null),
      "success",
    );
    assert.equal(ok(await store.getSubscribers(bytes("q"))).length, 1);
  } finally {
    await store.close();
  }
});

Deno.test("exact subscribes sent together are committed together, each answered as if alone", async () => {
  await withTempDb(async (path) => {
    const topic = bytes("together");
    const url = (i: number) => `http://127.0.0.1:3002/v1/receive/${i}`;
    let store = await openSqliteStore({ path });
    try {
      // 40 distinct urls, then the first 10 again, all in flight at once.
      const calls = [...Array.from({ length: 40 }, (_, i) => url(i))];
      calls.push(...calls.slice(0, 10));
      const results = await Promise.all(calls.map((u) => store.subscribeExact(u, topic, null)));
      assert.deepEqual(results, [
        ...Array<string>(40).fill("success"),
        ...Array<string>(10).fill("conflict"),
      ]);
    } finally {
      await store.close();
    }
    store = await openSqliteStore({ path });
    try {
      const urls = ok(await store.getSubscribers(topic)).map((s) => s.url).sort();
      assert.deepEqual(urls, Array.from({ length: 40 }, (_, i) => url(i)).sort());
    } finally {
      await store.close();
    }
  });
});

Deno.test("an exact subscribe waiting for its commit when the store closes is answered unavailable", async () => {
  const store = await openSqliteStore({ path: ":memory:" });
  const pending = store.subscribeExact("http://127.0.0.1:3002/v1/receive", bytes("late"), null);
  await store.close();
  assert.equal(await pending, "unavailable");
});
