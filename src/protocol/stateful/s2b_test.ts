import assert from "node:assert/strict";
import { fromHex, toHex } from "../bytes.ts";
import { MAX_GLOB_BYTES } from "../types.ts";
import { assertParseError, ITERATIONS, Rand } from "../_testing.ts";
import { encodeS2B, parseS2B } from "./s2b.ts";
import type { S2BMessage } from "./types.ts";
import { messageVector } from "./_testing_vectors.ts";
import {
  assertRangeError,
  assertRoundTrip,
  assertVectors,
  assertVectorsHostile,
  expandedFrame,
  minimalFrame,
  randomS2B,
} from "./_testing.ts";

const EMPTY = new Uint8Array(0);

const NONCE = Uint8Array.from({ length: 32 }, (_, i) => i);

Deno.test("s2b vectors: every class parses from both forms and re-encodes byte for byte", () => {
  assert.equal(assertVectors("s2b", parseS2B, encodeS2B), 12);
});

Deno.test("s2b vectors: header prefixes and random mutations throw nothing but ParseError", () => {
  assertVectorsHostile("s2b", parseS2B, 700);
});

Deno.test("s2b: unknown types are ParseErrors", () => {
  const frame = fromHex(messageVector("S2B_SubscribeExact").minimal_hex);
  for (const type of [0, 10, 12, 0xffff]) {
    const bad = frame.slice();
    bad[2] = type >> 8;
    bad[3] = type & 0xff;
    assertParseError(() => parseS2B(bad), /Unknown subscriber message type/);
  }
});

Deno.test("s2b CONFIGURE: x-enable-* is true only for exactly 01", () => {
  for (
    const [value, expected] of [["01", true], ["00", false], ["02", false], ["", false], [
      "0101",
      false,
    ], ["0001", false]] as const
  ) {
    const frame = minimalFrame(1, [
      NONCE,
      fromHex(value),
      fromHex(value),
      fromHex("0000"),
      EMPTY,
      EMPTY,
    ]);
    const msg = parseS2B(frame);
    assert.equal(msg.type === "configure" && msg.enableZstd, expected, value);
    assert.equal(msg.type === "configure" && msg.enableTraining, expected, value);
  }
});

Deno.test("s2b CONFIGURE: x-initial-dict reads 0–2 bytes; expanded form without it means 0 (P10)", () => {
  const one = fromHex("01");
  const withDict = (dict: string) =>
    minimalFrame(1, [NONCE, one, one, fromHex(dict), EMPTY, EMPTY]);
  const dictOf = (frame: Uint8Array) => {
    const msg = parseS2B(frame);
    assert.equal(msg.type, "configure");
    return msg.type === "configure" ? msg.initialDict : -1;
  };
  assert.equal(dictOf(withDict("")), 0);
  assert.equal(dictOf(withDict("07")), 7);
  assert.equal(dictOf(withDict("ffff")), 0xffff);
  assertParseError(() => parseS2B(withDict("000001")), /x-initial-dict/);
  const expanded: [string, Uint8Array][] = [
    ["X-Subscriber-Nonce", NONCE],
    ["x-enable-zstd", one],
    ["x-enable-training", one],
    ["authorization", EMPTY],
    ["x-tracing", EMPTY],
  ];
  assert.equal(dictOf(expandedFrame(1, expanded)), 0);
  assert.equal(dictOf(expandedFrame(1, [...expanded, ["x-initial-dict", fromHex("30")]])), 0x30);
});

Deno.test("s2b CONFIGURE: a nonce of other than 32 bytes is a ParseError", () => {
  for (const n of [0, 31, 33]) {
    const frame = minimalFrame(1, [new Uint8Array(n), EMPTY, EMPTY, EMPTY, EMPTY, EMPTY]);
    assertParseError(() => parseS2B(frame), /x-subscriber-nonce/);
  }
  const msg = parseS2B(fromHex(messageVector("S2B_Configure").minimal_hex));
  assertRangeError(() => encodeS2B({ ...msg, subscriberNonce: new Uint8Array(31) } as S2BMessage));
});

Deno.test("s2b: uint headers accept leading zeros and reject more bytes than their limit", () => {
  const id = fromHex("0011");
  const continueReceive = (part: string) => minimalFrame(8, [id, fromHex(part), EMPTY, EMPTY]);
  assert.deepEqual(parseS2B(continueReceive("")), {
    type: "continue_receive",
    identifier: id,
    partId: 0,
    authorization: null,
    tracing: EMPTY,
  });
  assert.equal((parseS2B(continueReceive("0000000000000003")) as { partId: number }).partId, 3);
  assert.equal(
    (parseS2B(continueReceive("001fffffffffffff")) as { partId: number }).partId,
    Number.MAX_SAFE_INTEGER,
  );
  assertParseError(() => parseS2B(continueReceive("0020000000000000")), /x-part-id: too large/);
  assertParseError(() => parseS2B(continueReceive("ffffffffffffffff")), /x-part-id: too large/);
  assertParseError(() => parseS2B(continueReceive("000000000000000001")), /x-part-id/);

  const confirm = (n: string) => minimalFrame(9, [id, EMPTY, EMPTY, fromHex(n)]);
  assert.equal((parseS2B(confirm("")) as { numSubscribers: number }).numSubscribers, 0);
  assert.equal((parseS2B(confirm("01")) as { numSubscribers: number }).numSubscribers, 1);
  assert.equal(
    (parseS2B(confirm("ffffffff")) as { numSubscribers: number }).numSubscribers,
    2 ** 32 - 1,
  );
  assertParseError(() => parseS2B(confirm("0000000001")), /x-num-subscribers/);
});

Deno.test("s2b NOTIFY: lengths use all 64 bits; compressor and lengths longer than 8 bytes are ParseErrors", () => {
  const sha = new Uint8Array(64);
  const notify = (compressor: string, length: string) =>
    minimalFrame(6, [
      EMPTY,
      EMPTY,
      fromHex("01"),
      fromHex("74"),
      fromHex(compressor),
      fromHex(length),
      fromHex(length),
      sha,
    ]);
  const msg = parseS2B(notify("", "ffffffffffffffff"));
  assert.ok(msg.type === "notify");
  assert.equal(msg.compressor, 0);
  assert.equal(msg.compressedLength, 0xffffffffffffffffn);
  assert.equal(msg.decompressedLength, 0xffffffffffffffffn);
  assert.equal(toHex(encodeS2B(msg)), toHex(notify("00", "ffffffffffffffff")));
  assertParseError(() => parseS2B(notify("000000000000000001", "")), /x-compressor/);
  assertParseError(() => parseS2B(notify("", "000000000000000001")), /x-compressed-length/);
  const badSha = minimalFrame(6, [
    EMPTY,
    EMPTY,
    EMPTY,
    EMPTY,
    EMPTY,
    EMPTY,
    EMPTY,
    new Uint8Array(63),
  ]);
  assertParseError(() => parseS2B(badSha), /x-compressed-sha512/);
});

Deno.test("s2b: identifiers over 64 bytes are ParseErrors and RangeErrors", () => {
  const id = new Uint8Array(65);
  assertParseError(() => parseS2B(minimalFrame(9, [id, EMPTY, EMPTY, EMPTY])), /x-identifier/);
  assertParseError(() => parseS2B(minimalFrame(8, [id, EMPTY, EMPTY, EMPTY])), /x-identifier/);
  assertParseError(
    () => parseS2B(minimalFrame(7, [EMPTY, EMPTY, id, fromHex("01")])),
    /x-identifier/,
  );
  assertRangeError(
    () =>
      encodeS2B({
        type: "confirm_receive",
        identifier: id,
        authorization: null,
        tracing: EMPTY,
        numSubscribers: 1,
      }),
    /x-identifier/,
  );
  assert.equal(
    parseS2B(minimalFrame(9, [new Uint8Array(64), EMPTY, EMPTY, EMPTY])).type,
    "confirm_receive",
  );
});

Deno.test("s2b globs: strict UTF-8 and at most MAX_GLOB_BYTES", () => {
  assertParseError(() => parseS2B(minimalFrame(3, [EMPTY, EMPTY, fromHex("ff")])), /UTF-8/);
  assertParseError(
    () => parseS2B(minimalFrame(5, [EMPTY, EMPTY, new Uint8Array(MAX_GLOB_BYTES + 1).fill(0x61)])),
    /Glob too long/,
  );
  const longest = parseS2B(
    minimalFrame(3, [EMPTY, EMPTY, new Uint8Array(MAX_GLOB_BYTES).fill(0x61)]),
  );
  assert.equal(longest.type === "subscribe_glob" && longest.glob.length, MAX_GLOB_BYTES);
  assertParseError(
    () => parseS2B(minimalFrame(2, [fromHex("c0af"), EMPTY, EMPTY])),
    /authorization/,
  );
});

Deno.test("s2b: a body after a bodiless message is ignored; none is written", () => {
  const frame = fromHex(messageVector("S2B_SubscribeExact").minimal_hex);
  const msg = parseS2B(Uint8Array.from([...frame, 1, 2, 3]));
  assert.deepEqual(msg, parseS2B(frame));
  assert.deepEqual(encodeS2B(msg), frame);
});

Deno.test("s2b writers: RangeError for values that do not fit", () => {
  const base = { authorization: null, tracing: EMPTY };
  assertRangeError(
    () => encodeS2B({ type: "subscribe_exact", ...base, topic: new Uint8Array(65_536) }),
    /x-topic/,
  );
  assertRangeError(
    () => encodeS2B({ type: "subscribe_glob", ...base, glob: "a".repeat(65_536) }, false),
    /x-glob/,
  );
  assertRangeError(() =>
    encodeS2B({
      type: "subscribe_exact",
      authorization: "a".repeat(65_536),
      tracing: EMPTY,
      topic: EMPTY,
    })
  );
  const cr = { type: "continue_receive", identifier: EMPTY, ...base } as const;
  for (const partId of [-1, 0.5, 2 ** 53, NaN]) {
    assertRangeError(() => encodeS2B({ ...cr, partId }));
  }
  const conf = { type: "confirm_receive", identifier: EMPTY, ...base } as const;
  for (const n of [-1, 2 ** 32]) assertRangeError(() => encodeS2B({ ...conf, numSubscribers: n }));
  const configure = {
    type: "configure",
    subscriberNonce: NONCE,
    enableZstd: true,
    enableTraining: false,
    ...base,
  } as const;
  assertRangeError(() => encodeS2B({ ...configure, initialDict: 0x10000 }));
  const part = { type: "notify_stream", ...base, identifier: EMPTY, body: EMPTY } as const;
  assertRangeError(() => encodeS2B({ ...part, partId: 0, first: null }), /first/);
  const first = {
    topic: EMPTY,
    compressor: 0,
    compressedLength: 0n,
    decompressedLength: 0n,
    compressedSha512: new Uint8Array(64),
  };
  assertRangeError(() => encodeS2B({ ...part, partId: 1, first }), /first/);
  assertRangeError(() =>
    encodeS2B({ ...part, partId: 0, first: { ...first, compressedLength: 2n ** 64n } })
  );
  assertRangeError(() =>
    encodeS2B({ ...part, partId: 0, first: { ...first, compressedLength: -1n } })
  );
});

Deno.test("s2b property: random messages round-trip in both forms", () => {
  const rand = new Rand(901);
  for (let i = 0; i < ITERATIONS; i++) {
    assertRoundTrip(randomS2B(rand), encodeS2B, parseS2B, i < 30);
  }
});
