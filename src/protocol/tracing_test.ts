import assert from "node:assert/strict";
import { fromHex } from "./bytes.ts";
import { encodeSimpleTracing, parseSimpleTracing, type TraceEntry } from "./tracing.ts";
import {
  assertOnlyParseErrors,
  assertParseError,
  assertPrefixesThrow,
  ITERATIONS,
  Rand,
  vector,
} from "./_testing.ts";

function entry(size: number, i: number): TraceEntry {
  // 4 length bytes + name + extra + 8 time bytes = size.
  return { name: `e${i}`, extra: `"${"x".repeat(size - 15 - String(i).length)}"`, at: i };
}

Deno.test("tracing: encoding of one entry matches the minimal vector byte for byte", () => {
  const v = vector("response_notify_minimal_tracing");
  const parsed = parseSimpleTracing(fromHex(v.tracing_hex as string));
  assert.deepEqual(parsed, {
    truncated: false,
    entries: [{ name: "no_more_subscribers", extra: "{}", at: 1767225600.25 }],
    receivedAtNs: 1767225600_200000000n,
    sentAtNs: 1767225600_300000000n,
  });
});

Deno.test("tracing: truncation drops the entry that reaches 65 519 bytes, sets the flag", () => {
  // 3 header bytes + entries; with 20 000-byte entries the 4th reaches 80 003.
  const entries = [0, 1, 2, 3, 4].map((i) => entry(20_000, i));
  const b = encodeSimpleTracing(entries, 1n, 2n);
  const parsed = parseSimpleTracing(b);
  assert.equal(parsed.truncated, true);
  assert.deepEqual(parsed.entries, entries.slice(0, 3));
  assert.equal(b.length, 3 + 60_000 + 16);

  // Exactly at the edge: 3 + sizes = 65 518 is kept, 65 519 is dropped.
  const fits = [entry(30_000, 0), entry(35_515, 1)];
  const kept = encodeSimpleTracing(fits, 1n, 2n);
  assert.equal(kept.length, 65_518 + 16);
  assert.equal(parseSimpleTracing(kept).truncated, false);
  const over = [entry(30_000, 0), entry(35_516, 1)];
  const dropped = parseSimpleTracing(encodeSimpleTracing(over, 1n, 2n));
  assert.equal(dropped.truncated, true);
  assert.equal(dropped.entries.length, 1);
});

Deno.test("tracing: an entry too long for its own prefix is truncated away, not an error", () => {
  const parsed = parseSimpleTracing(
    encodeSimpleTracing([{ name: "n".repeat(70_000), extra: "{}", at: 0 }], 0n, 0n),
  );
  assert.deepEqual(parsed, { truncated: true, entries: [], receivedAtNs: 0n, sentAtNs: 0n });
});

Deno.test("tracing: bad flag, bad UTF-8 and trailing bytes are ParseErrors", () => {
  const good = encodeSimpleTracing([{ name: "a", extra: "{}", at: 1 }], 1n, 2n);
  const badFlag = good.slice();
  badFlag[0] = 2;
  assertParseError(() => parseSimpleTracing(badFlag), /Invalid truncated flag: 2/);
  const badName = good.slice();
  badName[5] = 0xff;
  assertParseError(() => parseSimpleTracing(badName), /UTF-8/);
  assertParseError(() => parseSimpleTracing(new Uint8Array([...good, 0])), /trailing/);
  assertParseError(() => parseSimpleTracing(new Uint8Array(0)), /truncated flag/);
});

Deno.test("tracing property: random tracings round-trip; prefixes throw", () => {
  const rand = new Rand(81);
  for (let i = 0; i < ITERATIONS; i++) {
    const entries = Array.from({ length: rand.int(5) }, () => ({
      name: rand.text(8),
      extra: rand.text(8),
      at: rand.next() * 2e9,
    }));
    const receivedAtNs = BigInt(rand.int(2 ** 31)) ** 2n;
    const sentAtNs = receivedAtNs + BigInt(rand.int(1e9));
    const b = encodeSimpleTracing(entries, receivedAtNs, sentAtNs);
    assert.deepEqual(parseSimpleTracing(b), { truncated: false, entries, receivedAtNs, sentAtNs });
    if (i < 30) assertPrefixesThrow(b, parseSimpleTracing);
  }
});

Deno.test("tracing property: random bytes only ever raise ParseError", () => {
  const sample = encodeSimpleTracing([{ name: "a", extra: "{}", at: 1 }], 1n, 2n);
  assertOnlyParseErrors(82, sample, parseSimpleTracing);
});

Deno.test("tracing limits: timestamps outside u64 are RangeErrors", () => {
  assert.throws(() => encodeSimpleTracing([], -1n, 0n), RangeError);
  assert.throws(() => encodeSimpleTracing([], 0n, 2n ** 64n), RangeError);
});

Deno.test("tracing: non-ASCII names and extras are counted and written as UTF-8", () => {
  const entries: TraceEntry[] = [
    { name: "é€😀", extra: '{"k":"\ud800x"}', at: 1.5 },
    { name: "plain", extra: "{}", at: 2 },
  ];
  const decoded = parseSimpleTracing(encodeSimpleTracing(entries, 1n, 2n));
  // A lone surrogate is written as U+FFFD, as TextEncoder does.
  assert.deepEqual(decoded.entries, [
    { name: "é€😀", extra: '{"k":"\ufffdx"}', at: 1.5 },
    { name: "plain", extra: "{}", at: 2 },
  ]);
  assert.equal(decoded.truncated, false);
});
