import assert from "node:assert/strict";
import { descriptorShares, openFilesLimit, parseOpenFilesLimit } from "./descriptors.ts";

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max processes             96364                96364                processes
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

Deno.test("parseOpenFilesLimit reads the soft limit of /proc/self/limits", () => {
  assert.equal(parseOpenFilesLimit(LIMITS), 1024);
  assert.equal(parseOpenFilesLimit(LIMITS.replace("1024 ", "unlimited ")), null);
  assert.equal(parseOpenFilesLimit("Max processes 1 1 processes\n"), null);
});

Deno.test("openFilesLimit gives a positive limit, or null where it cannot read one", () => {
  // Deno reads /proc/self/limits only with --allow-all; null means "assume the fallback".
  const limit = openFilesLimit();
  assert.ok(limit === null || (Number.isSafeInteger(limit) && limit > 0), String(limit));
});

Deno.test("descriptorShares leaves a reserve and clamps both caps", () => {
  assert.deepEqual(descriptorShares(1024), { incoming: 176, outgoing: 168 });
  assert.deepEqual(descriptorShares(256), { incoming: 35, outgoing: 33 });
  assert.deepEqual(descriptorShares(10), { incoming: 16, outgoing: 8 });
  assert.deepEqual(descriptorShares(1_048_576), { incoming: 16_384, outgoing: 4_096 });
  for (const limit of [256, 1024, 65_536]) {
    const { incoming, outgoing } = descriptorShares(limit);
    // Three descriptors per incoming connection, two per outgoing request, 64 kept.
    assert.ok(3 * incoming + 2 * outgoing + 64 <= limit, `${limit}`);
  }
});
