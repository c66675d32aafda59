/**
 * End to end: subscribe and set_subscriptions refuse callback urls that are
 * not absolute http(s) urls, or that carry credentials, with 400 and a
 * reason (docs/decisions.md#redirects-and-callback-urls); nothing is stored.
 */

import assert from "node:assert/strict";
import { post, startBroadcaster } from "./_harness.ts";
import { encodeSubscribeExact, encodeSubscribeGlob } from "../src/protocol/subscribe.ts";
import { encodeSetSubscriptions } from "../src/protocol/set.ts";
import { strongEtag } from "../src/protocol/etag.ts";

const NONE = new Uint8Array(0);
const TOPIC = new TextEncoder().encode("t");
const GOOD = "http://127.0.0.1:3002/v1/receive";

Deno.test("subscribe refuses a callback or recovery url that is not absolute http(s), with a reason", async () => {
  await using b = await startBroadcaster();
  const cases: [string, string | null, RegExp][] = [
    ["ftp://example.com/r", null, /must be http or https/],
    ["/v1/receive", null, /must be an absolute url/],
    ["http://user:secret@127.0.0.1/r", null, /must not carry credentials/],
    [GOOD, "file:///etc/passwd", /must be http or https/],
    [GOOD, "http:127.0.0.1/missed", /scheme:\/\/host/],
  ];
  for (const [url, recovery, reason] of cases) {
    const bodies = {
      exact: encodeSubscribeExact({ url, recovery, topic: TOPIC, tracing: NONE }),
      glob: encodeSubscribeGlob({ url, recovery, glob: "t*", tracing: NONE }),
    };
    for (const [kind, body] of Object.entries(bodies)) {
      const res = await post(`${b.url}/v1/subscribe/${kind}`, body);
      const text = new TextDecoder().decode(res.body);
      assert.equal(res.status, 400, `${kind} ${url} ${recovery}`);
      assert.match(text, /^Invalid callback url: /);
      assert.match(text, reason);
    }
  }
  assert.deepEqual(await b.broadcaster.store.getSubscribers(TOPIC), []);
  const ok = encodeSubscribeExact({ url: GOOD, recovery: GOOD, topic: TOPIC, tracing: NONE });
  assert.equal((await post(`${b.url}/v1/subscribe/exact`, ok)).status, 200);
});

Deno.test("set_subscriptions refuses a bad url or recovery url and changes nothing", async () => {
  await using b = await startBroadcaster();
  const send = (url: string, recovery: string | null) => {
    const set = { exacts: [{ topic: TOPIC, recovery }], globs: [] };
    const etag = strongEtag(url, set);
    return post(
      `${b.url}/v1/set_subscriptions`,
      encodeSetSubscriptions({ tracing: NONE, url, etagFormat: 0, etag, set }),
    );
  };
  const bad = await send(GOOD, "gopher://127.0.0.1/");
  assert.equal(bad.status, 400);
  assert.match(new TextDecoder().decode(bad.body), /Invalid callback url: must be http or https/);
  assert.equal((await send("http://a:b@127.0.0.1/", null)).status, 400);
  assert.deepEqual(await b.broadcaster.store.getSubscribers(TOPIC), []);
  assert.equal((await send(GOOD, GOOD)).status, 200);
});
