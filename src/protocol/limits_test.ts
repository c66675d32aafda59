import assert from "node:assert/strict";
import { ParseError } from "./bytes.ts";
import {
  encodeCheckSubscriptions,
  MAX_CHECK_SUBSCRIPTIONS_BYTES,
  parseCheckSubscriptions,
} from "./check.ts";
import {
  encodeSetSubscriptions,
  MAX_SET_SUBSCRIPTIONS_HEAD_BYTES,
  parseSetSubscriptionsHead,
} from "./set.ts";
import {
  encodeSubscribeExact,
  encodeSubscribeGlob,
  encodeUnsubscribeExact,
  encodeUnsubscribeGlob,
  MAX_SUBSCRIBE_EXACT_BYTES,
  MAX_SUBSCRIBE_GLOB_BYTES,
  MAX_UNSUBSCRIBE_EXACT_BYTES,
  MAX_UNSUBSCRIBE_GLOB_BYTES,
  parseSubscribeExact,
  parseSubscribeGlob,
  parseUnsubscribeExact,
  parseUnsubscribeGlob,
} from "./subscribe.ts";
import { MAX_GLOB_BYTES } from "./types.ts";

const LONG_URL = "http://a/" + "x".repeat(0xffff - 9);
const LONG_BYTES = new Uint8Array(0xffff).fill(7);
const LONG_GLOB = "g".repeat(MAX_GLOB_BYTES);

Deno.test("the route size limits are the longest valid bodies, which still parse", () => {
  const cases: [number, Uint8Array, (b: Uint8Array) => unknown][] = [
    [
      MAX_SUBSCRIBE_EXACT_BYTES,
      encodeSubscribeExact({
        url: LONG_URL,
        topic: LONG_BYTES,
        recovery: LONG_URL,
        tracing: LONG_BYTES,
      }),
      parseSubscribeExact,
    ],
    [
      MAX_SUBSCRIBE_GLOB_BYTES,
      encodeSubscribeGlob({
        url: LONG_URL,
        glob: LONG_GLOB,
        recovery: LONG_URL,
        tracing: LONG_BYTES,
      }),
      parseSubscribeGlob,
    ],
    [
      MAX_UNSUBSCRIBE_EXACT_BYTES,
      encodeUnsubscribeExact({ url: LONG_URL, topic: LONG_BYTES, tracing: LONG_BYTES }),
      parseUnsubscribeExact,
    ],
    [
      MAX_UNSUBSCRIBE_GLOB_BYTES,
      encodeUnsubscribeGlob({ url: LONG_URL, glob: LONG_GLOB, tracing: LONG_BYTES }),
      parseUnsubscribeGlob,
    ],
    [
      MAX_CHECK_SUBSCRIPTIONS_BYTES,
      encodeCheckSubscriptions({ tracing: LONG_BYTES, url: LONG_URL }),
      parseCheckSubscriptions,
    ],
  ];
  for (const [max, body, parse] of cases) {
    assert.equal(body.length, max);
    parse(body);
  }
  assert.ok(MAX_SUBSCRIBE_EXACT_BYTES < 257 * 1024, "a subscribe is at most ~256 KiB");
});

Deno.test("parseSetSubscriptionsHead reads what the authorization covers, before the lists", () => {
  const etag = new Uint8Array(64).fill(9);
  const body = encodeSetSubscriptions({
    tracing: LONG_BYTES,
    url: LONG_URL,
    etagFormat: 0,
    etag,
    set: { exacts: [{ topic: new Uint8Array([1]), recovery: null }], globs: [] },
  });
  const headLength = MAX_SET_SUBSCRIPTIONS_HEAD_BYTES;
  for (const cut of [0, 1, 2, 100, headLength - 1]) {
    assert.equal(parseSetSubscriptionsHead(body.subarray(0, cut)), null, `${cut}`);
  }
  const head = parseSetSubscriptionsHead(body.subarray(0, headLength));
  assert.equal(head?.url, LONG_URL);
  assert.deepEqual(head?.etag, etag);
  const badFormat = body.slice(0, headLength);
  badFormat[2 + 0xffff + 2 + 0xffff] = 1;
  assert.throws(() => parseSetSubscriptionsHead(badFormat), ParseError);
});
