import assert from "node:assert/strict";
import { encodeUtf8, fromHex, toHex } from "../bytes.ts";
import { assertParseError } from "../_testing.ts";
import {
  encodeFrame,
  FrameReader,
  headerLayout,
  MAX_HEADER_BYTES,
  MINIMAL_HEADERS,
} from "./frame.ts";
import { parseB2S } from "./b2s.ts";
import { parseS2B } from "./s2b.ts";
import { messageVector } from "./_testing_vectors.ts";
import { assertRangeError, expandedFrame } from "./_testing.ts";

const EMPTY: Uint8Array = new Uint8Array(0);

Deno.test("frame: flags other than 0 and 1 are ParseErrors (P10)", () => {
  const frame = fromHex(messageVector("S2B_SubscribeExact").minimal_hex);
  for (const flags of [2, 3, 0x8000, 0x8001, 0xffff]) {
    const bad = frame.slice();
    bad[0] = flags >> 8;
    bad[1] = flags & 0xff;
    assertParseError(() => parseS2B(bad), /Unknown flag bits/);
    assertParseError(() => new FrameReader(bad), /Unknown flag bits/);
  }
  assert.equal(new FrameReader(frame).minimal, true);
  assert.equal(MINIMAL_HEADERS, 1);
  assert.equal(
    new FrameReader(fromHex(messageVector("S2B_SubscribeExact").expanded_hex)).minimal,
    false,
  );
});

Deno.test("frame: fewer than four bytes is a ParseError in both directions", () => {
  for (const hex of ["", "00", "0001", "000100"]) {
    assertParseError(() => parseS2B(fromHex(hex)));
    assertParseError(() => parseB2S(fromHex(hex)));
  }
});

Deno.test("frame expanded: names are case-insensitive, the last repeat wins, unknown names are ignored", () => {
  const frame = expandedFrame(2, [
    ["X-Topic", "first"],
    ["x-unknown", "ignored"],
    ["AUTHORIZATION", "Bearer x"],
    ["x-tracing", "t"],
    ["x-TOPIC", "last"],
    ["", "nameless"],
  ], encodeUtf8("body is ignored"));
  assert.deepEqual(parseS2B(frame), {
    type: "subscribe_exact",
    authorization: "Bearer x",
    tracing: encodeUtf8("t"),
    topic: encodeUtf8("last"),
  });
});

Deno.test("frame expanded: a missing required header is a ParseError", () => {
  const all: [string, string][] = [["authorization", ""], ["x-tracing", ""], ["x-topic", "t"]];
  for (let skip = 0; skip < all.length; skip++) {
    const frame = expandedFrame(12, all.filter((_, i) => i !== skip));
    assertParseError(() => parseB2S(frame), new RegExp(`Missing header: ${all[skip]![0]}`));
  }
  assert.equal(parseB2S(expandedFrame(12, all)).type, "missed");
});

Deno.test("frame expanded: a non-ASCII header name is a ParseError", () => {
  for (const name of [fromHex("78ff"), fromHex("c3a9"), fromHex("e282ac")]) {
    const frame = expandedFrame(12, [[name, ""], ["authorization", ""], ["x-tracing", ""], [
      "x-topic",
      "",
    ]]);
    assertParseError(() => parseB2S(frame), /not ASCII/);
  }
});

Deno.test("frame expanded: the body starts right after the last counted header", () => {
  const frame = expandedFrame(
    8,
    [["authorization", ""], ["x-tracing", ""], ["x-identifier", "id"], [
      "x-part-id",
      fromHex("05"),
    ]],
    fromHex("000400000000"),
  );
  const msg = parseB2S(frame);
  assert.ok(msg.type === "receive_stream");
  assert.equal(msg.partId, 5);
  assert.equal(msg.first, null);
  assert.equal(toHex(msg.body), "000400000000");
});

Deno.test("frame minimal: a stream part's id decides whether the first-part headers follow", () => {
  // Part 1 whose body happens to look like first-part headers stays a body.
  const frame = fromHex("0001000700000000" + "0001ab" + "000101" + "000101000101");
  const msg = parseS2B(frame);
  assert.ok(msg.type === "notify_stream");
  assert.equal(msg.partId, 1);
  assert.equal(toHex(msg.body), "000101000101");
  // Part 0 (empty or 00 or 0000) must carry them.
  for (const part of ["0000", "000100", "00020000"]) {
    assertParseError(() => parseS2B(fromHex(`00010007000000000001ab${part}`)), /x-topic/);
  }
});

Deno.test("encodeFrame: header values up to 65 535 bytes, longer is a RangeError naming the header", () => {
  const layout = headerLayout("x-a", "x-b");
  const max = new Uint8Array(MAX_HEADER_BYTES);
  for (const minimal of [true, false]) {
    const frame = encodeFrame(300, minimal, layout, [EMPTY, max], fromHex("aa"));
    assert.equal(
      frame.length,
      4 + (minimal ? 0 : 2 + 2 + 3 + 2 + 3) + 2 + 2 + MAX_HEADER_BYTES + 1,
    );
    assert.equal(toHex(frame.subarray(0, 4)), minimal ? "0001012c" : "0000012c");
    assert.equal(frame[frame.length - 1], 0xaa);
    assertRangeError(
      () => encodeFrame(1, minimal, layout, [EMPTY, new Uint8Array(MAX_HEADER_BYTES + 1)], EMPTY),
      /x-b is 65536 bytes/,
    );
  }
  // Values may stop before the layout does; the count says how many follow.
  assert.equal(
    toHex(encodeFrame(1, false, layout, [fromHex("01")], EMPTY)),
    "0000" + "0001" + "0001" + "0003782d61" + "000101",
  );
});
