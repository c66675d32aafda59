/**
 * End to end: 1,000 malformed bodies per route get 4xx answers, never a 5xx,
 * a hang or a crash, and the server keeps serving.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { post, startBroadcaster } from "./_harness.ts";
import { encodeSubscribeExact, encodeSubscribeGlob } from "../src/protocol/subscribe.ts";
import { encodeCheckSubscriptions } from "../src/protocol/check.ts";
import { encodeSetSubscriptions } from "../src/protocol/set.ts";
import { encodeNotify } from "../src/protocol/notify.ts";
import { strongEtag } from "../src/protocol/etag.ts";

const EMPTY = new Uint8Array(0);
const enc = (s: string) => new TextEncoder().encode(s);
const URL_ = "http://127.0.0.1:9/v1/receive";
const set = {
  exacts: [{ topic: enc("a"), recovery: null }],
  globs: [{ glob: "b*", recovery: URL_ }],
};
const message = enc("hello");

/** A well-formed body per route; malformed ones are derived from it. */
const VALID: Record<string, Uint8Array> = {
  "/v1/subscribe/exact": encodeSubscribeExact({
    url: URL_,
    topic: enc("t"),
    recovery: URL_,
    tracing: EMPTY,
  }),
  "/v1/subscribe/glob": encodeSubscribeGlob({
    url: URL_,
    glob: "t/*",
    recovery: null,
    tracing: EMPTY,
  }),
  "/v1/unsubscribe/exact": new Uint8Array([0, 1, 0x61, 0, 1, 0x74, 0, 0]),
  "/v1/unsubscribe/glob": new Uint8Array([0, 1, 0x61, 0, 1, 0x2a, 0, 0]),
  "/v1/check_subscriptions": encodeCheckSubscriptions({ tracing: EMPTY, url: URL_ }),
  "/v1/set_subscriptions": encodeSetSubscriptions({
    tracing: EMPTY,
    url: URL_,
    etagFormat: 0,
    etag: strongEtag(URL_, set),
    set,
  }),
  "/v1/notify": encodeNotify({
    topic: enc("nobody/listens"),
    sha512: new Uint8Array(createHash("sha512").update(message).digest()),
    tracing: EMPTY,
    identifier: new Uint8Array([1, 2, 3, 4]),
  }, message),
};

/** A small deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(rand: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

/** Bodies that can never be valid: strict prefixes, or valid + trailing bytes. */
function malformed(rand: () => number, valid: Uint8Array, i: number): Uint8Array {
  if (i % 2 === 0) return valid.subarray(0, Math.floor(rand() * valid.length));
  const tail = randomBytes(rand, 1 + Math.floor(rand() * 16));
  const out = new Uint8Array(valid.length + tail.length);
  out.set(valid);
  out.set(tail, valid.length);
  return out;
}

for (const [path, valid] of Object.entries(VALID)) {
  Deno.test(`${path} answers 1,000 malformed bodies with 4xx and keeps serving`, async () => {
    await using b = await startBroadcaster();
    const rand = prng(path.length * 7919);
    const statuses = new Map<number, number>();
    for (let batch = 0; batch < 1000; batch += 25) {
      await Promise.all(Array.from({ length: 25 }, async (_, j) => {
        const i = batch + j;
        // Every third body is pure noise, which might by chance be valid: it must
        // still never produce a 5xx. The others are malformed by construction.
        const noise = i % 3 === 2;
        const body = noise ? randomBytes(rand, Math.floor(rand() * 64)) : malformed(rand, valid, i);
        const res = await post(`${b.url}${path}`, body);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (noise) assert.ok(res.status < 500, `noise body got ${res.status}`);
        else assert.equal(res.status, 400, `malformed body got ${res.status}`);
      }));
    }
    assert.ok((statuses.get(400) ?? 0) >= 600);
    // Nothing was subscribed, so a valid unsubscribe is a 409 ("does not exist").
    const expected = path.startsWith("/v1/unsubscribe/") ? 409 : 200;
    const ok = await post(`${b.url}${path}`, valid);
    assert.equal(ok.status, expected, "still serving a valid request afterwards");
  });
}
