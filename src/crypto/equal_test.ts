import assert from "node:assert/strict";
import { timingSafeEqual as nodeTimingSafeEqual } from "node:crypto";
import { randomBytes, randomHex, timingSafeEqual } from "./equal.ts";

Deno.test("timingSafeEqual: same bytes only, as node:crypto's, and false on other lengths", () => {
  const cases: [number[], number[]][] = [
    [[], []],
    [[1, 2, 3], [1, 2, 3]],
    [[1, 2, 3], [1, 2, 4]],
    [[0, 2, 3], [1, 2, 3]],
    [[255], [127]],
  ];
  for (const [a, b] of cases) {
    const x = new Uint8Array(a);
    const y = new Uint8Array(b);
    assert.equal(timingSafeEqual(x, y), nodeTimingSafeEqual(x, y), `${a} vs ${b}`);
  }
  assert.equal(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0])), false);
  assert.equal(timingSafeEqual(new Uint8Array([1, 2, 0]), new Uint8Array([1, 2])), false);
  assert.equal(timingSafeEqual(new Uint8Array(0), new Uint8Array([0])), false);
});

Deno.test("randomBytes and randomHex: the asked length, fresh each call", () => {
  assert.equal(randomBytes(7).length, 7);
  const hex = randomHex(12);
  assert.match(hex, /^[0-9a-f]{24}$/);
  assert.notEqual(randomHex(12), hex);
  assert.notDeepEqual(randomBytes(32), randomBytes(32));
});
