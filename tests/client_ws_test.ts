/**
 * The websocket client against our broadcaster: every auth combination,
 * exact and glob, several subscribers, streamed parts both ways, zstd.
 */

import assert from "node:assert/strict";
import { connectHttp, connectWebsocket } from "../src/client/mod.ts";
import { startBroadcaster } from "./_harness.ts";
import { AUTH_COMBOS, authPair, nextWithin } from "./_client.ts";

const wsUrl = (http: string) => http.replace(/^http/, "ws") + "/v1/websocket";

for (const [b, s] of AUTH_COMBOS) {
  Deno.test(`ws client: publish and receive, auth ${b}/${s}`, async () => {
    const pair = authPair(b, s);
    await using bc = await startBroadcaster({ auth: pair.broadcaster });
    await using a = await connectWebsocket({ broadcasters: [wsUrl(bc.url)], auth: pair.client() });
    await using c = await connectWebsocket({ broadcasters: [wsUrl(bc.url)], auth: pair.client() });
    const exact = await a.subscribeExact("orders/1");
    const glob = await c.subscribeGlob("orders/*");
    assert.equal((await a.notify("orders/1", "hello")).notified, 2);
    assert.equal(await (await nextWithin(exact[Symbol.asyncIterator]())).text(), "hello");
    assert.equal(await (await nextWithin(glob[Symbol.asyncIterator]())).text(), "hello");
    // several parts each way (every part signed and acknowledged)
    const big = new Uint8Array(10_000).map((_, i) => i % 251);
    await using small = await connectWebsocket({
      broadcasters: [wsUrl(bc.url)],
      auth: pair.client(),
      maxFrameBytes: 2048,
    });
    assert.equal((await small.notify("orders/2", big)).notified, 1);
    const got = await nextWithin(glob[Symbol.asyncIterator]());
    assert.deepEqual(await got.bytes(), big);
  });
}

Deno.test("ws client: reference counting, unsubscribe, http and ws on one broadcaster", async () => {
  await using bc = await startBroadcaster();
  await using ws = await connectWebsocket({ broadcasters: [wsUrl(bc.url)] });
  await using pub = await connectHttp({ broadcasters: [bc.url] });
  const one = await ws.subscribeExact("t");
  const two = await ws.subscribeExact("t");
  assert.equal((await pub.notify("t", "x")).notified, 1, "one subscription at the broadcaster");
  assert.equal(await (await nextWithin(one[Symbol.asyncIterator]())).text(), "x");
  assert.equal(await (await nextWithin(two[Symbol.asyncIterator]())).text(), "x");
  await one.unsubscribe();
  assert.equal((await pub.notify("t", "y")).notified, 1, "still held by the second");
  assert.equal(await (await nextWithin(two[Symbol.asyncIterator]())).text(), "y");
  await two.unsubscribe();
  assert.equal((await pub.notify("t", "z")).notified, 0);
  const again = await ws.subscribeExact("t");
  assert.equal((await pub.notify("t", "w")).notified, 1);
  assert.equal(await (await nextWithin(again[Symbol.asyncIterator]())).text(), "w");
});

Deno.test("ws client: zstd both ways", async () => {
  await using bc = await startBroadcaster();
  await using ws = await connectWebsocket({
    broadcasters: [wsUrl(bc.url)],
    compression: { enabled: true },
  });
  const sub = await ws.subscribeExact("z");
  const text = "compress me ".repeat(5000);
  assert.equal((await ws.notify("z", text)).notified, 1);
  assert.equal(await (await nextWithin(sub[Symbol.asyncIterator]())).text(), text);
});
