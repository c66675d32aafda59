/**
 * The websocket transport end to end on Deno: configure, subscribe,
 * publish over the websocket and over HTTP, receive in parts, unsubscribe.
 *
 * @module
 */

import assert from "node:assert/strict";

import { notifyOver, startBroadcaster } from "./_harness.ts";
import { WsClient } from "./_ws_client.ts";

const enc = (s: string) => new TextEncoder().encode(s);

for (const front of [true, false]) {
  Deno.test(`websocket: subscribe, notify over the websocket and over HTTP, receive once (Deno front ${front ? "on" : "off"})`, async () => {
    await using b = await startBroadcaster({ limits: { websocketMaxMessageBytes: 4096 } }, {
      front,
    });
    await using client = await WsClient.connect(b.url);
    await client.configure();
    await client.subscription("subscribe_exact", enc("demo/exact"));
    await client.subscription("subscribe_glob", "demo/*");

    // Exact and glob both match: one delivery, counted once.
    const small = enc("hello websocket");
    const countP = client.notify(enc("demo/exact"), small);
    const got = await client.receive();
    assert.equal(await countP, 1);
    assert.deepEqual(got.message, small);

    const large = crypto.getRandomValues(new Uint8Array(10_000));
    assert.equal(await notifyOver(b.url, enc("demo/other"), large), 1);
    const big = await client.receive();
    assert.deepEqual(big.message, large);
    assert.equal(big.parts, 3);

    await client.subscription("unsubscribe_glob", "demo/*");
    await client.subscription("unsubscribe_exact", enc("demo/exact"));
    assert.equal(await notifyOver(b.url, enc("demo/exact"), small), 0);
    assert.equal((await client.close()).code, 1000);
  });
}

Deno.test("websocket: past the queued-bytes limit a delivery becomes MISSED for its topic", async () => {
  await using b = await startBroadcaster({
    limits: { websocketMaxQueuedBytes: 1000, websocketMaxUnacknowledged: 1 },
  });
  await using client = await WsClient.connect(b.url);
  await client.configure();
  const topic = enc("slow/topic");
  await client.subscription("subscribe_exact", topic);
  const message = new Uint8Array(800).fill(7);
  // The first goes out and waits for its ack; the second waits in the queue;
  // the third would pass 1000 queued bytes.
  assert.equal(await notifyOver(b.url, topic, message), 1);
  assert.equal(await notifyOver(b.url, topic, message), 1);
  assert.equal(await notifyOver(b.url, topic, message), 0);
  assert.deepEqual((await client.receive()).message, message);
  assert.deepEqual((await client.receive()).message, message);
  const missed = await client.expect("missed");
  assert.deepEqual(missed.topic, topic);
  // Signed with the next broadcaster counter value, after the two deliveries.
  assert.equal(client.broadcasterCounter, 3);
  client.broadcasterCounter++;
  // The connection stays usable (overflowing again before that MISSED went
  // out would have closed it with 1013: tests/ws_hostile_load_test.ts).
  assert.equal(await notifyOver(b.url, topic, message), 1);
  assert.deepEqual((await client.receive()).message, message);
});
