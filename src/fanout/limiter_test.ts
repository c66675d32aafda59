import assert from "node:assert/strict";
import { forEachConcurrent } from "./limiter.ts";

Deno.test("forEachConcurrent visits every item once with at most limit in flight", async () => {
  const items = Array.from({ length: 50 }, (_, i) => i);
  const seen: number[] = [];
  let inFlight = 0;
  let peak = 0;
  await forEachConcurrent(items, 4, async (item) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await Promise.resolve();
    await Promise.resolve();
    seen.push(item);
    inFlight--;
  });
  assert.deepEqual(seen.toSorted((a, b) => a - b), items);
  assert.equal(peak, 4);
});

Deno.test("forEachConcurrent handles empty lists and limits above the length", async () => {
  await forEachConcurrent([], 8, () => Promise.reject(new Error("Never called")));
  const seen: string[] = [];
  await forEachConcurrent(["a", "b"], 100, (s) => {
    seen.push(s);
    return Promise.resolve();
  });
  assert.deepEqual(seen.sort(), ["a", "b"]);
});

Deno.test("forEachConcurrent finishes the other items when one throws", async () => {
  const seen: number[] = [];
  await assert.rejects(
    forEachConcurrent([1, 2, 3], 1, (n) => {
      seen.push(n);
      return n === 2 ? Promise.reject(new Error("Boom")) : Promise.resolve();
    }),
    /Boom/,
  );
  assert.deepEqual(seen, [1, 2, 3]);
});
