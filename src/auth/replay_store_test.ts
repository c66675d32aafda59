import assert from "node:assert/strict";
import {
  memoryReplayStore,
  replayExpiry,
  type ReplayStore,
  sharedReplayStore,
} from "./replay_store.ts";

function code(n: number): Uint8Array {
  const c = new Uint8Array(64);
  new DataView(c.buffer).setUint32(0, n);
  return c;
}

Deno.test("memory store: fresh once, replay while live, fresh again after expiry", async () => {
  const s = memoryReplayStore();
  assert.equal(await s.markUsed(code(1), 100, 10), "fresh");
  assert.equal(await s.markUsed(code(1), 200, 50), "replay");
  assert.equal(await s.markUsed(code(1), 200, 100), "replay"); // expiry is inclusive
  assert.equal(await s.markUsed(code(2), 100, 50), "fresh");
  assert.equal(await s.markUsed(code(1), 300, 100.5), "fresh");
  assert.equal(await s.markUsed(code(1), 300, 250), "replay");
  await s.close();
});

Deno.test("memory store: when full of live codes it answers unavailable, never forgets one", async () => {
  const s = memoryReplayStore({ maxEntries: 3 });
  for (let i = 0; i < 3; i++) assert.equal(await s.markUsed(code(i), 1000, 0), "fresh");
  assert.equal(await s.markUsed(code(9), 1000, 1), "unavailable");
  // Every held code is still remembered.
  for (let i = 0; i < 3; i++) assert.equal(await s.markUsed(code(i), 1000, 1), "replay");
  await s.close();
  const t = memoryReplayStore({ maxEntries: 2 });
  assert.equal(await t.markUsed(code(1), 1000, 0), "fresh");
  assert.equal(await t.markUsed(code(2), 10, 0), "fresh"); // expires first though inserted later
  assert.equal(await t.markUsed(code(3), 1000, 11), "fresh"); // code 2 evicted as expired
  assert.equal(await t.markUsed(code(1), 1000, 11), "replay");
  assert.equal(await t.markUsed(code(4), 1000, 11), "unavailable");
  await t.close();
});

Deno.test("memory store rejects a non-positive bound", () => {
  assert.throws(() => memoryReplayStore({ maxEntries: 0 }), /Invalid maxEntries: 0/);
});

Deno.test("replayExpiry covers the acceptance window and twice the lifetime from first use", () => {
  // Signer 120 s ahead: first use at ts − 120 must still be remembered at ts + 120.
  assert.ok(replayExpiry(1000, 880, 120) > 1000 + 120);
  // Signer 120 s behind: first use at ts + 120.
  assert.ok(replayExpiry(1000, 1120, 120) >= 1120 + 240);
  assert.equal(replayExpiry(1000, 1000.25, 120), 1242);
});

Deno.test("shared store: closes the underlying store only after every handle closed", async () => {
  let closed = 0;
  const inner = memoryReplayStore();
  const counted: ReplayStore = {
    markUsed: (c, e, n) => inner.markUsed(c, e, n),
    close: () => (closed++, inner.close()),
  };
  const shared = sharedReplayStore(counted);
  const a = shared.acquire();
  const b = shared.acquire();
  assert.equal(await a.markUsed(code(1), 100, 0), "fresh");
  assert.equal(await b.markUsed(code(1), 100, 0), "replay"); // one store for both directions
  await a.close();
  await a.close(); // idempotent: does not release b's share
  assert.equal(closed, 0);
  assert.equal(await b.markUsed(code(2), 100, 0), "fresh");
  await b.close();
  assert.equal(closed, 1);
  assert.throws(() => shared.acquire(), /Replay store already closed/);
});
