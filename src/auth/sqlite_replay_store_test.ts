import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqlite } from "../storage/sqlite/driver.ts";
import { sqliteReplayStore } from "./sqlite_replay_store.ts";

function code(n: number): Uint8Array {
  return new Uint8Array(64).fill(n);
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "lps-replay-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

Deno.test("sqlite store: a replay after a restart is still caught", () =>
  withDir(async (dir) => {
    const path = join(dir, "recent-hmacs.db");
    const now = Date.now() / 1000;
    const first = await sqliteReplayStore({ path });
    assert.equal(await first.markUsed(code(1), now + 300, now), "fresh");
    assert.equal(await first.markUsed(code(1), now + 300, now), "replay");
    await first.close();
    await first.close(); // idempotent
    const second = await sqliteReplayStore({ path });
    assert.equal(await second.markUsed(code(1), now + 300, now + 1), "replay");
    assert.equal(await second.markUsed(code(2), now + 300, now + 1), "fresh");
    await second.close();
  }));

Deno.test("sqlite store: uses the reference's table, and the clean-up drops expired rows", () =>
  withDir(async (dir) => {
    const path = join(dir, "recent-hmacs.db");
    const early = await sqliteReplayStore({ path, clock: () => 0 });
    assert.equal(await early.markUsed(code(1), 100, 10), "fresh");
    assert.equal(await early.markUsed(code(2), 500, 10), "fresh");
    // Expired but not yet cleaned: counts as fresh, not as a replay.
    assert.equal(await early.markUsed(code(1), 400, 200), "fresh");
    assert.equal(await early.markUsed(code(1), 400, 300), "replay");
    await early.close();
    const later = await sqliteReplayStore({ path, clock: () => 450 }); // sweeps on open
    await later.close();
    const db = await openSqlite(path);
    try {
      const rows = db.prepare("SELECT code, expires_at FROM httppubsub_hmacs").all();
      assert.deepEqual(rows.map((r) => [(r.code as Uint8Array)[0], Number(r.expires_at)]), [
        [2, 500],
      ]);
      const sql = db.prepare("SELECT sql FROM sqlite_master WHERE name = 'httppubsub_hmacs'")
        .get()!.sql as string;
      assert.match(sql, /WITHOUT ROWID/);
    } finally {
      db.close();
    }
  }));

Deno.test("sqlite store: a locked database answers unavailable, then recovers", () =>
  withDir(async (dir) => {
    const path = join(dir, "recent-hmacs.db");
    const store = await sqliteReplayStore({ path, busyTimeoutMs: 0 });
    const other = await openSqlite(path);
    try {
      other.exec("BEGIN IMMEDIATE");
      assert.equal(await store.markUsed(code(1), 1e10, 1), "unavailable");
      other.exec("ROLLBACK");
      assert.equal(await store.markUsed(code(1), 1e10, 1), "fresh");
    } finally {
      other.close();
      await store.close();
    }
    assert.equal(await store.markUsed(code(3), 1e10, 1), "unavailable"); // closed
  }));

Deno.test("sqlite store works in memory", async () => {
  const store = await sqliteReplayStore({ path: ":memory:" });
  assert.equal(await store.markUsed(code(1), 1e10, 1), "fresh");
  assert.equal(await store.markUsed(code(1), 1e10, 1), "replay");
  await store.close();
});

/** Resolves after `ms` (a timer the test awaits, not synchronisation). */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("sqlite store: waiting for a locked database never blocks the event loop", () =>
  withDir(async (dir) => {
    const path = join(dir, "recent-hmacs.db");
    // A busy wait that blocked the loop would block it for the whole busy
    // timeout; the bound is half of it, so a loaded machine's scheduling
    // hiccups (tens of ms) cannot fail the test but a blocking wait always does.
    const busyTimeoutMs = 600;
    const store = await sqliteReplayStore({ path, busyTimeoutMs });
    const other = await openSqlite(path);
    try {
      other.exec("BEGIN EXCLUSIVE");
      // A 5 ms ticker: the longest gap between ticks is how long the loop was blocked.
      let last = performance.now();
      let longest = 0;
      let ticking = true;
      const ticks = (async () => {
        while (ticking) {
          await pause(5);
          const now = performance.now();
          longest = Math.max(longest, now - last);
          last = now;
        }
      })();
      const start = performance.now();
      const result = await store.markUsed(code(1), 1e10, 1);
      const took = performance.now() - start;
      ticking = false;
      await ticks;
      assert.equal(result, "unavailable");
      assert.ok(took >= busyTimeoutMs - 10 && took < 3 * busyTimeoutMs, `gave up after ${took} ms`);
      assert.ok(longest < busyTimeoutMs / 2, `the event loop was blocked for ${longest} ms`);
      // Released while a mark waits: the mark succeeds.
      const waiting = store.markUsed(code(2), 1e10, 1);
      other.exec("COMMIT");
      assert.equal(await waiting, "fresh");
    } finally {
      other.close();
      await store.close();
    }
  }));

Deno.test("sqlite store: a replay database deleted under it answers unavailable", () =>
  withDir(async (dir) => {
    const path = join(dir, "recent-hmacs.db");
    const store = await sqliteReplayStore({ path });
    try {
      assert.equal(await store.markUsed(code(1), 1e10, 1), "fresh");
      await rm(path);
      // Acknowledging into the unlinked file would forget the code at the next restart.
      assert.equal(await store.markUsed(code(2), 1e10, 1), "unavailable");
    } finally {
      await store.close();
    }
  }));

Deno.test("sqlite store: codes marked together share a commit; a duplicate among them is a replay", () =>
  withDir(async (dir) => {
    const path = join(dir, "recent-hmacs.db");
    const store = await sqliteReplayStore({ path, commitDelayMs: 5 });
    const now = Date.now() / 1000;
    const results = await Promise.all(
      [1, 2, 3, 1, 4].map((n) => store.markUsed(code(n), now + 300, now)),
    );
    assert.deepEqual(results, ["fresh", "fresh", "fresh", "replay", "fresh"]);
    await store.close();
    const db = await openSqlite(path);
    try {
      const n = db.prepare("SELECT count(*) AS n FROM httppubsub_hmacs").get()!.n;
      assert.equal(Number(n), 4);
    } finally {
      db.close();
    }
  }));

Deno.test("sqlite store: the clean-up deletes many expired rows in steps", () =>
  withDir(async (dir) => {
    const path = join(dir, "recent-hmacs.db");
    const store = await sqliteReplayStore({ path, clock: () => 0 });
    const marks: Promise<unknown>[] = [];
    for (let i = 0; i < 1234; i++) {
      const c = new Uint8Array(64);
      new DataView(c.buffer).setUint32(0, i + 1);
      marks.push(store.markUsed(c, 100, 10));
    }
    await Promise.all(marks);
    await store.close();
    const later = await sqliteReplayStore({ path, clock: () => 200 });
    await later.close();
    const db = await openSqlite(path);
    try {
      assert.equal(Number(db.prepare("SELECT count(*) AS n FROM httppubsub_hmacs").get()!.n), 0);
    } finally {
      db.close();
    }
  }));
