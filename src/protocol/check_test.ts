import assert from "node:assert/strict";
import { fromHex, toHex } from "./bytes.ts";
import {
  encodeCheckSubscriptions,
  encodeResponseCheckSubscriptions,
  parseCheckSubscriptions,
  parseResponseCheckSubscriptions,
} from "./check.ts";
import { strongEtag } from "./etag.ts";
import {
  assertOnlyParseErrors,
  assertParseError,
  checkCodec,
  vector,
  vectorBytes,
} from "./_testing.ts";

interface SubsVector {
  exacts: { topic_hex: string; recovery: string | null }[];
  globs: { glob: string; recovery: string | null }[];
}

Deno.test("check vector: check_subscriptions_request (tracing first) round-trips", () => {
  const v = vector("check_subscriptions_request");
  const bytes = vectorBytes(v.name);
  const req = parseCheckSubscriptions(bytes);
  assert.deepEqual(req, { tracing: new Uint8Array(0), url: v.url });
  assert.deepEqual(encodeCheckSubscriptions(req), bytes);
});

Deno.test("check vector: response_check_subscriptions round-trips; etag = strongEtag", () => {
  const v = vector("response_check_subscriptions");
  const bytes = vectorBytes(v.name);
  assert.equal(bytes.length, 71);
  const res = parseResponseCheckSubscriptions(bytes);
  assert.equal(res.authorization, null);
  assert.equal(res.tracing.length, 0);
  assert.equal(toHex(res.etag), v.etag_hex);
  assert.deepEqual(encodeResponseCheckSubscriptions(res), bytes);
  const subs = v.subscriptions as SubsVector;
  const set = {
    exacts: subs.exacts.map((e) => ({ topic: fromHex(e.topic_hex), recovery: e.recovery })),
    globs: subs.globs,
  };
  const url = vector("check_subscriptions_request").url as string;
  assert.equal(toHex(strongEtag(url, set)), v.etag_hex);
});

Deno.test("check: etag format other than 0, short etag, trailing bytes are ParseErrors", () => {
  const good = vectorBytes("response_check_subscriptions");
  const badFormat = good.slice();
  badFormat[6] = 1;
  assertParseError(() => parseResponseCheckSubscriptions(badFormat), /Unsupported etag format: 1/);
  assertParseError(() => parseResponseCheckSubscriptions(good.subarray(0, 70)), /missing etag/);
  assertParseError(
    () => parseResponseCheckSubscriptions(new Uint8Array([...good, 0])),
    /trailing/,
  );
  assertParseError(
    () =>
      parseCheckSubscriptions(new Uint8Array([...vectorBytes("check_subscriptions_request"), 1])),
    /trailing/,
  );
});

Deno.test("check property: random requests and responses round-trip", () => {
  checkCodec(
    21,
    (r) => ({ tracing: r.bytes(), url: r.text() }),
    encodeCheckSubscriptions,
    parseCheckSubscriptions,
  );
  checkCodec(
    22,
    (r) => {
      const etag = new Uint8Array(64);
      for (let i = 0; i < 64; i++) etag[i] = r.int(256);
      return { authorization: r.optionalText(), tracing: r.bytes(), etag };
    },
    encodeResponseCheckSubscriptions,
    parseResponseCheckSubscriptions,
  );
});

Deno.test("check property: random bytes only ever raise ParseError", () => {
  assertOnlyParseErrors(23, vectorBytes("check_subscriptions_request"), parseCheckSubscriptions);
  assertOnlyParseErrors(
    24,
    vectorBytes("response_check_subscriptions"),
    parseResponseCheckSubscriptions,
  );
});

Deno.test("check limits: RangeError for an etag that is not 64 bytes or a long url", () => {
  const t = new Uint8Array(0);
  assert.throws(
    () =>
      encodeResponseCheckSubscriptions({
        authorization: null,
        tracing: t,
        etag: new Uint8Array(63),
      }),
    RangeError,
  );
  assert.throws(
    () => encodeCheckSubscriptions({ tracing: t, url: "u".repeat(65_536) }),
    RangeError,
  );
});
