/**
 * Bad input reaches the application as a typed error or a `"lost"` status,
 * never as a hang or an unhandled rejection: broadcasters answering garbage
 * (HTTP and websocket), deliveries with a wrong hash or a bad signature.
 */

import assert from "node:assert/strict";
import { ClientError, connectHttp, connectWebsocket } from "../src/client/mod.ts";
import { sha512 } from "../src/crypto/sha512.ts";
import { generateHmacSecret, hmacAuth, memoryReplayStore } from "../src/auth/mod.ts";
import {
  encodeReceiveHeader,
  parseReceiveResponse,
  reprDigestHeader,
} from "../src/protocol/mod.ts";
import { encodeB2S } from "../src/protocol/stateful/mod.ts";
import { startBroadcaster } from "./_harness.ts";
import { nextWithin, statusRecorder } from "./_client.ts";

const EMPTY = new Uint8Array(0);
const isKind = (kind: string) => (e: Error) => e instanceof ClientError && e.kind === kind;

Deno.test("hostile: a broadcaster answering garbage to notify gives a protocol error", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    await req.body?.cancel();
    return new Response(new Uint8Array([0, 4, 1, 2, 3]));
  });
  try {
    await using c = await connectHttp({ broadcasters: [`http://127.0.0.1:${server.addr.port}`] });
    await assert.rejects(c.notify("t", "x"), isKind("protocol"));
  } finally {
    await server.shutdown();
  }
});

/** A websocket "broadcaster" that answers CONFIGURE with `reply(frame)`. */
function fakeWs(reply: (socket: WebSocket) => void) {
  const sockets: WebSocket[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    sockets.push(socket);
    socket.binaryType = "arraybuffer";
    socket.onmessage = () => reply(socket);
    return response;
  });
  return {
    url: `ws://127.0.0.1:${server.addr.port}/v1/websocket`,
    async close() {
      for (const s of sockets) if (s.readyState === WebSocket.OPEN) s.close();
      await server.shutdown();
    },
  };
}

Deno.test("hostile: garbage instead of CONFIRM_CONFIGURE rejects connectWebsocket", async () => {
  const fake = fakeWs((s) => s.send(new Uint8Array([0, 1, 0xff, 0xff, 9])));
  try {
    await assert.rejects(
      connectWebsocket({ broadcasters: [fake.url], reconnect: { maxAttempts: 1 } }),
      (e: Error) => e instanceof ClientError && e.kind === "protocol",
    );
  } finally {
    await fake.close();
  }
});

Deno.test("hostile: a delivery with a wrong hash drops the connection: lost, then ok again", async () => {
  let configured = 0;
  const fake = fakeWs((s) => {
    if (configured++ > 100) return;
    s.onmessage = null;
    s.send(encodeB2S({
      type: "confirm_configure",
      broadcasterNonce: new Uint8Array(32),
      authorization: null,
      tracing: EMPTY,
    }));
    // Later frames (SUBSCRIBE_EXACT) get a confirmation, then a corrupt delivery.
    s.onmessage = () => {
      s.onmessage = null;
      const topic = new TextEncoder().encode("t");
      s.send(
        encodeB2S({ type: "confirm_subscribe_exact", topic, authorization: null, tracing: EMPTY }),
      );
      if (configured > 1) return; // the second connection stays healthy
      const body = new TextEncoder().encode("hello");
      s.send(encodeB2S({
        type: "receive_stream",
        authorization: null,
        tracing: EMPTY,
        identifier: new Uint8Array([1, 2, 3, 4]),
        partId: 0,
        first: {
          topic,
          compressor: 0,
          compressedLength: 5n,
          decompressedLength: 5n,
          compressedSha512: sha512(new TextEncoder().encode("HELLO")),
        },
        body,
      }));
    };
  });
  try {
    await using c = await connectWebsocket({
      broadcasters: [fake.url],
      reconnect: { minDelayMs: 1, maxDelayMs: 10 },
    });
    const statuses = statusRecorder((l) => c.onStatus(l));
    const sub = await c.subscribeExact("t");
    await statuses.waitFor(["lost", "ok"]);
    assert.equal(sub.dropped, 0);
    statuses.stop();
  } finally {
    await fake.close();
  }
});

Deno.test("hostile: the webhook receiver refuses a wrong hash, a bad signature, no digest", async () => {
  const secret = generateHmacSecret();
  const broadcasterSide = hmacAuth({ secret, replay: memoryReplayStore() });
  await using bc = await startBroadcaster();
  const port = (() => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const p = (l.addr as Deno.NetAddr).port;
    l.close();
    return p;
  })();
  await using c = await connectHttp({
    broadcasters: [bc.url],
    auth: { toSubscriber: hmacAuth({ secret, replay: memoryReplayStore() }) },
    receiver: { url: `http://127.0.0.1:${port}` },
  });
  // Not served: subscribing still registers the url (the broadcaster only stores it).
  const sub = await c.subscribeExact("t");
  const url = `http://127.0.0.1:${port}/v1/receive?s=1`;
  const topic = new TextEncoder().encode("t");
  const identifier = new Uint8Array(8);
  const message = new TextEncoder().encode("hello");
  const body = new Uint8Array([
    ...encodeReceiveHeader({ tracing: EMPTY, topic, identifier, length: 5n }),
    ...message,
  ]);
  const post = async (digest: Uint8Array | null, authorization: string | null) => {
    const headers: Record<string, string> = {};
    if (digest !== null) headers["repr-digest"] = reprDigestHeader(digest);
    if (authorization !== null) headers["authorization"] = authorization;
    return await c.handle(new Request(url, { method: "POST", headers, body }));
  };
  const sign = (sha: Uint8Array) =>
    broadcasterSide.authorize(
      { type: "receive", url, topic, identifier, sha512: sha },
      EMPTY,
      Date.now() / 1000,
    );
  assert.equal((await post(null, await sign(sha512(message)))).status, 400);
  assert.equal((await post(sha512(message), "X-HMAC garbage")).status, 403);
  assert.equal((await post(sha512(message), null)).status, 401);
  const wrong = sha512(new TextEncoder().encode("other"));
  const res = await post(wrong, await sign(wrong));
  assert.equal(res.status, 400, await res.clone().text());
  const ok = await post(sha512(message), await sign(sha512(message)));
  assert.equal(ok.status, 200);
  assert.equal(
    parseReceiveResponse(new Uint8Array(await ok.arrayBuffer())).type,
    "confirm_receive",
  );
  assert.equal(await (await nextWithin(sub[Symbol.asyncIterator]())).text(), "hello");
});
