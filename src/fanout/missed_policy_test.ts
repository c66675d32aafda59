import assert from "node:assert/strict";
import { DEFAULT_MISSED_RETRY } from "../core/limits.ts";
import { missedDelaySeconds } from "./missed_policy.ts";

/**
 * The reference's documented template policy (docs/protocol/storage.md#missed-retries), restated on
 * purpose.
 */
const TEMPLATE = {
  maxRetries: 20,
  expoFactor: 1,
  expoBase: 2,
  expoMax: 10,
  constantSeconds: 1,
  jitterSeconds: 2,
};

Deno.test("the default missed policy is the reference's template", () => {
  assert.deepEqual(DEFAULT_MISSED_RETRY, TEMPLATE);
});

Deno.test("missed policy follows the template's delay table", () => {
  const low = [2, 3, 5, 9, 17, 33, 65, 129, 257, 513, 1025, 1025, 1025];
  low.forEach((expected, attempts) => {
    assert.equal(missedDelaySeconds(TEMPLATE, attempts, () => 0), expected);
    assert.equal(missedDelaySeconds(TEMPLATE, attempts, () => 0.5), expected + 1);
  });
  assert.equal(missedDelaySeconds(TEMPLATE, 19, () => 0), 1025);
});

Deno.test("missed policy gives up once attempts reach maxRetries", () => {
  assert.equal(missedDelaySeconds(TEMPLATE, 20), null);
  assert.equal(missedDelaySeconds(TEMPLATE, 21), null);
  assert.equal(missedDelaySeconds({ ...TEMPLATE, maxRetries: 0 }, 0), null);
});

Deno.test("missed policy jitter stays within [0, jitter)", () => {
  for (let i = 0; i < 100; i++) {
    const d = missedDelaySeconds(TEMPLATE, 0)!;
    assert.ok(d >= 2 && d < 4, String(d));
  }
});
