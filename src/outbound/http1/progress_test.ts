import assert from "node:assert/strict";
import { sizeAllowanceMs, WriteProgress } from "./progress.ts";

Deno.test("write progress: each window must bring the minimum, or the rest of the body", () => {
  // 1000 ms windows at 1000 B/s: 1000 B per window.
  const p = new WriteProgress(1000, 1000);
  p.start(0, 2500);
  assert.equal(p.deadline, 1000);
  p.wrote(1000);
  assert.ok(p.check(1000));
  assert.equal(p.deadline, 2000);
  p.wrote(999);
  assert.ok(!p.check(2000), "one byte short of the minimum");
  p.start(0, 2500);
  p.wrote(2000);
  assert.ok(p.check(1000));
  p.wrote(499);
  assert.ok(!p.check(2000), "the last 500 B must all come in the last window");
  p.wrote(1);
  assert.ok(p.check(2000));
  p.done();
  assert.equal(p.deadline, Infinity);
});

Deno.test("write progress: off without a positive window and rate; unknown sizes need the minimum", () => {
  for (const [ms, rate] of [[0, 1000], [1000, 0], [Infinity, 1000]]) {
    const p = new WriteProgress(ms!, rate!);
    p.start(0, 10);
    assert.equal(p.deadline, Infinity);
  }
  const p = new WriteProgress(1000, 1000);
  p.start(0, -1);
  p.wrote(999);
  assert.ok(!p.check(1000));
});

Deno.test("size allowance: bytes at the minimum rate, none when the rate is off", () => {
  assert.equal(sizeAllowanceMs(64 * 1024 * 1024, 64 * 1024), 1_024_000);
  assert.equal(sizeAllowanceMs(1000, 0), 0);
  assert.equal(sizeAllowanceMs(-1, 1000), 0);
});
