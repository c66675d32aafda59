/**
 * Delivery statistics end to end: a real broadcaster on a SQLite file, real
 * subscribers that confirm, answer 500, never answer, or refuse the
 * connection; the stored statistics and `/metrics` must say so.
 */

import assert from "node:assert/strict";
import { notifyOver, startBroadcaster } from "./_harness.ts";
import { subscribeOver } from "./_cli.ts";
import { TestSubscriber } from "./_subscriber.ts";
import { openSqliteStore } from "../src/storage/sqlite/store.ts";
import type { SubscriptionStats } from "../src/storage/types.ts";

const TOPIC = new TextEncoder().encode("stats/t");

/** A loopback url nobody listens on (a port just closed). */
function refusedUrl(): string {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return `http://127.0.0.1:${port}/v1/receive`;
}

Deno.test("statistics count successes, 500s, timeouts and refusals per subscription", async () => {
  let flakyCalls = 0;
  const sub = new TestSubscriber((path) => {
    if (path === "/ok") return { kind: "confirm" };
    if (path === "/fail") return { kind: "fail500" };
    if (path === "/hang") return { kind: "hang" };
    return ++flakyCalls <= 2 ? { kind: "fail500" } : { kind: "confirm" };
  });
  await using tb = await startBroadcaster({
    limits: { totalTimeoutMs: 400, readIdleTimeoutMs: 400, connectTimeoutMs: 400 },
    // Only explicit flushes, so the test decides when statistics are written.
    subscriptions: { statsFlushIntervalMs: 3_600_000 },
  });
  try {
    const refused = refusedUrl();
    const urls = {
      ok: sub.url("/ok"),
      fail: sub.url("/fail"),
      hang: sub.url("/hang"),
      flaky: sub.url("/flaky"),
      refused,
    };
    for (const u of Object.values(urls)) assert.equal(await subscribeOver(tb.url, u, TOPIC), 200);
    const before = Date.now();
    for (let i = 0; i < 3; i++) {
      await notifyOver(tb.url, TOPIC, new Uint8Array([i]));
      if (i === 1) await tb.broadcaster.flushStats(); // two batches, merged in the store
    }
    await tb.broadcaster.flushStats();
    const page = await tb.broadcaster.store.listSubscriptionStats({ limit: 10, offset: 0 });
    assert.ok(page !== "unavailable");
    const by = new Map<string, SubscriptionStats>(page.rows.map((r) => [r.url, r]));
    const row = (u: string) => {
      const r = by.get(u)!;
      return [r.deliveries, r.failures, r.consecutiveFailures, r.lastFailure];
    };
    assert.deepEqual(row(urls.ok), [3, 0, 0, null]);
    assert.deepEqual(row(urls.fail), [3, 3, 3, "http 500"]);
    assert.deepEqual(row(urls.hang), [3, 3, 3, "timeout"]);
    assert.deepEqual(row(urls.refused), [3, 3, 3, "refused"]);
    assert.deepEqual(row(urls.flaky), [3, 2, 0, "http 500"]);
    const ok = by.get(urls.ok)!;
    assert.ok(ok.lastSuccessAt! >= before && ok.lastAttemptAt === ok.lastSuccessAt);
    assert.equal(ok.failingSince, null);
    assert.ok(by.get(urls.fail)!.failingSince! >= before);
    // Failing first in the listing.
    assert.deepEqual(
      new Set(page.rows.slice(0, 3).map((r) => r.url)),
      new Set([urls.fail, urls.hang, urls.refused]),
    );
    const metrics = await (await fetch(`${tb.url}/metrics`)).text();
    assert.match(metrics, /^lonelypss_subscriptions\{kind="exact"\} 5$/m);
    assert.match(metrics, /^lonelypss_subscriber_urls\{state="all"\} 5$/m);
    assert.match(metrics, /^lonelypss_subscriber_urls\{state="failing"\} 3$/m);
  } finally {
    await sub.close();
  }
});

Deno.test("statistics gathered since the last flush are written at shutdown", async () => {
  const sub = new TestSubscriber(() => ({ kind: "confirm" }));
  const tb = await startBroadcaster({ subscriptions: { statsFlushIntervalMs: 3_600_000 } });
  try {
    assert.equal(await subscribeOver(tb.url, sub.url("/r"), TOPIC), 200);
    await notifyOver(tb.url, TOPIC, new Uint8Array([1]));
    await tb.broadcaster.close();
    const store = await openSqliteStore({ path: tb.dbPath });
    try {
      const page = await store.listSubscriptionStats({ limit: 10, offset: 0 });
      assert.ok(page !== "unavailable");
      assert.equal(page.rows[0]?.deliveries, 1);
    } finally {
      await store.close();
    }
  } finally {
    await tb[Symbol.asyncDispose]();
    await sub.close();
  }
});
