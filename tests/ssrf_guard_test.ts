/**
 * End to end, on loopback only: with the SSRF guard on, a delivery to a
 * loopback subscriber (by address or by the name `localhost`) is refused,
 * logged and counted as failed; once 127.0.0.0/8 is allow-listed the same
 * subscriber is reached (through a connection pinned to the checked address).
 */

import assert from "node:assert/strict";
import { notifyOver, startBroadcaster } from "./_harness.ts";
import { TestSubscriber } from "./_subscriber.ts";
import { recordingLogger } from "../src/log.ts";
import type { Store } from "../src/storage/types.ts";

const TOPIC = new TextEncoder().encode("ssrf");

/** Subscribes `sub` twice: by its address and by the name `localhost`. */
async function subscribeByAddressAndName(store: Store, sub: TestSubscriber): Promise<void> {
  await store.subscribeExact(sub.url("/by-address"), TOPIC, null);
  await store.subscribeExact(sub.url("/by-name").replace("127.0.0.1", "localhost"), TOPIC, null);
}

Deno.test("the SSRF guard refuses a loopback callback: logged, counted as failed, nothing sent", async () => {
  const log = recordingLogger();
  await using b = await startBroadcaster({ logger: log, ssrfGuard: { enabled: true } });
  await using sub = new TestSubscriber();
  await subscribeByAddressAndName(b.broadcaster.store, sub);
  assert.equal(await notifyOver(b.url, TOPIC, new Uint8Array([1])), 0);
  assert.equal(sub.received.length, 0);
  const logged = log.lines.join("\n");
  assert.match(logged, /Delivery refused by the SSRF guard.*127\.0\.0\.1 \(loopback\)/);
  assert.match(logged, /RECEIVE failed.*by-name.*localhost resolves to .*\(loopback\)/);
  const metrics = await (await fetch(`${b.url}/metrics`)).text();
  assert.match(metrics, /lonelypss_ssrf_refusals_total 2\n/);
  assert.match(metrics, /lonelypss_deliveries_total\{kind="receive",outcome="failed"\} 2\n/);
});

Deno.test("the SSRF guard lets an allow-listed network through", async () => {
  await using b = await startBroadcaster({
    ssrfGuard: { enabled: true, allow: ["127.0.0.0/8"] },
  });
  await using sub = new TestSubscriber();
  await subscribeByAddressAndName(b.broadcaster.store, sub);
  assert.equal(await notifyOver(b.url, TOPIC, new Uint8Array([1])), 2);
  assert.deepEqual(sub.received.map((r) => r.path).sort(), ["/by-address", "/by-name"]);
  // The Host header still names the subscriber's own host.
  const byName = sub.receivedAt("/by-name")[0]!;
  assert.match(byName.headers.get("host") ?? "", /^localhost:\d+$/);
});

Deno.test("an allow-list entry that is not a CIDR block is refused at start", async () => {
  await assert.rejects(
    startBroadcaster({ ssrfGuard: { enabled: true, allow: ["10.0.0.0/33"] } }),
    RangeError,
  );
});
