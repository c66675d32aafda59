import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { fromHex, toHex } from "../bytes.ts";
import { assertParseError, ITERATIONS, Rand } from "../_testing.ts";
import { encodeB2S, encodeReceiveStreamHead, parseB2S } from "./b2s.ts";
import type { B2SReceiveStream } from "./types.ts";
import { expectedMessage, messageVector, SESSIONS } from "./_testing_vectors.ts";
import {
  assertRangeError,
  assertRoundTrip,
  assertVectors,
  assertVectorsHostile,
  minimalFrame,
  randomB2S,
} from "./_testing.ts";

const EMPTY = new Uint8Array(0);
const NONE = { authorization: null, tracing: EMPTY };

Deno.test("b2s vectors: every class parses from both forms and re-encodes byte for byte", () => {
  assert.equal(assertVectors("b2s", parseB2S, encodeB2S), 14);
});

Deno.test("b2s vectors: header prefixes and random mutations throw nothing but ParseError", () => {
  assertVectorsHostile("b2s", parseB2S, 600);
});

Deno.test("b2s: unknown types are ParseErrors", () => {
  const frame = fromHex(messageVector("B2S_Missed").minimal_hex);
  for (const type of [0, 13, 0x100, 0xffff]) {
    const bad = frame.slice();
    bad[2] = type >> 8;
    bad[3] = type & 0xff;
    assertParseError(() => parseB2S(bad), /Unknown broadcaster message type/);
  }
});

Deno.test("b2s traps: zero counts are empty, but stream part 0 and compressor 0 are 00", () => {
  const id = fromHex("ede73f67");
  assert.equal(
    toHex(encodeB2S({ type: "continue_notify", identifier: id, partId: 0, ...NONE })),
    "000100070004ede73f67000000000000",
  );
  assert.equal(
    toHex(encodeB2S({ type: "confirm_notify", identifier: id, subscribers: 0, ...NONE })),
    "000100060004ede73f67000000000000",
  );
  const head = encodeReceiveStreamHead({
    ...NONE,
    identifier: id,
    partId: 0,
    first: {
      topic: EMPTY,
      compressor: 0,
      compressedLength: 0n,
      decompressedLength: 0n,
      compressedSha512: new Uint8Array(64),
    },
  });
  assert.equal(
    toHex(head.subarray(0, 28)),
    "00010008" + "0000" + "0000" + "0004ede73f67" + "000100" + "0000" + "000100" + "0000" + "0000" +
      "0040",
  );
});

Deno.test("b2s ENABLE_ZSTD_*: i16 level, min size at most 4 bytes, max size all 64 bits", () => {
  const preset = {
    type: "enable_zstd_preset",
    identifier: 1,
    compressionLevel: 3,
    minSize: 16_384,
    maxSize: 0xffffffffffffffffn,
    ...NONE,
  } as const;
  // The example of docs/protocol/websocket.md#enable_zstd_preset, also recorded in the sessions
  // file.
  const frame = encodeB2S(preset);
  assert.equal(toHex(frame), SESSIONS.compression.enable_zstd_preset_id1_frame_hex_auth_none);
  assert.equal(toHex(frame), "0001000900010100020003000240000008ffffffffffffffff00000000");
  assert.deepEqual(parseB2S(frame), preset);
  for (const level of [-32_768, -1, 0, 22, 32_767]) {
    assertRoundTrip({ ...preset, compressionLevel: level }, encodeB2S, parseB2S, false);
  }
  assert.equal(toHex(encodeB2S({ ...preset, compressionLevel: -7 }).subarray(7, 11)), "0002fff9");
  for (const bad of [-32_769, 32_768, 1.5]) {
    assertRangeError(() => encodeB2S({ ...preset, compressionLevel: bad }), /x-compression-level/);
  }
  assertRangeError(() => encodeB2S({ ...preset, minSize: 2 ** 32 }), /x-min-size/);
  assertRoundTrip({ ...preset, minSize: 2 ** 32 - 1, maxSize: 0n }, encodeB2S, parseB2S, false);

  const raw = (level: string, min: string) =>
    minimalFrame(9, [fromHex("01"), fromHex(level), fromHex(min), EMPTY, EMPTY, EMPTY]);
  assert.equal((parseB2S(raw("fff9", "")) as typeof preset).compressionLevel, -7);
  assert.equal((parseB2S(raw("0003", "00004000")) as typeof preset).minSize, 16_384);
  assertParseError(() => parseB2S(raw("03", "")), /x-compression-level/);
  assertParseError(() => parseB2S(raw("000003", "")), /x-compression-level/);
  assertParseError(() => parseB2S(raw("0003", "0000004000")), /x-min-size/);
});

Deno.test("b2s ENABLE_ZSTD_CUSTOM / DISABLE_ZSTD_CUSTOM: the sessions file's custom-dictionary example", () => {
  const ex = SESSIONS.compression.custom_dictionary_example;
  const dictionary = Uint8Array.from(atob(ex.dictionary_b64 as string), (c) => c.charCodeAt(0));
  const sha512 = new Uint8Array(createHash("sha512").update(dictionary).digest());
  assert.equal(toHex(sha512), ex.dictionary_sha512);
  const msg = {
    type: "enable_zstd_custom",
    identifier: 65_536,
    compressionLevel: 3,
    minSize: 32,
    maxSize: 16_384n,
    ...NONE,
    sha512,
    dictionary,
  } as const;
  const frame = encodeB2S(msg);
  assert.equal(frame.length, ex.enable_zstd_custom_frame_length);
  assert.equal(
    toHex(frame.subarray(0, frame.length - dictionary.length)),
    ex.enable_zstd_custom_headers_hex,
  );
  assert.equal(
    createHash("sha256").update(frame).digest("hex"),
    ex.enable_zstd_custom_frame_sha256,
  );
  assert.ok(toHex(frame).startsWith(ex.enable_zstd_custom_frame_hex_prefix as string));
  assert.deepEqual(parseB2S(frame), msg);
  const disable = { type: "disable_zstd_custom", identifier: 65_536, ...NONE } as const;
  assert.equal(toHex(encodeB2S(disable)), ex.disable_zstd_custom_frame_hex);
  assert.deepEqual(parseB2S(fromHex(ex.disable_zstd_custom_frame_hex as string)), disable);
  assertRangeError(() => encodeB2S({ ...msg, sha512: new Uint8Array(63) }), /x-sha512/);
});

Deno.test("b2s encodeReceiveStreamHead: head ‖ body equals the whole encoded part", () => {
  for (const name of ["B2S_ReceiveStreamStartCompressed", "B2S_ReceiveStreamContinuation"]) {
    const v = messageVector(name);
    const { type: _, body, ...head } = expectedMessage(v) as B2SReceiveStream;
    const bytes = encodeReceiveStreamHead(head);
    assert.equal(toHex(bytes) + toHex(body), v.minimal_hex);
  }
  assertRangeError(() =>
    encodeReceiveStreamHead({ ...NONE, identifier: new Uint8Array(65), partId: 1, first: null })
  );
});

Deno.test("b2s: a body after a bodiless message is ignored; none is written", () => {
  const frame = fromHex(messageVector("B2S_ConfirmNotify").expanded_hex);
  const msg = parseB2S(Uint8Array.from([...frame, 9]));
  assert.deepEqual(msg, parseB2S(frame));
  assert.deepEqual(encodeB2S(msg, false), frame);
});

Deno.test("b2s: numbers beyond safe integers are ParseErrors in number fields", () => {
  const confirmNotify = (subscribers: string) =>
    minimalFrame(6, [EMPTY, fromHex(subscribers), EMPTY, EMPTY]);
  assertParseError(() => parseB2S(confirmNotify("0020000000000000")), /x-subscribers: too large/);
  const ok = confirmNotify("001fffffffffffff");
  assert.equal((parseB2S(ok) as { subscribers: number }).subscribers, Number.MAX_SAFE_INTEGER);
});

Deno.test("b2s property: random messages round-trip in both forms", () => {
  const rand = new Rand(902);
  for (let i = 0; i < ITERATIONS; i++) {
    assertRoundTrip(randomB2S(rand), encodeB2S, parseB2S, i < 30);
  }
});
