/**
 * Hostile websocket clients, one protocol violation per test, over real
 * sockets: each is closed with the exact code and reason of
 * docs/protocol/websocket.md#closing, its relay rows leave the store, nothing it
 * sent is delivered, and the broadcaster keeps serving websockets and HTTP.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CloseCode } from "../src/ws/close.ts";
import { encodeS2B, type S2BMessage } from "../src/protocol/stateful/mod.ts";
import { startBroadcaster, type TestBroadcaster } from "./_harness.ts";
import { WsClient } from "./_ws_client.ts";
import {
  assertClosed,
  assertRelayGone,
  assertServes,
  EMPTY,
  enc,
  httpNotify,
  relayRows,
  sha512,
} from "./_ws_checks.ts";

/** The topic an observer and the hostile client both subscribe to. */
const SHARED = enc("hostile/shared");

/** A NOTIFY of `body` to `topic`, correct unless `patch` says otherwise. */
function notifyMsg(topic: Uint8Array, body: Uint8Array, patch: Partial<S2BMessage> = {}) {
  const length = BigInt(body.length);
  return encodeS2B({
    type: "notify",
    authorization: null,
    tracing: EMPTY,
    identifier: enc("id-1"),
    topic,
    compressor: 0,
    compressedLength: length,
    decompressedLength: length,
    compressedSha512: sha512(body),
    body,
    ...patch,
  } as S2BMessage);
}

/** One NOTIFY_STREAM part of a `total`-byte message whose bytes are all `fill`. */
function streamPart(partId: number, chunk: number, total: number, identifier = enc("st-1")) {
  const first = partId === 0
    ? {
      topic: SHARED,
      compressor: 0,
      compressedLength: BigInt(total),
      decompressedLength: BigInt(total),
      compressedSha512: sha512(new Uint8Array(total).fill(7)),
    }
    : null;
  return encodeS2B({
    type: "notify_stream",
    authorization: null,
    tracing: EMPTY,
    identifier,
    partId,
    first,
    body: new Uint8Array(chunk).fill(7),
  });
}

/** A subscribe frame whose bytes the test then damages. */
function subscribeFrame(topic: Uint8Array): Uint8Array {
  return encodeS2B({ type: "subscribe_exact", authorization: null, tracing: EMPTY, topic });
}

interface Case {
  readonly name: string;
  /** The violation, sent by a configured client subscribed to its own topic and SHARED. */
  readonly act: (client: WsClient, own: Uint8Array) => Promise<void> | void;
  readonly code: number;
  readonly reason: string;
}

const PROTOCOL = CloseCode.PROTOCOL;

const CASES: Case[] = [
  {
    name: "a text frame",
    act: (c) => c.sendRaw("hello"),
    code: PROTOCOL,
    reason: "Text messages are not part of the protocol",
  },
  {
    name: "an unknown message type",
    act: (c) => c.sendRaw(new Uint8Array([0, 1, 0, 99])),
    code: PROTOCOL,
    reason: "Malformed message: Unknown subscriber message type: 99",
  },
  {
    name: "a frame too short for its type",
    act: (c) => c.sendRaw(new Uint8Array([0, 1, 0])),
    code: PROTOCOL,
    reason: "Malformed message: Truncated body: missing type",
  },
  {
    name: "truncated headers",
    act: (c) => c.sendRaw(subscribeFrame(enc("cut/off")).subarray(0, 8)),
    code: PROTOCOL,
    reason: "Malformed message: Truncated body: missing x-topic",
  },
  {
    name: "unknown flag bits",
    act: (c) => {
      const frame = subscribeFrame(enc("flags"));
      frame[1] = 3;
      c.sendRaw(frame);
    },
    code: PROTOCOL,
    reason: "Malformed message: Unknown flag bits: 0x3",
  },
  {
    name: "a second CONFIGURE",
    act: (c) =>
      c.send({
        type: "configure",
        subscriberNonce: new Uint8Array(32),
        enableZstd: false,
        enableTraining: false,
        initialDict: 0,
        authorization: null,
        tracing: EMPTY,
      }),
    code: PROTOCOL,
    reason: "CONFIGURE sent twice",
  },
  {
    name: "an acknowledgement with nothing expected",
    act: (c) =>
      c.send({
        type: "confirm_receive",
        identifier: enc("none"),
        authorization: null,
        tracing: EMPTY,
        numSubscribers: 1,
      }),
    code: PROTOCOL,
    reason: "Acknowledgement without a delivery",
  },
  {
    name: "a duplicate subscribe",
    act: (c, own) => c.sendSubscription("subscribe_exact", own),
    code: PROTOCOL,
    reason: "Already subscribed on this connection",
  },
  {
    name: "an unsubscribe of a topic not subscribed",
    act: (c) => c.sendSubscription("unsubscribe_exact", enc("never/subscribed")),
    code: PROTOCOL,
    reason: "Not subscribed on this connection",
  },
  {
    name: "an unsubscribe of a glob not subscribed",
    act: (c) => c.sendSubscription("unsubscribe_glob", "never/*"),
    code: PROTOCOL,
    reason: "Not subscribed on this connection",
  },
  {
    name: "a NOTIFY whose SHA-512 is wrong",
    act: (c) => c.sendRaw(notifyMsg(SHARED, enc("bad"), { compressedSha512: sha512(enc("x")) })),
    code: PROTOCOL,
    reason: "NOTIFY SHA-512 does not match",
  },
  {
    name: "a NOTIFY whose length is wrong",
    act: (c) =>
      c.sendRaw(notifyMsg(SHARED, enc("bad"), { compressedLength: 4n, decompressedLength: 4n })),
    code: PROTOCOL,
    reason: "NOTIFY body length differs from its header",
  },
  {
    name: "a NOTIFY with a compressor that was never announced",
    act: (c) => c.sendRaw(notifyMsg(SHARED, enc("zstd?"), { compressor: 1 })),
    code: PROTOCOL,
    reason: "Compressor 1 was not announced",
  },
  {
    name: "a NOTIFY_STREAM part out of order",
    act: (c) => {
      c.sendRaw(streamPart(0, 100, 300));
      c.sendRaw(streamPart(2, 100, 300));
    },
    code: PROTOCOL,
    reason: "NOTIFY_STREAM part out of order",
  },
  {
    name: "a NOTIFY_STREAM part of another stream",
    act: (c) => {
      c.sendRaw(streamPart(0, 100, 300));
      c.sendRaw(streamPart(1, 100, 300, enc("st-2")));
    },
    code: PROTOCOL,
    reason: "NOTIFY_STREAM part out of order",
  },
  {
    name: "a NOTIFY_STREAM part without a start",
    act: (c) => c.sendRaw(streamPart(1, 100, 300)),
    code: PROTOCOL,
    reason: "NOTIFY_STREAM part without start",
  },
  {
    name: "a NOTIFY_STREAM longer than announced",
    act: (c) => {
      c.sendRaw(streamPart(0, 200, 300));
      c.sendRaw(streamPart(1, 200, 300));
    },
    code: PROTOCOL,
    reason: "NOTIFY_STREAM longer than announced",
  },
];

/** A configured client subscribed to its own topic and to SHARED; checks its relay row. */
async function hostileClient(b: TestBroadcaster): Promise<{ client: WsClient; own: Uint8Array }> {
  const own = enc(`hostile/${crypto.randomUUID()}`);
  const client = await WsClient.connect(b.url);
  await client.configure();
  await client.subscription("subscribe_exact", own);
  await client.subscription("subscribe_exact", SHARED);
  assert.equal(await relayRows(b, own), 1);
  return { client, own };
}

/**
 * After the hostile client is gone: its own relay row left the store, a
 * notify to SHARED reaches only the observer (count 1), and that is the
 * observer's first delivery (nothing the hostile client sent went out).
 */
async function assertAftermath(b: TestBroadcaster, observer: WsClient, own: Uint8Array) {
  await assertRelayGone(b, own);
  const marker = enc("marker");
  const count = httpNotify(b.url, SHARED, marker);
  assert.deepEqual((await observer.receive()).message, marker);
  assert.equal(await count, 1);
}

for (const c of CASES) {
  Deno.test(`websocket hostile: ${c.name} closes ${c.code}`, async () => {
    await using b = await startBroadcaster();
    await using observer = await WsClient.connect(b.url);
    await observer.configure();
    await observer.subscription("subscribe_exact", SHARED);
    const { client, own } = await hostileClient(b);
    await using _ = client;
    await c.act(client, own);
    await assertClosed(client, c.code, c.reason);
    await assertAftermath(b, observer, own);
    await assertServes(b);
  });
}

Deno.test("websocket hostile: a subscribe before CONFIGURE closes 1002 and writes no row", async () => {
  await using b = await startBroadcaster();
  await using client = await WsClient.connect(b.url);
  const topic = enc("too/early");
  client.send({ type: "subscribe_exact", authorization: null, tracing: EMPTY, topic });
  await assertClosed(client, PROTOCOL, "The first message must be CONFIGURE");
  assert.equal(await relayRows(b, topic), 0);
  await assertServes(b);
});

Deno.test("websocket hostile: an oversize frame closes 1009, one at the limit is fine", async () => {
  const limit = 4096;
  await using b = await startBroadcaster({ limits: { websocketMaxIncomingBytes: limit } });
  await using observer = await WsClient.connect(b.url);
  await observer.configure();
  await observer.subscription("subscribe_exact", SHARED);
  const { client, own } = await hostileClient(b);
  await using _ = client;
  // A NOTIFY of exactly the limit is processed (the hostile client is
  // subscribed too, so it counts 2).
  const overhead = notifyMsg(SHARED, new Uint8Array(limit / 2)).length - limit / 2;
  const fits = new Uint8Array(limit - overhead).fill(1);
  assert.equal(notifyMsg(SHARED, fits).length, limit);
  const first = client.expect("confirm_notify");
  client.sendRaw(notifyMsg(SHARED, fits));
  assert.equal((await first).subscribers, 2);
  assert.deepEqual((await observer.receive()).message, fits);
  client.sendRaw(notifyMsg(SHARED, new Uint8Array(limit - overhead + 1)));
  await assertClosed(client, CloseCode.TOO_BIG, "Message larger than the limit");
  await assertAftermath(b, observer, own);
  await assertServes(b);
});

Deno.test("websocket hostile: an acknowledgement for the wrong delivery closes 1002", async () => {
  await using b = await startBroadcaster();
  await using observer = await WsClient.connect(b.url);
  await observer.configure();
  await observer.subscription("subscribe_exact", SHARED);
  const { client, own } = await hostileClient(b);
  await using _ = client;
  assert.equal(await httpNotify(b.url, SHARED, enc("one")), 2);
  const delivery = await client.expect("receive_stream");
  assert.equal(delivery.partId, 0);
  const wrong = delivery.identifier.map((x) => x ^ 0xff);
  client.send({
    type: "confirm_receive",
    identifier: wrong,
    authorization: null,
    tracing: EMPTY,
    numSubscribers: 1,
  });
  await assertClosed(client, PROTOCOL, "Acknowledgement for another delivery or part");
  assert.deepEqual((await observer.receive()).message, enc("one"));
  await assertAftermath(b, observer, own);
  await assertServes(b);
});

Deno.test("websocket hostile: CONTINUE_RECEIVE for a final part closes 1002", async () => {
  await using b = await startBroadcaster();
  await using observer = await WsClient.connect(b.url);
  await observer.configure();
  await observer.subscription("subscribe_exact", SHARED);
  const { client, own } = await hostileClient(b);
  await using _ = client;
  assert.equal(await httpNotify(b.url, SHARED, enc("one")), 2);
  const delivery = await client.expect("receive_stream");
  client.send({
    type: "continue_receive",
    identifier: delivery.identifier,
    partId: 0,
    authorization: null,
    tracing: EMPTY,
  });
  await assertClosed(client, PROTOCOL, "CONTINUE_RECEIVE where CONFIRM_RECEIVE was expected");
  assert.deepEqual((await observer.receive()).message, enc("one"));
  await assertAftermath(b, observer, own);
  await assertServes(b);
});
