import assert from "node:assert/strict";
import { decodeUtf8, encodeUtf8, fromHex } from "./bytes.ts";
import {
  encodeMissed,
  encodeResponseConfirmMissed,
  INVALID_MISSED_URL_BODY,
  parseMissed,
  parseResponseConfirmMissed,
} from "./missed.ts";
import {
  assertOnlyParseErrors,
  assertParseError,
  checkCodec,
  vector,
  vectorBytes,
} from "./_testing.ts";

Deno.test("missed vector: missed_request parses and re-encodes", () => {
  const bytes = vectorBytes("missed_request");
  const req = parseMissed(bytes);
  assert.deepEqual(req, { tracing: new Uint8Array(0), topic: encodeUtf8("foo") });
  assert.deepEqual(encodeMissed(req), bytes);
});

Deno.test("missed vector: response_confirm_missed parses and re-encodes", () => {
  const bytes = vectorBytes("response_confirm_missed");
  const res = parseResponseConfirmMissed(bytes);
  assert.deepEqual(res, { authorization: null, tracing: new Uint8Array(0) });
  assert.deepEqual(encodeResponseConfirmMissed(res), bytes);
  // The peer's trailing bytes are ignored.
  assert.deepEqual(parseResponseConfirmMissed(new Uint8Array([...bytes, 9])), res);
});

Deno.test("missed vector: missed_for_websockets_wrong_url body equals INVALID_MISSED_URL_BODY", () => {
  const v = vector("missed_for_websockets_wrong_url");
  assert.deepEqual(INVALID_MISSED_URL_BODY, vectorBytes(v.name));
  assert.deepEqual(JSON.parse(decodeUtf8(INVALID_MISSED_URL_BODY, "body")), {
    unsubscribe: true,
    reason: "invalid missed URL",
  });
});

Deno.test("missed: truncated or trailing MISSED and wrong response type are ParseErrors", () => {
  assertParseError(() => parseMissed(fromHex("0000000366")), /missing topic/);
  assertParseError(() => parseMissed(fromHex("00000003666f6f00")), /trailing/);
  assertParseError(() => parseResponseConfirmMissed(fromHex("000800000000")), /type: 8/);
});

Deno.test("missed property: random bodies round-trip; random bytes only ParseError", () => {
  checkCodec(71, (r) => ({ tracing: r.bytes(), topic: r.bytes() }), encodeMissed, parseMissed);
  checkCodec(
    72,
    (r) => ({ authorization: r.optionalText(), tracing: r.bytes() }),
    encodeResponseConfirmMissed,
    parseResponseConfirmMissed,
  );
  assertOnlyParseErrors(73, vectorBytes("missed_request"), parseMissed);
  assertOnlyParseErrors(74, vectorBytes("response_confirm_missed"), parseResponseConfirmMissed);
});

Deno.test("missed limits: RangeError for fields over 65 535 bytes", () => {
  const big = new Uint8Array(65_536);
  assert.throws(() => encodeMissed({ tracing: new Uint8Array(0), topic: big }), RangeError);
  assert.throws(
    () => encodeResponseConfirmMissed({ authorization: null, tracing: big }),
    RangeError,
  );
});
