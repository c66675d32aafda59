/**
 * Contract cases: delivery statistics, leases, pruning and its audit
 * ({@link SubscriptionAdmin}).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { DeliveryTally, Store, SubscriptionKey } from "../types.ts";
import { bytes, type ContractCase, ok, URL_A, URL_B, withStore } from "./helpers.ts";

const URL_C = "http://127.0.0.1:3006/v1/receive";
const RELAY = "http://127.0.0.1:3003/v1/receive_for_websockets";

/** A tally of `ok`/`fail` outcomes at times t0, t0 + 1, … (ms). */
function tally(
  key: SubscriptionKey,
  outcomes: string,
  t0: number,
  cls = "http 500",
): DeliveryTally {
  let failures = 0, trailing = 0, since: number | null = null;
  let lastSuccessAt: number | null = null, lastFailureAt: number | null = null;
  [...outcomes].forEach((c, i) => {
    const at = t0 + i;
    if (c === "+") {
      lastSuccessAt = at;
      trailing = 0;
      since = null;
    } else {
      failures++;
      lastFailureAt = at;
      trailing++;
      since ??= at;
    }
  });
  return {
    subscription: key,
    deliveries: outcomes.length,
    failures,
    lastAttemptAt: t0 + outcomes.length - 1,
    lastSuccessAt,
    lastFailureAt,
    lastFailure: failures > 0 ? cls : null,
    succeeded: lastSuccessAt !== null,
    trailingFailures: trailing,
    trailingSince: since,
  };
}

const ex = (url: string, t: string): SubscriptionKey => ({ kind: "exact", url, topic: bytes(t) });
const gl = (url: string, g: string): SubscriptionKey => ({ kind: "glob", url, glob: g });

async function only(store: Store, url: string) {
  const page = ok(await store.listSubscriptionStats({ url, limit: 10, offset: 0 }));
  assert.equal(page.rows.length, 1);
  return page.rows[0]!;
}

/** The cases. */
export const ADMIN_CASES: readonly ContractCase[] = [
  {
    name: "delivery tallies add up across batches; a success ends the failure streak",
    fn: (db) =>
      withStore(db, async (store) => {
        const before = Date.now();
        await store.subscribeExact(URL_A, bytes("t"), null);
        await store.subscribeGlob(URL_B, "t*", null);
        const fresh = await only(store, URL_A);
        assert.ok(fresh.createdAt !== null && fresh.createdAt >= before);
        assert.equal(fresh.renewedAt, fresh.createdAt);
        assert.equal(fresh.deliveries, 0);
        assert.equal(fresh.failingSince, null);
        assert.equal(await store.recordDeliveries([tally(ex(URL_A, "t"), "+--", 1000)]), "success");
        assert.equal(
          await store.recordDeliveries([
            tally(ex(URL_A, "t"), "--", 2000, "timeout"),
            tally(gl(URL_B, "t*"), "-+", 2000),
            tally(ex(URL_C, "gone"), "-", 2000), // no such row: ignored
          ]),
          "success",
        );
        const a = await only(store, URL_A);
        assert.deepEqual(
          [a.deliveries, a.failures, a.consecutiveFailures, a.failingSince, a.lastSuccessAt],
          [5, 4, 4, 1001, 1000],
        );
        assert.deepEqual([a.lastAttemptAt, a.lastFailureAt, a.lastFailure], [
          2001,
          2001,
          "timeout",
        ]);
        const b = await only(store, URL_B);
        assert.deepEqual(
          [b.kind, b.key, b.deliveries, b.failures, b.consecutiveFailures, b.failingSince],
          ["glob", bytes("t*"), 2, 1, 0, null],
        );
        assert.equal(b.lastFailure, "http 500");
        await store.recordDeliveries([tally(ex(URL_A, "t"), "+", 3000)]);
        const healed = await only(store, URL_A);
        assert.deepEqual([healed.consecutiveFailures, healed.failingSince], [0, null]);
      }),
  },
  {
    name: "subscription listing filters and pages in the database, failing first",
    fn: (db) =>
      withStore(db, async (store) => {
        for (let i = 0; i < 25; i++) await store.subscribeExact(URL_A, bytes(`t${i}`), null);
        await store.subscribeGlob(URL_B, "news/*", null);
        await store.subscribeExact(URL_C, bytes("t3"), null);
        await store.recordDeliveries([
          tally(ex(URL_C, "t3"), "-", 500),
          tally(gl(URL_B, "news/*"), "-", 100),
        ]);
        const first = ok(await store.listSubscriptionStats({ limit: 2, offset: 0 }));
        assert.equal(first.total, 27);
        assert.deepEqual(first.rows.map((r) => r.url), [URL_B, URL_C]);
        const all = ok(await store.listSubscriptionStats({ limit: 100, offset: 0 }));
        const second = ok(await store.listSubscriptionStats({ limit: 10, offset: 10 }));
        assert.deepEqual(second.rows, all.rows.slice(10, 20));
        const failing = ok(
          await store.listSubscriptionStats({ failing: true, limit: 9, offset: 0 }),
        );
        assert.equal(failing.total, 2);
        const topic = ok(
          await store.listSubscriptionStats({ topic: bytes("t3"), limit: 9, offset: 0 }),
        );
        assert.deepEqual(topic.rows.map((r) => r.url).sort(), [URL_A, URL_C].sort());
        const glob = ok(await store.listSubscriptionStats({ glob: "news/*", limit: 9, offset: 0 }));
        assert.deepEqual(glob.rows.map((r) => r.kind), ["glob"]);
        const search = ok(
          await store.listSubscriptionStats({ search: "3006", limit: 9, offset: 0 }),
        );
        assert.deepEqual(search.rows.map((r) => r.url), [URL_C]);
        const text = ok(await store.listSubscriptionStats({ search: "news", limit: 9, offset: 0 }));
        assert.equal(text.total, 1);
        const report = ok(await store.subscriptionReport(3));
        assert.deepEqual(
          [report.exacts, report.globs, report.urls, report.failingUrls],
          [26, 1, 3, 2],
        );
        assert.deepEqual(report.topFailing.map((f) => [f.url, f.failingSince, f.subscriptions]), [
          [URL_B, 100, 1],
          [URL_C, 500, 1],
        ]);
        assert.deepEqual(report.topKeys[0], { kind: "exact", key: bytes("t3"), subscriptions: 2 });
      }),
  },
  {
    name: "a lease expires exactly at renewal + lease, and a repeated subscribe renews it",
    fn: (db) =>
      withStore(db, async (store) => {
        await store.subscribeExact(URL_A, bytes("t"), null);
        await store.subscribeGlob(URL_B, "g*", null);
        await store.subscribeExact(RELAY, bytes("t"), null);
        const lease = 60_000;
        const a = await only(store, URL_A);
        const r0 = a.renewedAt!;
        const sweep = (now: number) =>
          store.pruneSubscriptions(
            { kind: "lease", before: now - lease, exceptSuffix: "/v1/receive_for_websockets" },
            { now },
          );
        const b0 = (await only(store, URL_B)).renewedAt!;
        assert.deepEqual(ok(await sweep(Math.min(r0, b0) + lease - 1)), []);
        // Renewal, in a later millisecond than both stamps: the wire still says conflict.
        while (Date.now() <= Math.max(r0, b0)) await new Promise((r) => setTimeout(r, 1));
        assert.equal(await store.subscribeExact(URL_A, bytes("t"), null), "conflict");
        const r1 = (await only(store, URL_A)).renewedAt!;
        assert.ok(r1 > Math.max(r0, b0));
        const gone = ok(await sweep(Math.max(b0, r0) + lease));
        assert.deepEqual(gone.map((u) => u.url), [URL_B]);
        assert.equal(ok(await store.listSubscriptions(URL_A)).exacts.length, 1);
        assert.deepEqual(ok(await sweep(r1 + lease - 1)), []);
        const last = ok(await sweep(r1 + lease));
        assert.deepEqual(last.map((u) => [u.url, u.exacts, u.globs]), [[URL_A, 1, 0]]);
        assert.deepEqual(ok(await store.listSubscriptions(URL_A)).exacts, []);
        assert.deepEqual(ok(await store.getSubscribers(bytes("g1"))), []);
        // The websocket relay row lives with its connection.
        assert.equal(ok(await store.listSubscriptions(RELAY)).exacts.length, 1);
        const audit = ok(await store.listPrunes(10));
        assert.ok(audit.every((p) => p.reason === "lease"));
        assert.deepEqual(audit.map((p) => p.url).sort(), [URL_A, URL_B].sort());
      }),
  },
  {
    name: "set_subscriptions renews what it keeps",
    fn: (db) =>
      withStore(db, async (store) => {
        await store.subscribeExact(URL_A, bytes("keep"), null);
        const r0 = (await only(store, URL_A)).renewedAt!;
        while (Date.now() <= r0) await new Promise((r) => setTimeout(r, 1));
        const desired = { exacts: [{ topic: bytes("keep"), recovery: null }], globs: [] };
        assert.equal(await store.setSubscriptions(URL_A, desired), "success");
        const kept = await only(store, URL_A);
        assert.ok(kept.renewedAt! > r0);
        assert.equal(kept.createdAt, r0);
      }),
  },
  {
    name: "pruning failing urls removes only urls failing since the cutoff, and audits them",
    fn: (db) =>
      withStore(db, async (store) => {
        const day = 86_400_000;
        const now = 10 * day;
        for (const u of [URL_A, URL_B, URL_C, RELAY]) {
          await store.subscribeExact(u, bytes("t"), null);
          await store.subscribeGlob(u, "t*", null);
        }
        await store.recordDeliveries([
          // A: failing for 6 days on both subscriptions: dead.
          tally(ex(URL_A, "t"), "+--", now - 7 * day),
          tally(gl(URL_A, "t*"), "-", now - 6 * day),
          // B: healthy.
          tally(ex(URL_B, "t"), "-+", now - 6 * day),
          tally(gl(URL_B, "t*"), "+", now - day),
          // C: failing for 6 days on one, but succeeded yesterday on the other.
          tally(ex(URL_C, "t"), "-", now - 6 * day),
          tally(gl(URL_C, "t*"), "+", now - day),
          // The relay: failing, but it lives with its connection.
          tally(ex(RELAY, "t"), "-", now - 6 * day),
        ]);
        const rule = {
          kind: "failing",
          before: now - 5 * day,
          exceptSuffix: "/v1/receive_for_websockets",
        } as const;
        const dry = ok(await store.pruneSubscriptions(rule, { now, dryRun: true }));
        assert.deepEqual(dry, [{ url: URL_A, exacts: 1, globs: 1 }]);
        assert.deepEqual(ok(await store.listPrunes(5)), []);
        assert.deepEqual(ok(await store.pruneSubscriptions(rule, { now })), dry);
        assert.deepEqual(ok(await store.listSubscriptions(URL_A)), { exacts: [], globs: [] });
        for (const u of [URL_B, URL_C, RELAY]) {
          const left = ok(await store.listSubscriptions(u));
          assert.equal(left.exacts.length + left.globs.length, 2, u);
        }
        assert.equal(ok(await store.getSubscribers(bytes("t1"))).length, 3);
        assert.deepEqual(ok(await store.listPrunes(5)), [
          { at: now, url: URL_A, reason: "failing", exacts: 1, globs: 1 },
        ]);
        assert.deepEqual(ok(await store.pruneSubscriptions(rule, { now })), []);
      }),
  },
  {
    name: "pruning by url and by idleness, with the reason given",
    fn: (db) =>
      withStore(db, async (store) => {
        await store.subscribeExact(URL_A, bytes("t"), null);
        await store.subscribeExact(URL_B, bytes("t"), null);
        const created = (await only(store, URL_A)).createdAt!;
        const idle = { kind: "idle", before: created - 1 } as const;
        assert.deepEqual(ok(await store.pruneSubscriptions(idle, { now: created })), []);
        await store.recordDeliveries([tally(ex(URL_B, "t"), "+", created + 5000)]);
        const stale = { kind: "idle", before: created + 1000 } as const;
        assert.deepEqual(
          ok(await store.pruneSubscriptions(stale, { now: created + 9000, dryRun: true })),
          [{ url: URL_A, exacts: 1, globs: 0 }],
        );
        const byUrl = { kind: "url", url: URL_B } as const;
        const removed = ok(await store.pruneSubscriptions(byUrl, { now: 7, reason: "admin" }));
        assert.deepEqual(removed, [{ url: URL_B, exacts: 1, globs: 0 }]);
        assert.deepEqual(ok(await store.listPrunes(5)), [
          { at: 7, url: URL_B, reason: "admin", exacts: 1, globs: 0 },
        ]);
        assert.deepEqual(ok(await store.pruneSubscriptions(byUrl, { now: 8 })), []);
      }),
  },
];
