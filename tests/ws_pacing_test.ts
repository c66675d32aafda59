/**
 * Notifies are paced by this process's websocket subscribers: a fan-out waits
 * while a subscriber's outgoing queue is half full and the subscriber keeps
 * reading, instead of outrunning it into websocketMaxPendingSends (a 1013
 * close, and every message queued for it lost: what the reference suite's
 * trained-compression stress test saw as ~277 missing messages, the queue's
 * 255 and the official client's reconnect). A subscriber that stops reading
 * is waited for once (websocketStallTimeoutMs), then closed by the overflow.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CloseCode } from "../src/ws/close.ts";
import { startBroadcaster } from "./_harness.ts";
import { WsClient } from "./_ws_client.ts";
import { assertClosed, enc, eventually, httpNotify } from "./_ws_checks.ts";

const TOPIC = enc("pacing/topic");
const COUNT = 20;
const LIMITS = { websocketMaxPendingSends: 8, websocketMaxUnacknowledged: 1 };

// Deterministic: every one of the COUNT fan-outs has started (the notify
// counter is taken before a fan-out waits for room) before the subscriber
// acknowledges anything. Without pacing they have all queued their delivery
// by then, and the 11th overflowed the queue of 8 (close 1013).
Deno.test("ws pacing: notifies faster than the subscriber wait for room; it gets every one", async () => {
  await using b = await startBroadcaster({
    limits: { ...LIMITS, websocketStallTimeoutMs: 60_000 },
  });
  await using client = await WsClient.connect(b.url);
  await client.configure();
  await client.subscription("subscribe_exact", TOPIC);
  const bodies = Array.from({ length: COUNT }, (_, i) => enc(`message ${i}`));
  const notifies = bodies.map((body) => httpNotify(b.url, TOPIC, body));
  await eventually(() => b.broadcaster.metrics.notifies >= COUNT, "every fan-out to start");
  const received: string[] = [];
  for (let i = 0; i < COUNT; i++) {
    received.push(new TextDecoder().decode((await client.receive()).message));
  }
  assert.deepEqual(await Promise.all(notifies), bodies.map(() => 1));
  assert.deepEqual(received.sort(), bodies.map((b) => new TextDecoder().decode(b)).sort());
  // Still open: a notify after all that is delivered too.
  const last = httpNotify(b.url, TOPIC, enc("last"));
  assert.equal(new TextDecoder().decode((await client.receive()).message), "last");
  assert.equal(await last, 1);
});

Deno.test("ws pacing: a subscriber that stops reading is waited for once, then closed 1013", async () => {
  await using b = await startBroadcaster({
    limits: { ...LIMITS, websocketStallTimeoutMs: 200 },
  });
  await using client = await WsClient.connect(b.url);
  await client.configure();
  await client.subscription("subscribe_exact", TOPIC);
  // Sequential notifies, nothing acknowledged: after one stall the queue
  // fills and overflows; every notify is answered.
  const counts: number[] = [];
  for (let i = 0; i < COUNT; i++) counts.push(await httpNotify(b.url, TOPIC, enc(`m${i}`)));
  await assertClosed(client, CloseCode.TRY_AGAIN_LATER, "Outgoing queue full: client too slow");
  // Queued until the overflow (1), then nobody (0).
  assert.ok(counts.includes(1) && counts.at(-1) === 0, `counts ${counts}`);
});
