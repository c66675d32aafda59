/**
 * End to end: the subscription half of the stateless protocol over a real
 * socket, a real SQLite file, raw protocol bytes.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import vectors from "./vectors/stateless.json" with { type: "json" };
import { checkEtag, post, startBroadcaster } from "./_harness.ts";
import { fromHex, toHex } from "../src/protocol/bytes.ts";
import { encodeSubscribeExact, encodeSubscribeGlob } from "../src/protocol/subscribe.ts";
import { encodeSetSubscriptions } from "../src/protocol/set.ts";
import { strongEtag } from "../src/protocol/etag.ts";
import type { SubscriptionSet } from "../src/protocol/subscription_set.ts";

const EMPTY = new Uint8Array(0);
const URL_ = "http://127.0.0.1:3010/v1/receive";
const REC = "http://127.0.0.1:3010/v1/recover";

function vector(name: string) {
  const v = vectors.messages.find((m) => m.name === name);
  if (v === undefined) throw new Error(`No vector ${name}`);
  return v as typeof v & { status?: number; etag_hex?: string };
}

Deno.test("subscribing the same (url, topic) twice gives 200 then 409", async () => {
  await using b = await startBroadcaster();
  const body = fromHex(vector("subscribe_exact_request").hex);
  const first = await post(`${b.url}/v1/subscribe/exact`, body);
  assert.equal(first.status, 200);
  assert.equal(toHex(first.body), vector("response_generic").hex);
  assert.equal(first.headers.get("content-type"), "application/octet-stream");
  const second = await post(`${b.url}/v1/subscribe/exact`, body);
  assert.equal(second.status, 409);
});

Deno.test("unsubscribing a missing subscription gives 409", async () => {
  await using b = await startBroadcaster();
  const v = vector("unsubscribe_exact_request_missing");
  const res = await post(`${b.url}/v1/unsubscribe/exact`, fromHex(v.hex));
  assert.equal(res.status, v.status);
});

Deno.test("subscribe, check and unsubscribe round trip through the store", async () => {
  await using b = await startBroadcaster();
  const sub = encodeSubscribeGlob({ url: URL_, glob: "news/*", recovery: null, tracing: EMPTY });
  assert.equal((await post(`${b.url}/v1/subscribe/glob`, sub)).status, 200);
  const withGlob = await checkEtag(b.url, URL_);
  const expected = strongEtag(URL_, { exacts: [], globs: [{ glob: "news/*", recovery: null }] });
  assert.equal(toHex(withGlob), toHex(expected));
  const unsub = encodeSubscribeGlob({ url: URL_, glob: "news/*", recovery: null, tracing: EMPTY })
    .subarray(0, 2 + URL_.length + 2 + 6);
  const res = await post(
    `${b.url}/v1/unsubscribe/glob`,
    new Uint8Array([...unsub, 0, 0]),
  );
  assert.equal(res.status, 200);
  assert.equal(
    toHex(await checkEtag(b.url, URL_)),
    toHex(strongEtag(URL_, { exacts: [], globs: [] })),
  );
});

Deno.test("check_subscriptions returns the reference's bytes for the reference's set", async () => {
  await using b = await startBroadcaster();
  for (
    const name of ["subscribe_exact_request", "subscribe_exact_request_non_utf8_topic_no_recovery"]
  ) {
    assert.equal(
      (await post(`${b.url}/v1/subscribe/exact`, fromHex(vector(name).hex))).status,
      200,
    );
  }
  const glob = await post(
    `${b.url}/v1/subscribe/glob`,
    fromHex(vector("subscribe_glob_request").hex),
  );
  assert.equal(glob.status, 200);
  const res = await post(
    `${b.url}/v1/check_subscriptions`,
    fromHex(vector("check_subscriptions_request").hex),
  );
  assert.equal(res.status, 200);
  assert.equal(toHex(res.body), vector("response_check_subscriptions").hex);
});

Deno.test("set_subscriptions vector is accepted and check returns its etag", async () => {
  await using b = await startBroadcaster();
  const v = vector("set_subscriptions_request");
  const res = await post(`${b.url}/v1/set_subscriptions`, fromHex(v.hex));
  assert.equal(res.status, 200);
  assert.equal(toHex(res.body), vector("response_generic").hex);
  assert.equal(toHex(await checkEtag(b.url, v.url!)), v.etag_hex);
});

Deno.test("set_subscriptions with a wrong etag or unsorted topics is 400 and changes nothing", async () => {
  await using b = await startBroadcaster();
  const before = await checkEtag(b.url, URL_);
  for (
    const name of ["set_subscriptions_request_wrong_etag", "set_subscriptions_request_unsorted"]
  ) {
    const res = await post(`${b.url}/v1/set_subscriptions`, fromHex(vector(name).hex));
    assert.equal(res.status, 400, name);
    assert.ok(new TextDecoder().decode(res.body).length > 1, "400 carries a reason");
  }
  assert.equal(toHex(await checkEtag(b.url, URL_)), toHex(before));
});

Deno.test("set_subscriptions with 10,000 topics leaves exactly those and returns their etag", async () => {
  await using b = await startBroadcaster();
  // Something to replace: an exact and a glob not in the new set.
  await post(
    `${b.url}/v1/subscribe/exact`,
    encodeSubscribeExact({
      url: URL_,
      topic: new TextEncoder().encode("old"),
      recovery: null,
      tracing: EMPTY,
    }),
  );
  const topics = Array.from({ length: 10_000 }, (_, i) => `topic/${String(i).padStart(5, "0")}`);
  const set: SubscriptionSet = {
    exacts: topics.map((t, i) => ({
      topic: new TextEncoder().encode(t),
      recovery: i % 2 === 0 ? REC : null,
    })),
    globs: [{ glob: "a*", recovery: REC }, { glob: "b?", recovery: null }],
  };
  const etag = strongEtag(URL_, set);
  const body = encodeSetSubscriptions({ tracing: EMPTY, url: URL_, etagFormat: 0, etag, set });
  const res = await post(`${b.url}/v1/set_subscriptions`, body);
  assert.equal(res.status, 200);
  assert.equal(toHex(await checkEtag(b.url, URL_)), toHex(etag));
  const stored = await b.broadcaster.store.listSubscriptions(URL_);
  assert.notEqual(stored, "unavailable");
  if (stored === "unavailable") return;
  assert.equal(stored.exacts.length, 10_000);
  assert.equal(stored.globs.length, 2);
});

Deno.test("trailing bytes after a well-formed body are rejected with 400 (project decision)", async () => {
  await using b = await startBroadcaster();
  const v = vector("subscribe_exact_request_trailing_bytes");
  const res = await post(`${b.url}/v1/subscribe/exact`, fromHex(v.hex));
  assert.equal(res.status, 400);
});

Deno.test("malformed vectors answer 400 with a reason", async () => {
  await using b = await startBroadcaster();
  const cases: [string, string][] = [
    ["subscribe_exact_request_truncated", "/v1/subscribe/exact"],
    ["subscribe_glob_request_invalid_utf8", "/v1/subscribe/glob"],
  ];
  for (const [name, path] of cases) {
    const res = await post(`${b.url}${path}`, fromHex(vector(name).hex));
    assert.equal(res.status, 400, name);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
  }
});

Deno.test("glob patterns longer than 50,000 bytes are refused at subscribe time", async () => {
  await using b = await startBroadcaster();
  const body = encodeSubscribeGlob({
    url: URL_,
    glob: "a".repeat(50_001),
    recovery: null,
    tracing: EMPTY,
  });
  assert.equal((await post(`${b.url}/v1/subscribe/glob`, body)).status, 400);
  const okBody = encodeSubscribeGlob({
    url: URL_,
    glob: "a".repeat(50_000),
    recovery: null,
    tracing: EMPTY,
  });
  assert.equal((await post(`${b.url}/v1/subscribe/glob`, okBody)).status, 200);
});

Deno.test("unknown paths are 404, wrong methods 405, and a path prefix mounts the routes", async () => {
  await using b = await startBroadcaster({ pathPrefix: "/pubsub" });
  assert.equal((await post(`${b.url}/v1/nope`, EMPTY)).status, 404);
  const get = await post(`${b.url}/v1/subscribe/exact`, EMPTY, {}, "GET");
  assert.equal(get.status, 405);
  assert.equal(get.headers.get("allow"), "POST");
  const root = b.url.replace("/pubsub", "");
  assert.equal((await post(`${root}/v1/subscribe/exact`, EMPTY)).status, 404);
  const body = fromHex(vector("subscribe_exact_request").hex);
  assert.equal((await post(`${b.url}/v1/subscribe/exact`, body)).status, 200);
});

Deno.test("a body over the configured limit is refused with 413 before it is read whole", async () => {
  await using b = await startBroadcaster({ limits: { maxBodyBytes: 1024 } });
  const res = await post(`${b.url}/v1/set_subscriptions`, new Uint8Array(4096));
  assert.equal(res.status, 413);
  const chunked = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < 8; i++) c.enqueue(new Uint8Array(512));
      c.close();
    },
  });
  assert.equal((await post(`${b.url}/v1/set_subscriptions`, chunked)).status, 413);
});

Deno.test("subscriptions survive a restart of the broadcaster on the same file", async () => {
  await using b = await startBroadcaster();
  const body = fromHex(vector("subscribe_exact_request").hex);
  assert.equal((await post(`${b.url}/v1/subscribe/exact`, body)).status, 200);
  await b.server.shutdown();
  await using again = await startBroadcaster({ database: b.dbPath });
  assert.equal((await post(`${again.url}/v1/subscribe/exact`, body)).status, 409);
});

Deno.test("the strong etag of the empty set matches the vector", () => {
  const e = vectors.strong_etags.find((s) => s.name === "empty")!;
  const digest = createHash("sha512").update(fromHex(e.document_hex)).digest("hex");
  assert.equal(digest, e.etag_hex);
  assert.equal(toHex(strongEtag(e.url, { exacts: [], globs: [] })), e.etag_hex);
});
