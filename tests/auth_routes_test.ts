/**
 * End to end: every authorized route × token and hmac, over a real socket.
 * Accepted with the right credentials, 401 without, 403 with a wrong secret,
 * and for hmac 403 on a replay or a stale timestamp. The broadcaster's signed
 * responses are verified with the subscriber's copy of the secrets.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { post, startBroadcaster, type TestBroadcaster } from "./_harness.ts";
import {
  type AuthConfig,
  type AuthMessage,
  type AuthStrategy,
  generateHmacSecret,
  hmacAuth,
  memoryReplayStore,
  sqliteReplayStore,
  tokenAuth,
} from "../src/auth/mod.ts";
import { encodeSubscribeExact, encodeSubscribeGlob } from "../src/protocol/subscribe.ts";
import {
  encodeCheckSubscriptions,
  parseResponseCheckSubscriptions,
} from "../src/protocol/check.ts";
import { encodeSetSubscriptions } from "../src/protocol/set.ts";
import { strongEtag } from "../src/protocol/etag.ts";
import { parseResponseGeneric } from "../src/protocol/generic.ts";
import { encodeNotify, parseResponseNotify } from "../src/protocol/notify.ts";
import { Writer } from "../src/protocol/bytes.ts";
import { Buffer } from "node:buffer";

const TRACING = new TextEncoder().encode("trace-me");
const enc = (s: string) => new TextEncoder().encode(s);
const URL_ = "http://127.0.0.1:9/v1/receive";
const REC = "http://127.0.0.1:9/v1/missed";
const now = () => Date.now() / 1000;

type Kind = "token" | "hmac";

/** Secrets for both directions, and how to build a strategy from them. */
function secretsFor(kind: Kind) {
  if (kind === "token") {
    return {
      toBroadcaster: "tb-" + crypto.randomUUID(),
      toSubscriber: "ts-" + crypto.randomUUID(),
    };
  }
  return { toBroadcaster: generateHmacSecret(), toSubscriber: generateHmacSecret() };
}

function strategy(secret: string | Uint8Array): AuthStrategy {
  return typeof secret === "string"
    ? tokenAuth(secret)
    : hmacAuth({ secret, replay: memoryReplayStore() });
}

/** One side's view of both directions. */
function authConfig(s: ReturnType<typeof secretsFor>): AuthConfig {
  return { toBroadcaster: strategy(s.toBroadcaster), toSubscriber: strategy(s.toSubscriber) };
}

async function closeAuth(a: AuthConfig): Promise<void> {
  await a.toBroadcaster.close();
  await a.toSubscriber.close();
}

/** A request to an authorized route and how to check its signed answer. */
interface RouteCase {
  path: string;
  body: Uint8Array;
  tracing: Uint8Array;
  signs: AuthMessage;
  /** Runs before the request (e.g. create what an unsubscribe removes). */
  prepare?: (b: TestBroadcaster) => Promise<void>;
  /** Verifies the response's authorization field with the subscriber's strategy. */
  verifyAnswer: (body: Uint8Array, client: AuthConfig) => Promise<string>;
}

async function verifyGeneric(body: Uint8Array, client: AuthConfig, msg: AuthMessage) {
  const r = parseResponseGeneric(body);
  return await client.toSubscriber.verify(msg, r.tracing, r.authorization, now());
}

function routeCases(): RouteCase[] {
  const topic = enc("orders/1");
  const set = { exacts: [{ topic, recovery: REC }], globs: [{ glob: "orders/*", recovery: null }] };
  const etag = strongEtag(URL_, set);
  const message = enc("hello");
  const sha512 = new Uint8Array(createHash("sha512").update(message).digest());
  const identifier = new Uint8Array([9, 8, 7, 6]);
  return [
    {
      path: "/v1/subscribe/exact",
      body: encodeSubscribeExact({ url: URL_, topic, recovery: REC, tracing: TRACING }),
      tracing: TRACING,
      signs: { type: "subscribe_exact", url: URL_, recovery: REC, topic },
      verifyAnswer: (b, c) =>
        verifyGeneric(b, c, { type: "confirm_subscribe_exact", url: URL_, recovery: REC, topic }),
    },
    {
      path: "/v1/subscribe/glob",
      body: encodeSubscribeGlob({ url: URL_, glob: "orders/*", recovery: null, tracing: TRACING }),
      tracing: TRACING,
      signs: { type: "subscribe_glob", url: URL_, recovery: null, glob: "orders/*" },
      verifyAnswer: (b, c) =>
        verifyGeneric(b, c, {
          type: "confirm_subscribe_glob",
          url: URL_,
          recovery: null,
          glob: "orders/*",
        }),
    },
    {
      path: "/v1/unsubscribe/exact",
      body: new Writer().lp16(URL_).lp16(topic).lp16(TRACING).finish().slice(),
      tracing: TRACING,
      signs: { type: "subscribe_exact", url: URL_, recovery: null, topic },
      prepare: async (b) => {
        assert.equal(await b.broadcaster.store.subscribeExact(URL_, topic, null), "success");
      },
      verifyAnswer: (b, c) =>
        verifyGeneric(b, c, { type: "confirm_subscribe_exact", url: URL_, recovery: null, topic }),
    },
    {
      path: "/v1/unsubscribe/glob",
      body: new Writer().lp16(URL_).lp16("orders/*").lp16(TRACING).finish().slice(),
      tracing: TRACING,
      signs: { type: "subscribe_glob", url: URL_, recovery: null, glob: "orders/*" },
      prepare: async (b) => {
        assert.equal(await b.broadcaster.store.subscribeGlob(URL_, "orders/*", null), "success");
      },
      verifyAnswer: (b, c) =>
        verifyGeneric(b, c, {
          type: "confirm_subscribe_glob",
          url: URL_,
          recovery: null,
          glob: "orders/*",
        }),
    },
    {
      path: "/v1/check_subscriptions",
      body: encodeCheckSubscriptions({ tracing: TRACING, url: URL_ }),
      tracing: TRACING,
      signs: { type: "check_subscriptions", url: URL_ },
      verifyAnswer: async (b, c) => {
        const r = parseResponseCheckSubscriptions(b);
        const msg: AuthMessage = {
          type: "check_subscriptions_response",
          etag: { format: 0, etag: r.etag },
        };
        return await c.toSubscriber.verify(msg, r.tracing, r.authorization, now());
      },
    },
    {
      path: "/v1/set_subscriptions",
      body: encodeSetSubscriptions({ tracing: TRACING, url: URL_, etagFormat: 0, etag, set }),
      tracing: TRACING,
      signs: { type: "set_subscriptions", url: URL_, etag: { format: 0, etag } },
      verifyAnswer: (b, c) =>
        verifyGeneric(b, c, { type: "set_subscriptions_response", etag: { format: 0, etag } }),
    },
    {
      path: "/v1/notify",
      body: encodeNotify({ topic, sha512, tracing: TRACING, identifier }, message),
      tracing: TRACING,
      signs: { type: "notify", topic, identifier, sha512 },
      verifyAnswer: async (b, c) => {
        const r = parseResponseNotify(b);
        assert.equal(r.count, 0);
        const msg: AuthMessage = {
          type: "confirm_notify",
          identifier: r.identifier,
          subscribers: r.count,
          topic,
          sha512,
        };
        return await c.toSubscriber.verify(msg, r.tracing, r.authorization, now());
      },
    },
  ];
}

async function send(b: TestBroadcaster, rc: RouteCase, authorization: string | null) {
  const headers: Record<string, string> = authorization === null ? {} : { authorization };
  return await post(`${b.url}${rc.path}`, rc.body, headers);
}

for (const kind of ["token", "hmac"] as const) {
  for (const rc of routeCases()) {
    Deno.test(`${rc.path} with ${kind} auth: accepted, 401 without, 403 wrong secret`, async () => {
      const secrets = secretsFor(kind);
      const server = authConfig(secrets);
      const client = authConfig(secrets);
      const stranger = authConfig(secretsFor(kind));
      try {
        await using b = await startBroadcaster({ auth: server });
        await rc.prepare?.(b);
        const missing = await send(b, rc, null);
        assert.equal(missing.status, 401);
        const wrong = await stranger.toBroadcaster.authorize(rc.signs, rc.tracing, now());
        assert.equal((await send(b, rc, wrong)).status, 403);
        const good = await client.toBroadcaster.authorize(rc.signs, rc.tracing, now());
        const res = await send(b, rc, good);
        assert.equal(res.status, 200);
        assert.equal(await rc.verifyAnswer(res.body, client), "ok", "signed answer verifies");
        assert.equal(
          await rc.verifyAnswer(res.body, stranger),
          "forbidden",
          "answer does not verify with another secret",
        );
        if (kind === "hmac") {
          assert.equal((await send(b, rc, good)).status, 403, "replay refused");
          const stale = await client.toBroadcaster.authorize(rc.signs, rc.tracing, now() - 200);
          assert.equal((await send(b, rc, stale)).status, 403, "stale timestamp refused");
          const garbage = "X-HMAC 1:" + "é".repeat(300) + ":" + "A".repeat(5000);
          assert.equal((await send(b, rc, garbage)).status, 403, "malformed is 403, not 500");
        }
      } finally {
        await closeAuth(client);
        await closeAuth(stranger);
      }
    });
  }
}

Deno.test("an hmac replay is still refused after the broadcaster restarts on the same files", async () => {
  const secrets = secretsFor("hmac");
  const client = authConfig(secrets);
  const rc = routeCases()[0]!;
  const replayDir = await Deno.makeTempDir();
  const replayPath = join(replayDir, "recent-hmacs.db");
  const serverAuth = async (): Promise<AuthConfig> => ({
    toBroadcaster: hmacAuth({
      secret: secrets.toBroadcaster as Uint8Array,
      replay: await sqliteReplayStore({ path: replayPath }),
    }),
    toSubscriber: hmacAuth({
      secret: secrets.toSubscriber as Uint8Array,
      replay: memoryReplayStore(),
    }),
  });
  try {
    const good = await client.toBroadcaster.authorize(rc.signs, rc.tracing, now());
    {
      await using b = await startBroadcaster({ auth: await serverAuth() });
      assert.equal((await send(b, rc, good)).status, 200);
    }
    await using again = await startBroadcaster({ auth: await serverAuth() });
    assert.equal((await send(again, rc, good)).status, 403);
  } finally {
    await closeAuth(client);
    await Deno.remove(replayDir, { recursive: true });
  }
});

Deno.test("a notify signed by the reference's own code is accepted once and its replay refused", async () => {
  // The authorization below was produced by lonelypsp 0.0.46 (tests/vectors/auth.json,
  // operation "notify"), at now = 1700000000.75 with the secret bytes 00..3f.
  const { default: vectors } = await import("./vectors/auth.json", { with: { type: "json" } });
  const v = vectors.hmac.vectors.find((x) => x.operation === "notify")!;
  const secret = Uint8Array.from({ length: 64 }, (_, i) => i);
  const message = enc("hello world");
  const sha512 = new Uint8Array(createHash("sha512").update(message).digest());
  assert.equal(Buffer.from(sha512).toString("hex"), v.inputs.message_sha512_hex);
  const body = encodeNotify({
    topic: Buffer.from(v.inputs.topic_hex!, "hex"),
    sha512,
    tracing: Buffer.from(v.inputs.tracing_hex, "hex"),
    identifier: Buffer.from(v.inputs.identifier_hex!, "hex"),
  }, message);
  const auth: AuthConfig = {
    toBroadcaster: hmacAuth({ secret, replay: memoryReplayStore() }),
    toSubscriber: hmacAuth({ secret: generateHmacSecret(), replay: memoryReplayStore() }),
  };
  await using b = await startBroadcaster({ auth, now: () => v.now });
  const first = await post(`${b.url}/v1/notify`, body, { authorization: v.authorization });
  assert.equal(first.status, 200);
  assert.equal(parseResponseNotify(first.body).count, 0);
  const replay = await post(`${b.url}/v1/notify`, body, { authorization: v.authorization });
  assert.equal(replay.status, 403);
});
