/**
 * End to end: a failed RECEIVE schedules MISSED; the sweeper delivers it to
 * the recovery url, clears or reschedules the record, and never deletes the
 * subscription (docs/decisions.md#missed-messages).
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { contextParts, IMMEDIATE_RETRY, post, startBroadcaster } from "./_harness.ts";
import type { TestBroadcaster } from "./_harness.ts";
import { withSubscriber } from "./_subscriber.ts";
import { encodeNotify, parseResponseNotify } from "../src/protocol/notify.ts";
import { encodeMissed } from "../src/protocol/missed.ts";
import { startSweeper, sweepOnce } from "../src/fanout/sweeper.ts";
import { noneAuth } from "../src/auth/none.ts";
import { silentLogger } from "../src/log.ts";
import type { Context } from "../src/core/context.ts";
import { NO_LOCAL_SUBSCRIBERS } from "../src/core/local.ts";

const TOPIC = new TextEncoder().encode("orders/42");
const MESSAGE = new TextEncoder().encode("missed me?");

function notifyBody(): Uint8Array {
  return encodeNotify({
    topic: TOPIC,
    sha512: new Uint8Array(createHash("sha512").update(MESSAGE).digest()),
    tracing: new Uint8Array(0),
    identifier: new Uint8Array([9]),
  }, MESSAGE);
}

function contextOf(b: TestBroadcaster): Context {
  return {
    store: b.broadcaster.store,
    auth: { toBroadcaster: noneAuth(), toSubscriber: noneAuth() },
    limits: b.broadcaster.limits,
    now: () => Date.now() / 1000,
    log: silentLogger,
    local: NO_LOCAL_SUBSCRIBERS,
    ...contextParts(b.broadcaster.limits),
  };
}

/** Pending missed records, leased with a clock far in the future (then released). */
async function pendingMissed(ctx: Context): Promise<{ attempts: number; recovery: string }[]> {
  const leased = await ctx.store.leaseOverdueMissed(Date.now() + 1e9, 100, 1);
  assert.notEqual(leased, "unavailable");
  if (leased === "unavailable") return [];
  for (const l of leased) {
    await ctx.store.releaseMissed(l, { attempts: l.attempts, nextRetryAt: l.nextRetryAt });
  }
  return leased.map((l) => ({ attempts: l.attempts, recovery: l.recovery }));
}

Deno.test("a RECEIVE answered 500 leads the sweeper to POST MISSED; the subscription stays", async () => {
  await using b = await startBroadcaster({
    sweeper: false,
    limits: { missedRetry: IMMEDIATE_RETRY, sweepIntervalMs: 20 },
  });
  const ctx = contextOf(b);
  await withSubscriber(
    (path) => (path === "/missed" ? { kind: "confirm_missed" } : { kind: "fail500" }),
    async (sub) => {
      const url = sub.url("/receive");
      const recovery = sub.url("/missed");
      await ctx.store.subscribeExact(url, TOPIC, recovery);
      await ctx.store.subscribeGlob(sub.url("/glob-receive"), "orders/*", null);
      const res = await post(`${b.url}/v1/notify`, notifyBody());
      assert.equal(res.status, 200);
      assert.equal(parseResponseNotify(res.body).count, 0);
      assert.deepEqual(await pendingMissed(ctx), [{ attempts: 0, recovery }]);

      const delivered = Promise.withResolvers<void>();
      const sweeper = startSweeper(ctx, {
        onPass: (stats) => stats.delivered > 0 && delivered.resolve(),
      });
      try {
        await delivered.promise;
      } finally {
        await sweeper.stop();
      }
      const [missed, ...more] = sub.receivedAt("/missed");
      assert.equal(more.length, 0);
      assert.deepEqual(missed!.body, encodeMissed({ tracing: new Uint8Array(0), topic: TOPIC }));
      assert.equal(missed!.headers.get("content-type"), "application/octet-stream");
      assert.equal(missed!.headers.get("repr-digest"), null);
      assert.deepEqual(await pendingMissed(ctx), []);
      assert.deepEqual(await ctx.store.listSubscriptions(url), {
        exacts: [{ topic: TOPIC, recovery }],
        globs: [],
      });
    },
  );
});

Deno.test("a failing recovery url is retried per policy, then given up; the subscription stays", async () => {
  await using b = await startBroadcaster({
    sweeper: false,
    limits: { missedRetry: IMMEDIATE_RETRY },
  });
  const ctx = contextOf(b);
  await withSubscriber(
    (path) => (path === "/missed" ? { kind: "confirm_missed", status: 500 } : { kind: "fail500" }),
    async (sub) => {
      const url = sub.url("/receive");
      const recovery = sub.url("/missed");
      await ctx.store.subscribeExact(url, TOPIC, recovery);
      assert.equal((await post(`${b.url}/v1/notify`, notifyBody())).status, 200);
      // A valid RESPONSE_CONFIRM_MISSED with status 500 is a failure
      // (docs/decisions.md#missed-messages).
      for (let attempts = 1; attempts <= 2; attempts++) {
        await sweepOnce(ctx);
        assert.equal(sub.receivedAt("/missed").length, attempts);
        assert.deepEqual(await pendingMissed(ctx), [{ attempts, recovery }]);
      }
      await sweepOnce(ctx); // third failure: attempts 3 = maxRetries → give up
      assert.equal(sub.receivedAt("/missed").length, 3);
      assert.deepEqual(await pendingMissed(ctx), []);
      await sweepOnce(ctx);
      assert.equal(sub.receivedAt("/missed").length, 3);
      const subs = await ctx.store.listSubscriptions(url);
      assert.deepEqual(subs, { exacts: [{ topic: TOPIC, recovery }], globs: [] });
    },
  );
});

Deno.test("the broadcaster's own sweeper delivers MISSED and stops cleanly on close", async () => {
  const b = await startBroadcaster({
    limits: { missedRetry: IMMEDIATE_RETRY, sweepIntervalMs: 10 },
  });
  try {
    await withSubscriber(
      (path) => (path === "/missed" ? { kind: "confirm_missed" } : { kind: "fail500" }),
      async (sub) => {
        await b.broadcaster.store.subscribeGlob(
          sub.url("/receive"),
          "orders/*",
          sub.url("/missed"),
        );
        assert.equal((await post(`${b.url}/v1/notify`, notifyBody())).status, 200);
        await sub.waitFor(1, "/missed");
        assert.deepEqual(
          sub.receivedAt("/missed")[0]!.body,
          encodeMissed({ tracing: new Uint8Array(0), topic: TOPIC }),
        );
      },
    );
  } finally {
    await b[Symbol.asyncDispose]();
  }
});

Deno.test("no recovery url, or a policy that gives up at once, stores no missed record", async () => {
  await using b = await startBroadcaster({
    sweeper: false,
    limits: { missedRetry: { ...IMMEDIATE_RETRY, maxRetries: 0 } },
  });
  const ctx = contextOf(b);
  await withSubscriber(() => ({ kind: "fail500" }), async (sub) => {
    await ctx.store.subscribeExact(sub.url("/a"), TOPIC, null);
    await ctx.store.subscribeExact(sub.url("/b"), TOPIC, sub.url("/missed"));
    assert.equal((await post(`${b.url}/v1/notify`, notifyBody())).status, 200);
    assert.equal(sub.received.length, 2);
    assert.deepEqual(await pendingMissed(ctx), []);
  });
});

Deno.test("stopping the sweeper aborts an in-flight MISSED and keeps the record as it was", async () => {
  await using b = await startBroadcaster({
    sweeper: false,
    limits: { missedRetry: IMMEDIATE_RETRY, totalTimeoutMs: 30_000 },
  });
  const ctx = contextOf(b);
  await withSubscriber(
    (path) => (path === "/missed" ? { kind: "hang" } : { kind: "fail500" }),
    async (sub) => {
      const recovery = sub.url("/missed");
      await ctx.store.subscribeExact(sub.url("/receive"), TOPIC, recovery);
      assert.equal((await post(`${b.url}/v1/notify`, notifyBody())).status, 200);
      const sweeper = startSweeper(ctx);
      await sub.waitFor(1, "/missed");
      const started = Date.now();
      await sweeper.stop();
      assert.ok(Date.now() - started < 5_000, "stop did not wait for the total timeout");
      assert.deepEqual(await pendingMissed(ctx), [{ attempts: 0, recovery }]);
    },
  );
});
