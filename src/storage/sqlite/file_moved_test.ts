import assert from "node:assert/strict";
import { rename, rm } from "node:fs/promises";
import { recordingLogger } from "../../log.ts";
import { bytes, withTempDb } from "./_testing.ts";
import { openSqliteStore } from "./store.ts";

const URL_A = "http://127.0.0.1:3002/v1/receive";

Deno.test("a database file deleted under the store answers unavailable and logs why", async () => {
  await withTempDb(async (path) => {
    const log = recordingLogger();
    const store = await openSqliteStore({ path, log });
    try {
      assert.equal(await store.subscribeExact(URL_A, bytes("a"), null), "success");
      await rm(path);
      assert.equal(await store.subscribeExact(URL_A, bytes("b"), null), "unavailable");
      assert.equal(await store.getSubscribers(bytes("a")), "unavailable");
      assert.equal(await store.ping(), "unavailable");
      assert.equal(log.lines.length, 1, "rate limited: one line for the burst");
      assert.match(log.lines[0]!, /database file is gone.*"cause":"deleted"/);
    } finally {
      await store.close();
    }
  });
});

Deno.test("a database file replaced under the store answers unavailable", async () => {
  await withTempDb(async (path) => {
    const other = await openSqliteStore({ path: path + ".new" });
    await other.close();
    const store = await openSqliteStore({ path });
    try {
      assert.equal(await store.ping(), "ok");
      await rename(path + ".new", path);
      assert.equal(await store.subscribeExact(URL_A, bytes("b"), null), "unavailable");
    } finally {
      await store.close();
    }
  });
});
