import assert from "node:assert/strict";
import { encodeUtf8, fromHex, toHex } from "./bytes.ts";
import {
  encodeSubscribeExact,
  encodeSubscribeGlob,
  encodeUnsubscribeExact,
  encodeUnsubscribeGlob,
  parseSubscribeExact,
  parseSubscribeGlob,
  parseUnsubscribeExact,
  parseUnsubscribeGlob,
} from "./subscribe.ts";
import {
  assertOnlyParseErrors,
  assertParseError,
  checkCodec,
  vector,
  vectorBytes,
} from "./_testing.ts";

const URL = "http://127.0.0.1:3010/v1/receive";

Deno.test("subscribe vector: subscribe_exact_request parses and re-encodes", () => {
  const v = vector("subscribe_exact_request");
  const bytes = vectorBytes(v.name);
  const req = parseSubscribeExact(bytes);
  assert.equal(req.url, v.url);
  assert.equal(toHex(req.topic), v.topic_hex);
  assert.equal(req.recovery, v.recovery);
  assert.equal(toHex(req.tracing), v.tracing_hex);
  assert.deepEqual(encodeSubscribeExact(req), bytes);
});

Deno.test("subscribe vector: non-UTF-8 topic without recovery parses and re-encodes", () => {
  const v = vector("subscribe_exact_request_non_utf8_topic_no_recovery");
  const bytes = vectorBytes(v.name);
  const req = parseSubscribeExact(bytes);
  assert.deepEqual(req, { url: v.url, topic: fromHex("ff"), recovery: null, tracing: fromHex("") });
  assert.deepEqual(encodeSubscribeExact(req), bytes);
});

Deno.test("subscribe vector: subscribe_glob_request parses and re-encodes", () => {
  const v = vector("subscribe_glob_request");
  const bytes = vectorBytes(v.name);
  const req = parseSubscribeGlob(bytes);
  assert.deepEqual(req, { url: v.url, glob: v.glob, recovery: v.recovery, tracing: fromHex("") });
  assert.deepEqual(encodeSubscribeGlob(req), bytes);
});

Deno.test("subscribe vector: glob ff 2a (invalid UTF-8, 400) throws ParseError", () => {
  assertParseError(
    () => parseSubscribeGlob(vectorBytes("subscribe_glob_request_invalid_utf8")),
    /Invalid UTF-8 in glob/,
  );
});

Deno.test("subscribe vector: unsubscribe of a missing topic (409 is the store's) parses", () => {
  const bytes = vectorBytes("unsubscribe_exact_request_missing");
  const req = parseUnsubscribeExact(bytes);
  assert.deepEqual(req, { url: URL, topic: encodeUtf8("nope"), tracing: new Uint8Array(0) });
  assert.deepEqual(encodeUnsubscribeExact(req), bytes);
});

Deno.test("subscribe vector: truncated subscribe_exact (400) throws ParseError", () => {
  assertParseError(
    () => parseSubscribeExact(vectorBytes("subscribe_exact_request_truncated")),
    /Truncated body: missing tracing/,
  );
});

Deno.test(
  "subscribe vector: trailing bytes are REJECTED (project decision; the reference answered 200)",
  () => {
    const bytes = vectorBytes("subscribe_exact_request_trailing_bytes");
    assertParseError(() => parseSubscribeExact(bytes), /4 trailing byte/);
    // Without the 4 bytes of "junk" the same body is well formed.
    const req = parseSubscribeExact(bytes.subarray(0, bytes.length - 4));
    assert.deepEqual(req, {
      url: URL,
      topic: encodeUtf8("bar"),
      recovery: null,
      tracing: fromHex(""),
    });
  },
);

Deno.test("subscribe property: random subscribe/unsubscribe bodies round-trip", () => {
  checkCodec(
    1,
    (r) => ({
      url: r.text(),
      topic: r.bytes(),
      recovery: r.optionalText(),
      tracing: r.bytes(),
    }),
    encodeSubscribeExact,
    parseSubscribeExact,
  );
  checkCodec(
    2,
    (r) => ({
      url: r.text(),
      glob: r.text(),
      recovery: r.optionalText(),
      tracing: r.bytes(),
    }),
    encodeSubscribeGlob,
    parseSubscribeGlob,
  );
  checkCodec(
    3,
    (r) => ({ url: r.text(), topic: r.bytes(), tracing: r.bytes() }),
    encodeUnsubscribeExact,
    parseUnsubscribeExact,
  );
  checkCodec(
    4,
    (r) => ({ url: r.text(), glob: r.text(), tracing: r.bytes() }),
    encodeUnsubscribeGlob,
    parseUnsubscribeGlob,
  );
});

Deno.test("subscribe property: random bytes only ever raise ParseError", () => {
  const sample = vectorBytes("subscribe_exact_request");
  assertOnlyParseErrors(5, sample, parseSubscribeExact);
  assertOnlyParseErrors(6, sample, parseSubscribeGlob);
  assertOnlyParseErrors(7, sample, parseUnsubscribeExact);
  assertOnlyParseErrors(8, sample, parseUnsubscribeGlob);
});

Deno.test("subscribe limits: globs over 50 000 bytes are rejected, 50 000 accepted", () => {
  const ok = "é".repeat(25_000); // 50 000 UTF-8 bytes, 25 000 UTF-16 units
  const body = encodeSubscribeGlob({ url: URL, glob: ok, recovery: null, tracing: fromHex("") });
  assert.equal(parseSubscribeGlob(body).glob, ok);
  const long = encodeSubscribeGlob({
    url: URL,
    glob: ok + "x",
    recovery: null,
    tracing: fromHex(""),
  });
  assertParseError(() => parseSubscribeGlob(long), /Glob too long: 50001 bytes/);
  const unsub = encodeUnsubscribeGlob({ url: URL, glob: ok + "x", tracing: fromHex("") });
  assertParseError(() => parseUnsubscribeGlob(unsub), /Glob too long/);
});

Deno.test("subscribe limits: invalid UTF-8 (surrogate, overlong, > U+10FFFF) is rejected", () => {
  for (const bad of ["eda080", "c0af", "f4908080", "80"]) {
    const glob = fromHex(bad);
    const body = new Uint8Array([0, 1, 0x75, 0, glob.length, ...glob, 0, 0, 0, 0]);
    assertParseError(() => parseSubscribeGlob(body), /Invalid UTF-8 in glob/);
    const badUrl = new Uint8Array([0, glob.length, ...glob, 0, 0, 0, 0, 0, 0]);
    assertParseError(() => parseSubscribeExact(badUrl), /Invalid UTF-8 in url/);
    const badRecovery = new Uint8Array([0, 1, 0x75, 0, 0, 0, glob.length, ...glob, 0, 0]);
    assertParseError(() => parseSubscribeExact(badRecovery), /Invalid UTF-8 in recovery/);
  }
});

Deno.test("subscribe limits: a leading BOM is kept in urls and globs", () => {
  // url = EF BB BF "u", empty topic, no recovery, empty tracing.
  const parsed = parseSubscribeExact(fromHex("0004efbbbf75000000000000"));
  assert.equal(parsed.url, "\uFEFFu");
  assert.equal(parsed.url.length, 2);
  const req = { url: "\uFEFFu", glob: "\uFEFF*", recovery: "\uFEFFr", tracing: fromHex("") };
  const encoded = encodeSubscribeGlob(req);
  assert.equal(toHex(encoded.subarray(0, 6)), "0004efbbbf75");
  assert.deepEqual(parseSubscribeGlob(encoded), req);
});

Deno.test("subscribe limits: encoders throw RangeError for fields over 65 535 bytes", () => {
  const big = new Uint8Array(65_536);
  const t = new Uint8Array(0);
  assert.throws(
    () => encodeSubscribeExact({ url: "x".repeat(65_536), topic: t, recovery: null, tracing: t }),
    RangeError,
  );
  assert.throws(
    () => encodeSubscribeExact({ url: "", topic: big, recovery: null, tracing: t }),
    RangeError,
  );
  assert.throws(
    () => encodeSubscribeGlob({ url: "", glob: "g", recovery: "é".repeat(32_768), tracing: t }),
    RangeError,
  );
  assert.throws(() => encodeUnsubscribeExact({ url: "", topic: t, tracing: big }), RangeError);
  assert.throws(
    () => encodeUnsubscribeGlob({ url: "", glob: "x".repeat(65_536), tracing: t }),
    RangeError,
  );
  // 65 535 still fits.
  const max = encodeUnsubscribeExact({ url: "", topic: big.subarray(1), tracing: t });
  assert.equal(parseUnsubscribeExact(max).topic.length, 65_535);
});
