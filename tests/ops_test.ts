/**
 * End to end: `/healthz`, `/readyz` and `/metrics` under the path prefix,
 * the metrics read back with a real Prometheus text-format parser after real
 * traffic (a notify to a confirming and a failing subscriber).
 */

import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { notifyOver, post, startBroadcaster } from "./_harness.ts";
import { TestSubscriber } from "./_subscriber.ts";
import { encodeSubscribeExact } from "../src/protocol/subscribe.ts";

const TOPIC = new TextEncoder().encode("ops");

/** One parsed metric family (the parser's shape). */
interface Family {
  name: string;
  help: string;
  type: string;
  metrics: {
    labels?: Record<string, string>;
    value?: string;
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }[];
}

async function scrape(url: string, headers: Record<string, string> = {}): Promise<Family[]> {
  const res = await fetch(url, { headers });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return parsePrometheusTextFormat(await res.text()) as Family[];
}

/** The value of `name` with exactly these labels (undefined when absent). */
function value(families: Family[], name: string, labels: Record<string, string> = {}) {
  const family = families.find((f) => f.name === name);
  assert.ok(family !== undefined, `no family ${name}`);
  const m = family.metrics.find((m) =>
    JSON.stringify(Object.entries(m.labels ?? {}).sort()) ===
      JSON.stringify(Object.entries(labels).sort())
  );
  return m?.value === undefined ? undefined : Number(m.value);
}

async function get(url: string, method = "GET"): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method });
  return { status: res.status, text: await res.text() };
}

Deno.test("healthz, readyz and metrics answer under the prefix; metrics parse and count real traffic", async () => {
  await using b = await startBroadcaster({ pathPrefix: "/pubsub" });
  await using sub = new TestSubscriber((path) =>
    path === "/fail" ? { kind: "fail500" } : { kind: "confirm" }
  );
  assert.deepEqual(await get(`${b.url}/healthz`), { status: 200, text: "ok\n" });
  assert.deepEqual(await get(`${b.url}/readyz`), { status: 200, text: "ready\n" });
  assert.equal((await get(`${b.url}/healthz`, "HEAD")).status, 200);
  assert.equal((await get(`${b.url}/metrics`, "POST")).status, 405);
  assert.equal((await get(b.url.replace("/pubsub", "") + "/metrics")).status, 404);

  const subscribe = encodeSubscribeExact({
    url: sub.url("/ok"),
    recovery: null,
    topic: TOPIC,
    tracing: new Uint8Array(0),
  });
  assert.equal((await post(`${b.url}/v1/subscribe/exact`, subscribe)).status, 200);
  await b.broadcaster.store.subscribeExact(sub.url("/fail"), TOPIC, sub.url("/recover"));
  assert.equal(await notifyOver(b.url, TOPIC, new Uint8Array(100)), 1);
  assert.equal((await post(`${b.url}/v1/nope`, new Uint8Array(0))).status, 404);

  const families = await scrape(`${b.url}/metrics`);
  for (const f of families) assert.ok(f.help.length > 0, `${f.name} has help`);
  const requests = (route: string, status: string) =>
    value(families, "lonelypss_http_requests_total", { route, status });
  assert.equal(requests("/v1/subscribe/exact", "200"), 1);
  assert.equal(requests("/v1/notify", "200"), 1);
  assert.equal(requests("other", "404"), 2);
  assert.equal(requests("/healthz", "200"), 2);
  assert.equal(requests("/metrics", "405"), 1);
  assert.equal(value(families, "lonelypss_notifies_total"), 1);
  assert.equal(value(families, "lonelypss_received_bytes_total"), 100);
  assert.equal(value(families, "lonelypss_sent_bytes_total"), 200);
  const deliveries = (outcome: string) =>
    value(families, "lonelypss_deliveries_total", { kind: "receive", outcome });
  assert.equal(deliveries("confirmed"), 1);
  assert.equal(deliveries("failed"), 1);
  const histogram = families.find((f) => f.name === "lonelypss_receive_duration_seconds")!;
  assert.equal(histogram.type, "HISTOGRAM");
  const receive = histogram.metrics[0]!;
  assert.equal(Number(receive.count), 2);
  assert.equal(Number(receive.buckets!["+Inf"]), 2);
  assert.ok(Number(receive.sum) > 0);
  assert.equal(value(families, "lonelypss_deliveries_in_flight"), 0);
  // The scrape itself is in flight.
  assert.equal(value(families, "lonelypss_http_requests_in_flight"), 1);
  assert.equal(value(families, "lonelypss_missed_pending"), 1);
  assert.equal(value(families, "lonelypss_spool_bytes"), 0);
  assert.equal(value(families, "lonelypss_open_connections", { kind: "websocket" }), 0);
  assert.equal(value(families, "lonelypss_open_connections", { kind: "outgoing" }), 0);
  // The Deno adapter accepts connections itself: the scrape's own is open.
  assert.ok(Number(value(families, "lonelypss_open_connections", { kind: "incoming" })) >= 1);
  assert.equal(
    value(families, "lonelypss_store_errors_total", { op: "getSubscribers" }),
    undefined,
  );
});

Deno.test("each operations endpoint can be turned off; metrics can require a bearer token", async () => {
  await using b = await startBroadcaster({
    operations: { healthz: false, readyz: false, metricsToken: "s3cret" },
  });
  assert.equal((await get(`${b.url}/healthz`)).status, 404);
  assert.equal((await get(`${b.url}/readyz`)).status, 404);
  const denied = await fetch(`${b.url}/metrics`);
  assert.equal(denied.status, 401);
  assert.equal(denied.headers.get("www-authenticate"), "Bearer");
  await denied.body?.cancel();
  const wrong = await fetch(`${b.url}/metrics`, { headers: { authorization: "Bearer nope" } });
  assert.equal(wrong.status, 401);
  await wrong.body?.cancel();
  const families = await scrape(`${b.url}/metrics`, { authorization: "Bearer s3cret" });
  assert.equal(value(families, "lonelypss_notifies_total"), 0);
  await using off = await startBroadcaster({ operations: { metrics: false } });
  assert.equal((await get(`${off.url}/metrics`)).status, 404);
  assert.equal((await get(`${off.url}/healthz`)).status, 200);
});

Deno.test("readyz answers 503 while shutting down, and when the database file is gone", async () => {
  await using b = await startBroadcaster();
  await using sub = new TestSubscriber();
  await b.broadcaster.store.subscribeExact(sub.url("/r"), TOPIC, null);
  sub.hold();
  const notified = notifyOver(b.url, TOPIC, new Uint8Array([1]));
  await sub.waitForHeld();
  // Shutdown waits for the notify in flight: meanwhile the process is not ready.
  const closing = b.broadcaster.close(5_000);
  assert.deepEqual(await get(`${b.url}/readyz`), { status: 503, text: "Shutting down\n" });
  assert.equal((await get(`${b.url}/healthz`)).status, 200);
  sub.release();
  await notified;
  await closing;

  await using c = await startBroadcaster();
  await rm(c.dbPath);
  assert.deepEqual(await get(`${c.url}/readyz`), { status: 503, text: "Storage unavailable\n" });
  const families = await scrape(`${c.url}/metrics`);
  assert.equal(value(families, "lonelypss_store_errors_total", { op: "ping" }), 1);
  assert.equal(value(families, "lonelypss_missed_pending"), undefined);
});
