/**
 * Hostile websocket clients that hang up while the broadcaster is still
 * working on what they sent: in the middle of a NOTIFY_STREAM (spool file),
 * while a SUBSCRIBE is being verified, while its relay row is being written.
 * Nothing may outlive the connection: no spool file, no relay row, no
 * registration of the dead connection. The slow steps are held open by gated
 * auth or storage the test releases, never by sleeps.
 *
 * @module
 */

import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeReceiveHeader, reprDigestHeader } from "../src/protocol/receive.ts";
import { encodeS2B } from "../src/protocol/stateful/mod.ts";
import { openSqliteStore } from "../src/storage/sqlite/store.ts";
import type { Store } from "../src/storage/types.ts";
import { CloseCode } from "../src/ws/close.ts";
import { post, startBroadcaster, type TestBroadcaster } from "./_harness.ts";
import { WsClient } from "./_ws_client.ts";
import {
  assertClosed,
  assertServes,
  EMPTY,
  enc,
  type Gate,
  gate,
  gatedAuth,
  relayRows,
  sha512,
} from "./_ws_checks.ts";

/** How a connection ends while the broadcaster is busy with it. */
const HANG_UPS = [
  { name: "the client closes", end: (c: WsClient) => void c.close(), code: 1000 },
  { name: "it sends a text frame", end: (c: WsClient) => c.sendRaw("bye"), code: 1002 },
] as const;

/** Spool files in `dir`. */
async function spoolFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith(".spool"));
}

/** One 4,000-byte part of a 10,000-byte NOTIFY_STREAM (spooled above a 1 KiB threshold). */
function bigStreamPart(partId: number): Uint8Array {
  const total = 10_000;
  const message = new Uint8Array(total).fill(5);
  return encodeS2B({
    type: "notify_stream",
    authorization: null,
    tracing: EMPTY,
    identifier: enc("big"),
    partId,
    first: partId === 0
      ? {
        topic: enc("spooled"),
        compressor: 0,
        compressedLength: BigInt(total),
        decompressedLength: BigInt(total),
        compressedSha512: sha512(message),
      }
      : null,
    body: message.subarray(0, 4000),
  });
}

/** Checks the broadcaster still serves, then that no spool file is left once it has stopped. */
async function assertNoSpoolLeft(b: TestBroadcaster): Promise<void> {
  await assertServes(b);
  // Once the server has shut down, every session has ended, its work included.
  await b.server.shutdown(5_000);
  assert.deepEqual(await spoolFiles(b.dir), []);
}

for (const h of HANG_UPS) {
  Deno.test(`websocket hostile: no spool file is left when ${h.name} after part 0 was accepted`, async () => {
    await using b = await startBroadcaster({ limits: { spoolThresholdBytes: 1024 } });
    {
      await using client = await WsClient.connect(b.url);
      await client.configure();
      client.sendRaw(bigStreamPart(0));
      assert.equal((await client.expect("continue_notify")).partId, 0);
      assert.equal((await spoolFiles(b.dir)).length, 1, "part 0 was not spooled");
      await h.end(client);
      assert.equal((await client.closed).code, h.code);
    }
    await assertNoSpoolLeft(b);
  });

  Deno.test(`websocket hostile: no spool file is left when ${h.name} while part 0 is verified`, async () => {
    const g = gate();
    await using b = await startBroadcaster({
      limits: { spoolThresholdBytes: 1024 },
      auth: { toBroadcaster: gatedAuth("notify", g) },
    });
    {
      await using client = await WsClient.connect(b.url);
      await client.configure();
      client.sendRaw(bigStreamPart(0));
      await g.reached;
      await h.end(client);
      assert.equal((await client.closed).code, h.code);
      // The part's processing goes on (creating the spool file) after the close.
      g.release();
    }
    await assertNoSpoolLeft(b);
  });

  Deno.test(`websocket hostile: no spool file is left when ${h.name} right after part 0`, async () => {
    await using b = await startBroadcaster({ limits: { spoolThresholdBytes: 1024 } });
    {
      await using client = await WsClient.connect(b.url);
      await client.configure();
      client.sendRaw(bigStreamPart(0));
      await h.end(client);
      assert.equal((await client.closed).code, h.code);
    }
    await assertNoSpoolLeft(b);
  });
}

Deno.test("websocket hostile: a part out of order after a spooled part 0 leaves no spool file", async () => {
  await using b = await startBroadcaster({ limits: { spoolThresholdBytes: 1024 } });
  {
    await using client = await WsClient.connect(b.url);
    await client.configure();
    client.sendRaw(bigStreamPart(0));
    assert.equal((await client.expect("continue_notify")).partId, 0);
    assert.equal((await spoolFiles(b.dir)).length, 1, "part 0 was not spooled");
    client.sendRaw(bigStreamPart(2));
    await assertClosed(client, CloseCode.PROTOCOL, "NOTIFY_STREAM part out of order");
  }
  await assertNoSpoolLeft(b);
});

/**
 * POSTs a RECEIVE for `topic` to the broadcaster's own relay route: 200 when
 * it has a connection that wants the topic, 400 (unsubscribe-immediate) when
 * not.
 */
async function relayStatus(b: TestBroadcaster, topic: Uint8Array): Promise<number> {
  const message = enc("relayed");
  const head = encodeReceiveHeader({
    tracing: EMPTY,
    topic,
    identifier: enc("relay-id"),
    length: BigInt(message.length),
  });
  const body = new Uint8Array(head.length + message.length);
  body.set(head);
  body.set(message, head.length);
  const res = await post(`${b.url}/v1/receive_for_websockets`, body, {
    "repr-digest": reprDigestHeader(sha512(message)),
  });
  return res.status;
}

for (const h of HANG_UPS) {
  Deno.test(`websocket hostile: no relay row is left when ${h.name} while its SUBSCRIBE is verified`, async () => {
    const g = gate();
    await using b = await startBroadcaster({
      auth: { toBroadcaster: gatedAuth("subscribe_exact", g) },
    });
    const topic = enc("verified/late");
    {
      await using client = await WsClient.connect(b.url);
      await client.configure();
      await client.sendSubscription("subscribe_exact", topic);
      await g.reached;
      await h.end(client);
      assert.equal((await client.closed).code, h.code);
      g.release();
    }
    // A fresh client's subscription is stored after anything the dead one's
    // could still do, so once it is served the store tells.
    await assertServes(b);
    assert.equal(await relayRows(b, topic), 0);
    assert.equal(await relayStatus(b, topic), 400);
  });
}

/** The SQLite store, with relay-row writes for `topic` held at `g`. */
async function gatedStore(path: string, topic: Uint8Array, g: Gate): Promise<Store> {
  const inner = await openSqliteStore({ path });
  const gated: Pick<Store, "subscribeExact"> = {
    async subscribeExact(url, t, recovery) {
      if (url.endsWith("/v1/receive_for_websockets") && t.join() === topic.join()) await g.pass();
      return await inner.subscribeExact(url, t, recovery);
    },
  };
  return new Proxy(inner, {
    get: (target, prop) => {
      if (prop === "subscribeExact") return gated.subscribeExact;
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

for (const h of HANG_UPS) {
  Deno.test(`websocket hostile: nothing is left when ${h.name} while its relay row is written`, async () => {
    const dir = await mkdtemp(join(tmpdir(), "lonelypss-race-"));
    try {
      const g = gate();
      const topic = enc("stored/late");
      await using b = await startBroadcaster({
        store: await gatedStore(join(dir, "store.db"), topic, g),
      });
      {
        await using client = await WsClient.connect(b.url);
        await client.configure();
        await client.sendSubscription("subscribe_exact", topic);
        await g.reached;
        await h.end(client);
        assert.equal((await client.closed).code, h.code);
        g.release();
      }
      await assertServes(b);
      assert.equal(await relayRows(b, topic), 0);
      // The dead connection is not registered for the topic either.
      assert.equal(await relayStatus(b, topic), 400);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
