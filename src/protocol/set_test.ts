import assert from "node:assert/strict";
import { compareBytes, encodeUtf8, toHex } from "./bytes.ts";
import { compareGlobs, strongEtag } from "./etag.ts";
import {
  encodeSetSubscriptions,
  parseSetSubscriptions,
  type SetSubscriptionsRequest,
} from "./set.ts";
import {
  assertOnlyParseErrors,
  assertParseError,
  checkCodec,
  randomSet,
  vector,
  vectorBytes,
} from "./_testing.ts";

const URL = "http://127.0.0.1:3010/v1/receive";
const REC = "http://127.0.0.1:3010/v1/recover";

function request(set: SetSubscriptionsRequest["set"]): SetSubscriptionsRequest {
  return { tracing: new Uint8Array(0), url: URL, etagFormat: 0, etag: strongEtag(URL, set), set };
}

Deno.test("set vector: set_subscriptions_request parses, etag matches, re-encodes", () => {
  const v = vector("set_subscriptions_request");
  const bytes = vectorBytes(v.name);
  const req = parseSetSubscriptions(bytes);
  assert.equal(req.url, v.url);
  assert.equal(req.etagFormat, 0);
  assert.equal(toHex(req.etag), v.etag_hex);
  assert.deepEqual(req.set, {
    exacts: [{ topic: encodeUtf8("a"), recovery: null }, { topic: encodeUtf8("b"), recovery: REC }],
    globs: [{ glob: "x*", recovery: REC }],
  });
  assert.deepEqual(strongEtag(req.url, req.set), req.etag);
  assert.deepEqual(encodeSetSubscriptions(req), bytes);
});

Deno.test("set vector: wrong etag (400 at the route) parses, but etag != strongEtag", () => {
  const req = parseSetSubscriptions(vectorBytes("set_subscriptions_request_wrong_etag"));
  const computed = strongEtag(req.url, req.set);
  assert.notDeepEqual(computed, req.etag);
  assert.equal(toHex(computed), vector("set_subscriptions_request").etag_hex);
});

Deno.test("set vector: unsorted exact topics (400) throw ParseError", () => {
  assertParseError(
    () => parseSetSubscriptions(vectorBytes("set_subscriptions_request_unsorted")),
    /Exact topics not strictly ascending/,
  );
});

Deno.test("set: duplicates, JS-ordered globs, format 1, long globs, trailing bytes rejected", () => {
  const a = { topic: encodeUtf8("a"), recovery: null };
  const dupTopics = encodeSetSubscriptions(request({ exacts: [a, a], globs: [] }));
  assertParseError(() => parseSetSubscriptions(dupTopics), /not strictly ascending/);
  const g = (glob: string) => ({ glob, recovery: null });
  const dupGlobs = encodeSetSubscriptions(request({ exacts: [], globs: [g("x"), g("x")] }));
  assertParseError(() => parseSetSubscriptions(dupGlobs), /Globs not strictly ascending/);
  // JavaScript's default order puts U+1F600 (surrogates) before U+E000; UTF-8 order does not.
  const jsOrder = ["\uE000", "\u{1F600}"].sort().map(g);
  assert.equal(jsOrder[0]!.glob, "\u{1F600}");
  const bad = encodeSetSubscriptions(request({ exacts: [], globs: jsOrder }));
  assertParseError(() => parseSetSubscriptions(bad), /Globs not strictly ascending/);
  const good = encodeSetSubscriptions(request({ exacts: [], globs: [...jsOrder].reverse() }));
  assert.equal(parseSetSubscriptions(good).set.globs[0]!.glob, "\uE000");

  const format1 = encodeSetSubscriptions({ ...request({ exacts: [], globs: [] }), etagFormat: 1 });
  assertParseError(() => parseSetSubscriptions(format1), /Unsupported etag format: 1/);
  const long = encodeSetSubscriptions(request({ exacts: [], globs: [g("*".repeat(50_001))] }));
  assertParseError(() => parseSetSubscriptions(long), /Glob too long/);
  const ok = encodeSetSubscriptions(request({ exacts: [], globs: [] }));
  assertParseError(() => parseSetSubscriptions(new Uint8Array([...ok, 0])), /trailing/);
});

Deno.test("set: a huge declared count with no entries is a ParseError, not a hang", () => {
  const body = encodeSetSubscriptions(request({ exacts: [], globs: [] }));
  const huge = body.slice();
  huge.set([0xff, 0xff, 0xff, 0xff], huge.length - 8);
  assertParseError(() => parseSetSubscriptions(huge), /missing topic/);
});

Deno.test("set property: random requests round-trip; every prefix throws", () => {
  checkCodec(
    31,
    (r) => {
      const etag = new Uint8Array(64);
      for (let i = 0; i < 64; i++) etag[i] = r.int(256);
      return {
        tracing: r.bytes(),
        url: r.text(),
        etagFormat: 0,
        etag,
        set: randomSet(r, compareBytes, compareGlobs),
      };
    },
    encodeSetSubscriptions,
    parseSetSubscriptions,
  );
});

Deno.test("set property: random bytes only ever raise ParseError", () => {
  assertOnlyParseErrors(32, vectorBytes("set_subscriptions_request"), parseSetSubscriptions);
});

Deno.test("set limits: encoder RangeErrors for long topics and a wrong etag length", () => {
  const big = { topic: new Uint8Array(65_536), recovery: null };
  assert.throws(
    () =>
      encodeSetSubscriptions({
        ...request({ exacts: [], globs: [] }),
        set: { exacts: [big], globs: [] },
      }),
    RangeError,
  );
  assert.throws(
    () =>
      encodeSetSubscriptions({ ...request({ exacts: [], globs: [] }), etag: new Uint8Array(65) }),
    RangeError,
  );
});
