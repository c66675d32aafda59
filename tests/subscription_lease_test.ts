/**
 * Leases and pruning end to end: a real broadcaster whose clock the test
 * sets, subscriptions made over HTTP, housekeeping passes counted.
 */

import assert from "node:assert/strict";
import { notifyOver, post, startBroadcaster, type TestBroadcaster } from "./_harness.ts";
import { TestSubscriber } from "./_subscriber.ts";
import { encodeSubscribeExact } from "../src/protocol/mod.ts";
import { encodeSetSubscriptions } from "../src/protocol/set.ts";
import { strongEtag } from "../src/protocol/etag.ts";

const TOPIC = new TextEncoder().encode("lease/t");
const DAY = 86_400_000;

function subscribe(base: string, url: string): Promise<number> {
  const body = encodeSubscribeExact({
    url,
    topic: TOPIC,
    recovery: null,
    tracing: new Uint8Array(0),
  });
  return post(`${base}/v1/subscribe/exact`, body).then((a) => a.status);
}

async function renewedAt(tb: TestBroadcaster, url: string): Promise<number> {
  const page = await tb.broadcaster.store.listSubscriptionStats({ url, limit: 1, offset: 0 });
  assert.ok(page !== "unavailable" && page.rows.length === 1, `one row for ${url}`);
  return page.rows[0]!.renewedAt!;
}

async function urls(tb: TestBroadcaster): Promise<string[]> {
  const page = await tb.broadcaster.store.listSubscriptionStats({ limit: 100, offset: 0 });
  assert.ok(page !== "unavailable");
  return page.rows.map((r) => r.url).sort();
}

/** Resolves once two more housekeeping passes have completed (so one started after now). */
async function twoPasses(tb: TestBroadcaster): Promise<void> {
  const target = tb.broadcaster.metrics.housekeepingPasses + 2;
  while (tb.broadcaster.metrics.housekeepingPasses < target) {
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Waits until the wall clock is past `t` (epoch ms), so a later stamp differs. */
async function after(t: number): Promise<void> {
  while (Date.now() <= t) await new Promise((r) => setTimeout(r, 1));
}

Deno.test("a lease expires exactly when configured; a repeated subscribe (409) and set_subscriptions renew it", async () => {
  let clock = Date.now();
  await using tb = await startBroadcaster({
    now: () => clock / 1000,
    subscriptions: { subscriptionLeaseSeconds: 60, subscriptionSweepIntervalMs: 10 },
  });
  const [a, b, c] = ["a", "b", "c"].map((n) => `http://127.0.0.1:9/${n}`) as [
    string,
    string,
    string,
  ];
  for (const u of [a, b, c]) assert.equal(await subscribe(tb.url, u), 200);
  const rB = await renewedAt(tb, b);
  const rC = await renewedAt(tb, c);
  await after(Math.max(rB, rC));
  // The wire is unchanged: an existing exact subscription still answers 409.
  assert.equal(await subscribe(tb.url, a), 409);
  const set = { exacts: [{ topic: TOPIC, recovery: null }], globs: [] };
  const setBody = encodeSetSubscriptions({
    tracing: new Uint8Array(0),
    url: c,
    etagFormat: 0,
    etag: strongEtag(c, set),
    set,
  });
  assert.equal((await post(`${tb.url}/v1/set_subscriptions`, setBody)).status, 200);
  const rA = await renewedAt(tb, a);
  assert.ok(rA > rB);
  assert.ok(await renewedAt(tb, c) > rC, "set_subscriptions renewed what it kept");

  clock = rB + 60_000 - 1;
  await twoPasses(tb);
  assert.deepEqual(await urls(tb), [a, b, c]);
  clock = rB + 60_000;
  await twoPasses(tb);
  assert.ok(!(await urls(tb)).includes(b), "b expired at renewal + lease exactly");
  assert.ok((await urls(tb)).includes(a), "a was renewed by its repeated subscribe");
  clock = rA + 60_000;
  await twoPasses(tb);
  assert.ok(!(await urls(tb)).includes(a));
  assert.equal(tb.broadcaster.metrics.subscriptionsExpired >= 2, true);
  const audit = await tb.broadcaster.store.listPrunes(10);
  assert.ok(audit !== "unavailable");
  assert.ok(audit.some((p) => p.url === b && p.reason === "lease"));
});

Deno.test("pruning removes a url failing for pruneFailingAfterSeconds and leaves healthy ones alone", async () => {
  let clock = Date.now();
  await using sub = new TestSubscriber((path) =>
    path === "/dead" ? { kind: "fail500" } : { kind: "confirm" }
  );
  await using tb = await startBroadcaster({
    now: () => clock / 1000,
    subscriptions: {
      pruneFailingAfterSeconds: 5 * 86_400,
      subscriptionSweepIntervalMs: 10,
      statsFlushIntervalMs: 3_600_000,
    },
  });
  for (const path of ["/dead", "/ok", "/idle"]) {
    assert.equal(await subscribe(tb.url, sub.url(path)), 200);
  }
  // /idle never gets a delivery: a quiet url is not a dead one.
  const start = clock;
  await notifyOver(tb.url, TOPIC, new Uint8Array([1]));
  assert.equal(
    await subscribe(tb.url, sub.url("/idle")),
    409,
  );
  await tb.broadcaster.flushStats();
  clock = start + 5 * DAY - 1;
  await twoPasses(tb);
  assert.equal((await urls(tb)).length, 3);
  clock = start + 5 * DAY;
  await twoPasses(tb);
  assert.deepEqual(await urls(tb), [sub.url("/idle"), sub.url("/ok")].sort());
  const audit = await tb.broadcaster.store.listPrunes(10);
  assert.ok(audit !== "unavailable");
  assert.deepEqual(audit.map((p) => [p.url, p.reason, p.exacts]), [[
    sub.url("/dead"),
    "failing",
    1,
  ]]);
  const metrics = await (await fetch(`${tb.url}/metrics`)).text();
  assert.match(metrics, /^lonelypss_subscriptions_removed_total\{reason="failing"\} 1$/m);
});
