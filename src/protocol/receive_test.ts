import assert from "node:assert/strict";
import { encodeUtf8, fromHex, toHex } from "./bytes.ts";
import {
  encodeReceiveHeader,
  encodeResponseConfirmReceive,
  encodeResponseUnsubscribeImmediate,
  parseReceiveHeader,
  parseReceiveResponse,
  parseReprDigest,
  reprDigestHeader,
  type ResponseConfirmReceive,
} from "./receive.ts";
import {
  assertOnlyParseErrors,
  assertParseError,
  assertPrefixesNull,
  assertPrefixesThrow,
  ITERATIONS,
  Rand,
  sha512,
  vector,
  vectorBytes,
} from "./_testing.ts";

Deno.test("receive vector: receive_request header parses; body and digest re-encode", () => {
  const v = vector("receive_request");
  const bytes = vectorBytes(v.name);
  const { header, headerLength } = parseReceiveHeader(bytes)!;
  assert.equal(header.tracing.length, 0);
  assert.deepEqual(header.topic, encodeUtf8("foo"));
  assert.equal(toHex(header.identifier), v.identifier_hex);
  const message = bytes.subarray(headerLength);
  assert.equal(BigInt(message.length), header.length);
  assert.deepEqual(message, encodeUtf8("hello"));
  assert.deepEqual(new Uint8Array([...encodeReceiveHeader(header), ...message]), bytes);
  const observed = v.headers_observed as Record<string, string>;
  assert.equal(observed["Content-Length"], String(bytes.length));
  assert.equal(reprDigestHeader(sha512(message)), v.repr_digest_header);
  assert.equal(observed["Repr-Digest"], v.repr_digest_header);
  assertPrefixesNull(bytes.subarray(0, headerLength), parseReceiveHeader);
});

Deno.test("receive vector: response_confirm_receive parses and re-encodes", () => {
  const v = vector("response_confirm_receive");
  const bytes = vectorBytes(v.name);
  const res = parseReceiveResponse(bytes);
  assert.deepEqual(res, {
    type: "confirm_receive",
    authorization: null,
    tracing: new Uint8Array(0),
    identifier: fromHex(vector("receive_request").identifier_hex as string),
    numSubscribers: 1,
  });
  const { type: _, ...fields } = res as { type: string } & ResponseConfirmReceive;
  assert.deepEqual(encodeResponseConfirmReceive(fields), bytes);
  // Trailing bytes are ignored, as the reference does.
  assert.deepEqual(parseReceiveResponse(new Uint8Array([...bytes, 1, 2, 3])), res);
});

Deno.test("receive vector: response_unsubscribe_immediate is encodeResponseUnsubscribeImmediate()", () => {
  const bytes = vectorBytes("response_unsubscribe_immediate");
  assert.deepEqual(encodeResponseUnsubscribeImmediate(), bytes);
  assert.deepEqual(parseReceiveResponse(bytes), { type: "unsubscribe_immediate" });
  assert.deepEqual(parseReceiveResponse(fromHex("000aff00")), { type: "unsubscribe_immediate" });
});

Deno.test("receive vector: receive_for_websockets_rejection body is unsubscribe immediate", () => {
  const v = vector("receive_for_websockets_rejection");
  assert.deepEqual(encodeResponseUnsubscribeImmediate(), vectorBytes(v.name));
  assert.equal(v.content_type, "application/octet-stream");
});

Deno.test("receive: empty, unknown-type, truncated and non-UTF-8 answers are ParseErrors", () => {
  assertParseError(() => parseReceiveResponse(new Uint8Array(0)), /missing type/);
  assertParseError(() => parseReceiveResponse(fromHex("0009")), /type: 9/);
  assertParseError(() => parseReceiveResponse(fromHex("00080001ff000000000000000000")), /UTF-8/);
  assertPrefixesThrow(vectorBytes("response_confirm_receive"), parseReceiveResponse);
});

Deno.test("receive property: random headers and confirmations round-trip", () => {
  const rand = new Rand(61);
  for (let i = 0; i < ITERATIONS; i++) {
    const h = {
      tracing: rand.bytes(),
      topic: rand.bytes(),
      identifier: rand.bytes(),
      length: BigInt(rand.int(2 ** 31)) ** 2n,
    };
    const bytes = encodeReceiveHeader(h);
    assert.deepEqual(parseReceiveHeader(bytes), { header: h, headerLength: bytes.length });
    if (i < 30) assertPrefixesNull(bytes, parseReceiveHeader);

    const r = {
      authorization: rand.optionalText(),
      tracing: rand.bytes(),
      identifier: rand.bytes(),
      numSubscribers: rand.int(0x100000000),
    };
    const body = encodeResponseConfirmReceive(r);
    assert.deepEqual(parseReceiveResponse(body), { type: "confirm_receive", ...r });
    if (i < 30) assertPrefixesThrow(body, parseReceiveResponse);
  }
});

Deno.test("receive property: random bytes: header parser never throws, response only ParseError", () => {
  const rand = new Rand(62);
  for (let i = 0; i < ITERATIONS; i++) parseReceiveHeader(rand.bytes(100));
  assertOnlyParseErrors(63, vectorBytes("response_confirm_receive"), parseReceiveResponse);
});

Deno.test("receive digest: round-trips and rejects garbage", () => {
  const rand = new Rand(64);
  for (let i = 0; i < ITERATIONS; i++) {
    const digest = sha512(rand.bytes());
    const header = reprDigestHeader(digest);
    assert.equal(header.length, 8 + 88);
    assert.deepEqual(parseReprDigest(header), digest);
    assert.deepEqual(parseReprDigest(`sha-256=abc,${header}`), digest);
  }
  const good = reprDigestHeader(sha512("hello"));
  const value = good.slice("sha-512=".length);
  for (
    const bad of [
      "",
      "sha-512",
      "sha-512=",
      `sha512=${value}`,
      `SHA-512=${value}`,
      ` sha-512=${value}`,
      `sha-512=:${value}:`,
      `sha-512=${value.slice(0, -2)}`, // unpadded
      `sha-512=${value.replace(/\+/g, "-").replace(/\//g, "_")}`, // base64url
      `sha-512=${value.slice(0, 85)}B==`, // non-canonical final bits
      `sha-512=${value.slice(0, 84)}`, // 63 bytes
      `sha-512=${value}AAAA`, // too long
      `sha-512=${value.slice(0, 40)} ${value.slice(41)}`,
      `${good},sha-512=nope`, // the last sha-512 item wins
    ]
  ) {
    assert.equal(parseReprDigest(bad), null, bad);
  }
});

Deno.test("receive limits: RangeError for over-long fields", () => {
  assert.throws(
    () =>
      encodeReceiveHeader({
        tracing: new Uint8Array(0),
        topic: new Uint8Array(0),
        identifier: new Uint8Array(256),
        length: 0n,
      }),
    RangeError,
  );
  assert.throws(
    () =>
      encodeResponseConfirmReceive({
        authorization: null,
        tracing: new Uint8Array(65_536),
        identifier: new Uint8Array(0),
        numSubscribers: 0,
      }),
    RangeError,
  );
  assert.throws(
    () =>
      encodeResponseConfirmReceive({
        authorization: null,
        tracing: new Uint8Array(0),
        identifier: new Uint8Array(0),
        numSubscribers: -1,
      }),
    RangeError,
  );
});
