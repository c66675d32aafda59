/**
 * End to end: authorization on the broadcaster's own requests. The test
 * subscriber verifies RECEIVE and MISSED with its copy of the secrets and
 * signs its confirmations; the broadcaster counts only RECEIVE confirmations
 * that verify, and clears a missed record only on a MISSED confirmation that
 * verifies.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  contextParts,
  IMMEDIATE_RETRY,
  post,
  startBroadcaster,
  type TestBroadcaster,
} from "./_harness.ts";
import { TestSubscriber } from "./_subscriber.ts";
import {
  type AuthConfig,
  type AuthStrategy,
  generateHmacSecret,
  hmacAuth,
  memoryReplayStore,
  tokenAuth,
} from "../src/auth/mod.ts";
import { encodeNotify, parseResponseNotify } from "../src/protocol/notify.ts";
import { sweepOnce } from "../src/fanout/sweeper.ts";
import { silentLogger } from "../src/log.ts";
import type { Context } from "../src/core/context.ts";
import { NO_LOCAL_SUBSCRIBERS } from "../src/core/local.ts";

const TOPIC = new TextEncoder().encode("cache/bust");
const MESSAGE = new TextEncoder().encode("user 42 changed");

type Kind = "token" | "hmac";

function strategy(kind: Kind, secret: string | Uint8Array): AuthStrategy {
  return kind === "token"
    ? tokenAuth(secret as string)
    : hmacAuth({ secret: secret as Uint8Array, replay: memoryReplayStore() });
}

function newSecret(kind: Kind): string | Uint8Array {
  return kind === "token" ? crypto.randomUUID() : generateHmacSecret();
}

/** Secrets of both directions; `view()` builds one party's strategies from them. */
function secrets(kind: Kind) {
  const s = { toBroadcaster: newSecret(kind), toSubscriber: newSecret(kind) };
  return {
    ...s,
    view: (override: Partial<typeof s> = {}): AuthConfig => ({
      toBroadcaster: strategy(kind, override.toBroadcaster ?? s.toBroadcaster),
      toSubscriber: strategy(kind, override.toSubscriber ?? s.toSubscriber),
    }),
  };
}

/** Notifies TOPIC, signed by `notifier` (the right secrets; subscribers may hold wrong ones). */
async function notify(
  url: string,
  notifier: AuthConfig | null,
): Promise<{ status: number; count: number }> {
  const sha512 = new Uint8Array(createHash("sha512").update(MESSAGE).digest());
  const identifier = new Uint8Array([7, 7]);
  const tracing = new Uint8Array(0);
  const body = encodeNotify({ topic: TOPIC, sha512, tracing, identifier }, MESSAGE);
  const authorization = await notifier?.toBroadcaster.authorize(
    { type: "notify", topic: TOPIC, identifier, sha512 },
    tracing,
    Date.now() / 1000,
  ) ?? null;
  const res = await post(`${url}/v1/notify`, body, authorization === null ? {} : { authorization });
  assert.equal(res.status, 200);
  return { status: res.status, count: parseResponseNotify(res.body).count };
}

async function closeAll(...configs: (AuthConfig | null)[]): Promise<void> {
  for (const c of configs) {
    if (c !== null) await Promise.all([c.toBroadcaster.close(), c.toSubscriber.close()]);
  }
}

for (const kind of ["token", "hmac"] as const) {
  Deno.test(`RECEIVE carries a valid ${kind} authorization and its signed confirmation counts`, async () => {
    const s = secrets(kind);
    const notifier = s.view();
    const client = s.view();
    await using sub = new TestSubscriber(undefined, client);
    await using b = await startBroadcaster({ auth: s.view() });
    try {
      await b.broadcaster.store.subscribeExact(sub.url("/r"), TOPIC, null);
      assert.deepEqual(await notify(b.url, notifier), { status: 200, count: 1 });
      assert.equal(sub.received.length, 1);
      assert.equal(sub.received[0]!.authVerdict, "ok");
      assert.deepEqual(sub.received[0]!.message, MESSAGE);
    } finally {
      await closeAll(client, notifier);
    }
  });

  Deno.test(`a subscriber with another ${kind} to-subscriber secret refuses RECEIVE; not counted`, async () => {
    const s = secrets(kind);
    const notifier = s.view();
    const client = s.view({ toSubscriber: newSecret(kind) });
    await using sub = new TestSubscriber(undefined, client);
    await using b = await startBroadcaster({ auth: s.view() });
    try {
      await b.broadcaster.store.subscribeExact(sub.url("/r"), TOPIC, null);
      assert.deepEqual(await notify(b.url, notifier), { status: 200, count: 0 });
      assert.equal(sub.received[0]!.authVerdict, "forbidden");
    } finally {
      await closeAll(client, notifier);
    }
  });

  Deno.test(`a confirmation signed with another ${kind} to-broadcaster secret is not counted`, async () => {
    const s = secrets(kind);
    const notifier = s.view();
    const client = s.view({ toBroadcaster: newSecret(kind) });
    await using sub = new TestSubscriber(undefined, client);
    await using b = await startBroadcaster({ auth: s.view() });
    try {
      await b.broadcaster.store.subscribeExact(sub.url("/r"), TOPIC, null);
      assert.deepEqual(await notify(b.url, notifier), { status: 200, count: 0 });
      assert.equal(sub.received[0]!.authVerdict, "ok", "the RECEIVE itself was fine");
    } finally {
      await closeAll(client, notifier);
    }
  });

  Deno.test(`MISSED carries a valid ${kind} authorization and a signed confirmation clears it`, async () => {
    const s = secrets(kind);
    await missedScenario(s, s.view(), async (ctx, sub, b) => {
      assert.deepEqual(await sweepOnce(ctx), { delivered: 1, failed: 0 });
      const missed = sub.receivedAt("/recover");
      assert.equal(missed.length, 1);
      assert.equal(missed[0]!.authVerdict, "ok");
      // Cleared: nothing is left to sweep, and the subscription is still there.
      assert.deepEqual(await sweepOnce(ctx), { delivered: 0, failed: 0 });
      const subs = await b.broadcaster.store.getSubscribers(TOPIC);
      assert.equal(subs !== "unavailable" && subs.length, 1);
    });
  });

  Deno.test(`a MISSED confirmation signed with another ${kind} secret is a failure, retried later`, async () => {
    const s = secrets(kind);
    await missedScenario(s, s.view({ toBroadcaster: newSecret(kind) }), async (ctx, sub) => {
      assert.deepEqual(await sweepOnce(ctx), { delivered: 0, failed: 1 });
      assert.equal(sub.receivedAt("/recover")[0]!.authVerdict, "ok");
    });
  });
}

/**
 * A subscription whose RECEIVE fails (500) and whose recovery url answers
 * MISSED, subscribed and notified once; `check` then runs sweep passes by hand.
 */
async function missedScenario(
  s: ReturnType<typeof secrets>,
  client: AuthConfig,
  check: (ctx: Context, sub: TestSubscriber, b: TestBroadcaster) => Promise<void>,
): Promise<void> {
  const notifier = s.view();
  const serverAuth = s.view();
  try {
    await using sub = new TestSubscriber(
      (path) => path === "/recover" ? { kind: "confirm_missed" } : { kind: "fail500" },
      client,
    );
    await using b = await startBroadcaster({
      auth: serverAuth,
      sweeper: false,
      limits: { missedRetry: IMMEDIATE_RETRY },
    });
    await b.broadcaster.store.subscribeExact(sub.url("/r"), TOPIC, sub.url("/recover"));
    assert.deepEqual(await notify(b.url, notifier), { status: 200, count: 0 });
    const ctx: Context = {
      store: b.broadcaster.store,
      auth: serverAuth,
      limits: b.broadcaster.limits,
      now: () => Date.now() / 1000,
      log: silentLogger,
      local: NO_LOCAL_SUBSCRIBERS,
      ...contextParts(b.broadcaster.limits),
    };
    await check(ctx, sub, b);
  } finally {
    await closeAll(client, notifier);
  }
}

Deno.test("without subscriber-side auth the verdict is not recorded", async () => {
  await using sub = new TestSubscriber();
  await using b = await startBroadcaster();
  await b.broadcaster.store.subscribeExact(sub.url("/r"), TOPIC, null);
  assert.deepEqual(await notify(b.url, null), { status: 200, count: 1 });
  assert.equal(sub.received[0]!.authVerdict, null);
});
