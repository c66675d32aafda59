import assert from "node:assert/strict";
import { bytes, withTempDb } from "./_testing.ts";
import { configureConnection, openSqlite } from "./driver.ts";
import { GlobCache } from "./glob_cache.ts";
import { GLOB_GENERATION, GLOBS, META, migrate } from "./schema.ts";

Deno.test("the glob cache reloads only when another connection changed glob rows", async () => {
  await withTempDb(async (path) => {
    const mine = await openSqlite(path);
    const theirs = await openSqlite(path);
    try {
      configureConnection(mine, path, 1_000);
      configureConnection(theirs, path, 1_000);
      migrate(mine);
      const cache = new GlobCache(mine);
      cache.sync();
      assert.deepEqual(cache.match(bytes("a1")), []);

      // A glob row written while the generation is forced back: the cache must trust the
      // generation and skip the reload (which proves unrelated commits cost no reload).
      theirs.exec(`INSERT INTO ${GLOBS}(url, glob) VALUES ('http://x', 'a*')`);
      theirs.exec(`UPDATE ${META} SET value = 0 WHERE key = '${GLOB_GENERATION}'`);
      cache.sync();
      assert.deepEqual(cache.match(bytes("a1")), []);

      // A real glob change bumps the generation, so the next sync reloads everything.
      theirs.exec(`UPDATE ${GLOBS} SET missed_url = 'http://r' WHERE glob = 'a*'`);
      cache.sync();
      assert.deepEqual(cache.match(bytes("a1")), [
        { kind: "glob", url: "http://x", glob: "a*", recovery: "http://r" },
      ]);

      // Lease bookkeeping on a glob row is not a glob change.
      const before = Number(mine.prepare(`SELECT value FROM ${META}`).get()?.["value"]);
      theirs.exec(`UPDATE ${GLOBS} SET missed_lock_id = 7, missed_attempts = 1`);
      assert.equal(Number(mine.prepare(`SELECT value FROM ${META}`).get()?.["value"]), before);
    } finally {
      theirs.close();
      mine.close();
    }
  });
});
