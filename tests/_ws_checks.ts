/**
 * Checks shared by the hostile websocket tests: how a connection was closed,
 * that its relay rows are gone, and that the broadcaster still serves a
 * well-behaved websocket client and HTTP.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { AuthConfig, AuthMessage, AuthStrategy } from "../src/auth/types.ts";
import { encodeNotify, parseResponseNotify } from "../src/protocol/notify.ts";
import { encodeSubscribeExact } from "../src/protocol/subscribe.ts";
import { post, type TestBroadcaster } from "./_harness.ts";
import { WsClient } from "./_ws_client.ts";

/** UTF-8 bytes of `s`. */
export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
/** No bytes. */
export const EMPTY: Uint8Array = new Uint8Array(0);
/** Epoch seconds, as the auth strategies take it. */
export const now = (): number => Date.now() / 1000;

/** SHA-512 of `bytes`. */
export function sha512(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha512").update(bytes).digest());
}

/** HTTP notify; resolves with the subscriber count of the 200 answer. */
export async function httpNotify(
  base: string,
  topic: Uint8Array,
  message: Uint8Array,
  auth?: AuthConfig,
): Promise<number> {
  const identifier = crypto.getRandomValues(new Uint8Array(8));
  const hash = sha512(message);
  const headers: Record<string, string> = {};
  if (auth !== undefined) {
    const authorization = await auth.toBroadcaster.authorize(
      { type: "notify", topic, identifier, sha512: hash },
      EMPTY,
      now(),
    );
    if (authorization !== null) headers.authorization = authorization;
  }
  const res = await post(
    `${base}/v1/notify`,
    encodeNotify({ topic, sha512: hash, tracing: EMPTY, identifier }, message),
    headers,
  );
  assert.equal(res.status, 200, new TextDecoder().decode(res.body));
  return parseResponseNotify(res.body).count;
}

/** Waits for the close and checks its code and reason (exact text or pattern). */
export async function assertClosed(
  client: WsClient,
  code: number,
  reason: string | RegExp,
): Promise<void> {
  const closed = await withTimeout(client.closed, 10_000, "the broadcaster's close");
  assert.equal(closed.code, code, `close reason: ${closed.reason}`);
  if (typeof reason === "string") assert.equal(closed.reason, reason);
  else assert.match(closed.reason, reason);
}

/** The broadcaster's relay url (its rows in the shared store). */
export function relayUrl(b: TestBroadcaster): string {
  return `${b.url}/v1/receive_for_websockets`;
}

/** How many relay rows of this broadcaster match `topic` in the store. */
export async function relayRows(b: TestBroadcaster, topic: Uint8Array): Promise<number> {
  const rows = await b.broadcaster.store.getSubscribers(topic);
  assert.notEqual(rows, "unavailable");
  return (rows as { url: string }[]).filter((r) => r.url === relayUrl(b)).length;
}

/**
 * Polls `check` until it holds, for at most `ms` (a bounded poll of state the
 * test cannot be told about, never a fixed sleep).
 */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  what: string,
  ms = 5_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (let wait = 1;; wait = Math.min(wait * 2, 50)) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, wait));
  }
}

/** Waits until no relay row of this broadcaster matches `topic`. */
export async function assertRelayGone(b: TestBroadcaster, topic: Uint8Array): Promise<void> {
  await eventually(async () => await relayRows(b, topic) === 0, "the relay row to go");
}

/**
 * The broadcaster still serves: a fresh websocket client configures,
 * subscribes and gets a delivery of an HTTP notify (count 1), and an HTTP
 * subscribe answers 200.
 */
export async function assertServes(b: TestBroadcaster, auth?: AuthConfig): Promise<void> {
  const topic = enc(`after/${crypto.randomUUID()}`);
  {
    await using client = await WsClient.connect(b.url, auth);
    await client.configure();
    await client.subscription("subscribe_exact", topic);
    const message = enc("still here");
    const count = httpNotify(b.url, topic, message, auth);
    assert.deepEqual((await client.receive()).message, message);
    assert.equal(await count, 1);
    assert.equal((await client.close()).code, 1000);
  }
  await assertRelayGone(b, topic);
  const url = "http://127.0.0.1:9/v1/receive";
  const headers: Record<string, string> = {};
  if (auth !== undefined) {
    const authorization = await auth.toBroadcaster.authorize(
      { type: "subscribe_exact", url, recovery: null, topic },
      EMPTY,
      now(),
    );
    if (authorization !== null) headers.authorization = authorization;
  }
  const res = await post(
    `${b.url}/v1/subscribe/exact`,
    encodeSubscribeExact({ url, topic, recovery: null, tracing: EMPTY }),
    headers,
  );
  assert.equal(res.status, 200, new TextDecoder().decode(res.body));
}

/** `promise`, or a rejection naming `what` after `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A step held until the test releases it. */
export interface Gate {
  /** Resolves once the step is reached. */
  readonly reached: Promise<void>;
  /** Lets the step (and every later one) through. */
  release(): void;
  /** Marks the step reached and holds the caller until {@link Gate.release}. */
  pass(): Promise<void>;
}

/** A closed {@link Gate}. */
export function gate(): Gate {
  const reached = Promise.withResolvers<void>();
  const open = Promise.withResolvers<void>();
  return {
    reached: reached.promise,
    release: () => open.resolve(),
    pass: () => {
      reached.resolve();
      return open.promise;
    },
  };
}

/** Accepts everything, but holds the verification of `type` messages at `g`. */
export function gatedAuth(type: AuthMessage["type"], g: Gate): AuthStrategy {
  return {
    kind: "none",
    authorize: () => Promise.resolve(null),
    async verify(message) {
      if (message.type === type) await g.pass();
      return "ok";
    },
    close: () => Promise.resolve(),
  };
}
