import assert from "node:assert/strict";
import { ExpiringCodeSet } from "./_code_set.ts";

function code(n: number): Uint8Array {
  const c = new Uint8Array(64);
  new DataView(c.buffer).setFloat64(0, n + 0.5);
  c[63] = n & 0xff;
  return c;
}

Deno.test("code set: fresh once, replay while live, fresh again once expired", () => {
  const set = new ExpiringCodeSet();
  assert.equal(set.mark(code(1), 100, 10), "fresh");
  assert.equal(set.mark(code(1), 100, 10), "replay");
  assert.equal(set.mark(code(1), 100, 100.9), "replay", "live through its expiry second");
  assert.equal(set.mark(code(1), 400, 101), "fresh");
  assert.equal(set.mark(code(1), 400, 300), "replay");
  assert.equal(set.mark(code(2), 400, 300), "fresh");
});

Deno.test("code set: holds many codes across growth, and drops expired tables", () => {
  const set = new ExpiringCodeSet();
  for (let i = 0; i < 50_000; i++) assert.equal(set.mark(code(i), 1000 + (i % 300), 0), "fresh");
  assert.equal(set.size, 50_000);
  for (let i = 0; i < 50_000; i += 997) assert.equal(set.mark(code(i), 2000, 1), "replay");
  // Everything expires by 1300: the next mark drops every table.
  assert.equal(set.mark(code(-1), 5000, 1400), "fresh");
  assert.equal(set.size, 1);
  assert.equal(set.mark(code(7), 5000, 1400), "fresh");
});

Deno.test("code set: a forgotten code is fresh again; an all-zero fingerprint works", () => {
  const set = new ExpiringCodeSet();
  const zero = new Uint8Array(64);
  assert.equal(set.mark(zero, 100, 0), "fresh");
  assert.equal(set.mark(zero, 100, 0), "replay");
  set.forget(zero);
  assert.equal(set.mark(zero, 100, 0), "fresh");
  // Expiries beyond a u32 of seconds are clamped, not wrapped.
  assert.equal(set.mark(code(3), 1e10, 1), "fresh");
  assert.equal(set.mark(code(3), 1e10, 2e9), "replay");
});
