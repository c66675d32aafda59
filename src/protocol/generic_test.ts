import assert from "node:assert/strict";
import { encodeResponseGeneric, parseResponseGeneric } from "./generic.ts";
import { fromHex } from "./bytes.ts";
import { assertOnlyParseErrors, assertParseError, checkCodec, vectorBytes } from "./_testing.ts";

Deno.test("generic vector: response_generic is 00 03 00 00 00 00 and round-trips", () => {
  const bytes = vectorBytes("response_generic");
  const res = parseResponseGeneric(bytes);
  assert.deepEqual(res, { authorization: null, tracing: new Uint8Array(0) });
  assert.deepEqual(encodeResponseGeneric(res), bytes);
});

Deno.test("generic vector: response_generic_with_authorization round-trips", () => {
  const bytes = vectorBytes("response_generic_with_authorization");
  const res = parseResponseGeneric(bytes);
  assert.deepEqual(res, { authorization: "Bearer abc", tracing: new Uint8Array(0) });
  assert.deepEqual(encodeResponseGeneric(res), bytes);
});

Deno.test("generic: wrong type, trailing bytes and bad UTF-8 are ParseErrors", () => {
  assertParseError(() => parseResponseGeneric(fromHex("000500000000")), /message type: 5/);
  assertParseError(() => parseResponseGeneric(fromHex("00030000000000")), /trailing/);
  assertParseError(() => parseResponseGeneric(fromHex("00030001ff0000")), /UTF-8/);
});

Deno.test("generic property: random responses round-trip; random bytes only ParseError", () => {
  checkCodec(
    11,
    (r) => ({ authorization: r.optionalText(), tracing: r.bytes() }),
    encodeResponseGeneric,
    parseResponseGeneric,
  );
  assertOnlyParseErrors(
    12,
    vectorBytes("response_generic_with_authorization"),
    parseResponseGeneric,
  );
});

Deno.test("generic limits: authorization over 65 535 bytes is a RangeError", () => {
  assert.throws(
    () => encodeResponseGeneric({ authorization: "a".repeat(65_536), tracing: new Uint8Array(0) }),
    RangeError,
  );
});
