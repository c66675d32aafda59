/**
 * Hostile websocket clients under hmac auth, over real sockets: a missing,
 * foreign, misdirected (wrong pseudo-url) or replayed authorization closes the
 * connection with 1008, removes its relay rows, and leaves the broadcaster
 * serving websockets and HTTP.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type AuthConfig,
  generateHmacSecret,
  hmacAuth,
  memoryReplayStore,
} from "../src/auth/mod.ts";
import { encodeS2B, pseudoUrl, type S2BMessage } from "../src/protocol/stateful/mod.ts";
import { CloseCode } from "../src/ws/close.ts";
import { startBroadcaster, type TestBroadcaster } from "./_harness.ts";
import { WsClient } from "./_ws_client.ts";
import {
  assertClosed,
  assertRelayGone,
  assertServes,
  EMPTY,
  enc,
  httpNotify,
  now,
  relayRows,
  sha512,
} from "./_ws_checks.ts";

interface Secrets {
  readonly toBroadcaster: Uint8Array;
  readonly toSubscriber: Uint8Array;
}

function newSecrets(): Secrets {
  return { toBroadcaster: generateHmacSecret(), toSubscriber: generateHmacSecret() };
}

/** One side's hmac strategies (each side remembers the codes it has seen). */
function hmacConfig(s: Secrets): AuthConfig {
  return {
    toBroadcaster: hmacAuth({ secret: s.toBroadcaster, replay: memoryReplayStore() }),
    toSubscriber: hmacAuth({ secret: s.toSubscriber, replay: memoryReplayStore() }),
  };
}

/** A broadcaster with hmac both ways, and the subscribers' copy of the secrets. */
async function hmacBroadcaster(): Promise<
  { b: TestBroadcaster; client: AuthConfig } & AsyncDisposable
> {
  const secrets = newSecrets();
  const b = await startBroadcaster({ auth: hmacConfig(secrets) });
  const client = hmacConfig(secrets);
  return {
    b,
    client,
    async [Symbol.asyncDispose]() {
      await b[Symbol.asyncDispose]();
      await client.toBroadcaster.close();
      await client.toSubscriber.close();
    },
  };
}

/** A CONFIGURE frame signed by `auth` (null: no authorization). */
async function configureFrame(auth: AuthConfig | null): Promise<Uint8Array> {
  const fields = {
    subscriberNonce: crypto.getRandomValues(new Uint8Array(32)),
    enableZstd: false,
    enableTraining: false,
    initialDict: 0,
  };
  const authorization = auth === null
    ? null
    : await auth.toBroadcaster.authorize({ type: "stateful_configure", ...fields }, EMPTY, now());
  return encodeS2B({ type: "configure", ...fields, authorization, tracing: EMPTY });
}

/** A configured hmac client subscribed to its own topic (relay row checked). */
async function subscribedClient(b: TestBroadcaster, auth: AuthConfig) {
  const own = enc(`hostile/${crypto.randomUUID()}`);
  const client = await WsClient.connect(b.url, auth);
  await client.configure();
  await client.subscription("subscribe_exact", own);
  assert.equal(await relayRows(b, own), 1);
  return { client, own };
}

Deno.test("websocket hmac: CONFIGURE without authorization closes 1008", async () => {
  await using s = await hmacBroadcaster();
  await using client = await WsClient.connect(s.b.url, s.client);
  client.sendRaw(await configureFrame(null));
  await assertClosed(client, CloseCode.POLICY, "Authorization unauthorized (CONFIGURE)");
  await assertServes(s.b, s.client);
});

Deno.test("websocket hmac: CONFIGURE signed with another secret closes 1008", async () => {
  await using s = await hmacBroadcaster();
  const stranger = hmacConfig(newSecrets());
  try {
    await using client = await WsClient.connect(s.b.url, stranger);
    client.sendRaw(await configureFrame(stranger));
    await assertClosed(client, CloseCode.POLICY, "Authorization forbidden (CONFIGURE)");
  } finally {
    await stranger.toBroadcaster.close();
    await stranger.toSubscriber.close();
  }
  await assertServes(s.b, s.client);
});

Deno.test("websocket hmac: a CONFIGURE replayed on a second connection closes 1008", async () => {
  await using s = await hmacBroadcaster();
  const frame = await configureFrame(s.client);
  await using first = await WsClient.connect(s.b.url, s.client);
  first.sendRaw(frame);
  await first.expect("confirm_configure");
  await using second = await WsClient.connect(s.b.url, s.client);
  second.sendRaw(frame);
  await assertClosed(second, CloseCode.POLICY, "Authorization forbidden (CONFIGURE)");
  assert.equal((await first.close()).code, 1000);
  await assertServes(s.b, s.client);
});

Deno.test("websocket hmac: a SUBSCRIBE signed for the wrong counter closes 1008", async () => {
  await using s = await hmacBroadcaster();
  const { client, own } = await subscribedClient(s.b, s.client);
  await using _ = client;
  // Signed for the counter after the one the broadcaster expects (-2).
  const topic = enc("skipped/counter");
  const url = pseudoUrl(client.nonce, client.subscriberCounter - 1);
  const authorization = await s.client.toBroadcaster.authorize(
    { type: "subscribe_exact", url, recovery: null, topic },
    EMPTY,
    now(),
  );
  client.send({ type: "subscribe_exact", authorization, tracing: EMPTY, topic });
  await assertClosed(client, CloseCode.POLICY, "Authorization forbidden (SUBSCRIBE_EXACT)");
  await assertRelayGone(s.b, own);
  assert.equal(await relayRows(s.b, topic), 0);
  await assertServes(s.b, s.client);
});

Deno.test("websocket hmac: the same NOTIFY frame sent twice closes 1008 on the replay", async () => {
  await using s = await hmacBroadcaster();
  const { client, own } = await subscribedClient(s.b, s.client);
  await using _ = client;
  const body = enc("once only");
  const identifier = enc("id-1");
  const hash = sha512(body);
  const authorization = await s.client.toBroadcaster.authorize(
    { type: "notify", topic: own, identifier, sha512: hash },
    EMPTY,
    now(),
  );
  const frame = encodeS2B({
    type: "notify",
    authorization,
    tracing: EMPTY,
    identifier,
    topic: own,
    compressor: 0,
    compressedLength: BigInt(body.length),
    decompressedLength: BigInt(body.length),
    compressedSha512: hash,
    body,
  } as S2BMessage);
  client.sendRaw(frame);
  assert.equal((await client.expect("confirm_notify")).subscribers, 1);
  assert.deepEqual((await client.receive()).message, body);
  client.sendRaw(frame);
  await assertClosed(client, CloseCode.POLICY, "Authorization forbidden (NOTIFY)");
  await assertRelayGone(s.b, own);
  assert.equal(await httpNotify(s.b.url, own, body, s.client), 0);
  await assertServes(s.b, s.client);
});

Deno.test("websocket hmac: a CONFIRM_RECEIVE signed for the wrong counter closes 1008", async () => {
  await using s = await hmacBroadcaster();
  const { client, own } = await subscribedClient(s.b, s.client);
  await using _ = client;
  assert.equal(await httpNotify(s.b.url, own, enc("ack me"), s.client), 1);
  const delivery = await client.expect("receive_stream");
  const url = pseudoUrl(client.nonce, client.subscriberCounter + 1); // the one already used
  const authorization = await s.client.toBroadcaster.authorize(
    { type: "confirm_receive", identifier: delivery.identifier, numSubscribers: 1, url },
    EMPTY,
    now(),
  );
  client.send({
    type: "confirm_receive",
    identifier: delivery.identifier,
    authorization,
    tracing: EMPTY,
    numSubscribers: 1,
  });
  await assertClosed(client, CloseCode.POLICY, "Authorization forbidden (CONFIRM_RECEIVE)");
  await assertRelayGone(s.b, own);
  await assertServes(s.b, s.client);
});
