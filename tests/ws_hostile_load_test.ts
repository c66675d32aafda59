/**
 * Hostile websocket clients that hurt by doing too little or too much: one
 * that never sends CONFIGURE, one that never reads, a thousand at once. Real
 * sockets, a real broadcaster; the assertions are on close codes, memory,
 * the other subscribers and the store.
 *
 * @module
 */

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { encodeB2S, parseB2S } from "../src/protocol/stateful/mod.ts";
import type { Limits } from "../src/core/limits.ts";
import { CloseCode } from "../src/ws/close.ts";
import { startBroadcaster, type TestBroadcaster } from "./_harness.ts";
import { WsClient } from "./_ws_client.ts";
import { RawWsClient } from "./_ws_raw.ts";
import {
  assertClosed,
  assertRelayGone,
  assertServes,
  EMPTY,
  enc,
  gate,
  gatedAuth,
  httpNotify,
  relayRows,
} from "./_ws_checks.ts";

const MiB = 1024 * 1024;

Deno.test("websocket hostile: a client that never sends CONFIGURE is closed 1008", async () => {
  await using b = await startBroadcaster({ limits: { websocketConfigureTimeoutMs: 200 } });
  const started = Date.now();
  await using client = await WsClient.connect(b.url);
  await assertClosed(client, CloseCode.POLICY, "CONFIGURE not received in time");
  assert.ok(Date.now() - started >= 150, "closed before the timeout");
  await assertServes(b);
});

Deno.test("websocket hostile: a flood of messages while one is processed is closed 1013", async () => {
  const g = gate();
  await using b = await startBroadcaster({
    limits: { websocketMaxUnprocessed: 4 },
    auth: { toBroadcaster: gatedAuth("notify", g) },
  });
  const topic = enc("flood");
  {
    await using client = await WsClient.connect(b.url);
    await client.configure();
    await client.subscription("subscribe_exact", topic);
    const notify = () => void client.notify(topic, enc("flood")).catch(() => {});
    notify(); // held in verification: the others wait behind it
    await g.reached;
    for (let i = 0; i < 4; i++) notify();
    await assertClosed(client, CloseCode.TRY_AGAIN_LATER, "Too many unprocessed messages");
    g.release();
  }
  await assertRelayGone(b, topic);
  await assertServes(b);
});

/** A raw client that configures and subscribes to `topic`, reading only the two confirmations. */
async function nonReader(b: TestBroadcaster, topic: Uint8Array): Promise<RawWsClient> {
  const raw = await RawWsClient.connect(b.url);
  await raw.send({
    type: "configure",
    subscriberNonce: crypto.getRandomValues(new Uint8Array(32)),
    enableZstd: false,
    enableTraining: false,
    initialDict: 0,
    authorization: null,
    tracing: EMPTY,
  });
  assert.equal(parseB2S(await raw.next()).type, "confirm_configure");
  await raw.send({ type: "subscribe_exact", authorization: null, tracing: EMPTY, topic });
  const confirm = encodeB2S({
    type: "confirm_subscribe_exact",
    topic,
    authorization: null,
    tracing: EMPTY,
  });
  assert.deepEqual(await raw.next(), confirm);
  return raw;
}

/** Message `i` of a run: `size` bytes, its index in the first four. */
function numbered(base: Uint8Array, i: number): Uint8Array {
  const m = base.slice();
  new DataView(m.buffer).setUint32(0, i);
  return m;
}

interface SlowCase {
  /** Which limit the never-reading client runs into. */
  readonly limit: string;
  readonly limits: Partial<Limits>;
  readonly size: number;
  readonly reason: string;
  /** Most deliveries the slow client can be counted for before the close. */
  readonly maxCounted: number;
  /** Most deliveries written to its socket. */
  readonly maxWritten: number;
}

/** Parts large enough that each 1 MiB delivery is one message (the counts below are messages). */
const ONE_PART = 2 * MiB;

const SLOW_CASES: SlowCase[] = [
  {
    limit: "websocketMaxQueuedBytes",
    limits: {
      websocketMaxQueuedBytes: 4 * MiB,
      websocketMaxUnacknowledged: 3,
      websocketMaxPendingSends: 64,
      websocketMaxMessageBytes: ONE_PART,
    },
    size: MiB,
    reason: "Too many bytes queued: client too slow",
    // 3 written and unacknowledged, then 4 MiB held: the delivery waiting in
    // the sender for an ack and 3 queued behind it.
    maxCounted: 3 + 4,
    maxWritten: 3,
  },
  {
    limit: "websocketMaxPendingSends",
    limits: { websocketMaxPendingSends: 16, websocketMaxUnacknowledged: 3 },
    size: 1024,
    reason: "Outgoing queue full: client too slow",
    // 3 written, 1 waiting in the sender for an ack, 16 queued.
    maxCounted: 3 + 1 + 16,
    maxWritten: 3,
  },
  {
    limit: "websocketMaxBufferedBytes (no ack limit)",
    limits: {
      websocketMaxUnacknowledged: 0,
      websocketMaxBufferedBytes: 2 * MiB,
      websocketMaxMessageBytes: ONE_PART,
    },
    size: MiB,
    reason: "Send buffer full: client not reading",
    // What the kernel's socket buffers take, plus 2 MiB.
    maxCounted: 32,
    maxWritten: 32,
  },
];

for (const c of SLOW_CASES) {
  Deno.test({
    name: `websocket hostile: a client that never reads hits ${c.limit}: closed 1013, ` +
      "memory bounded, others keep receiving",
    async fn() {
      const warmUp = c.size === MiB ? 24 : 0;
      const count = c.size === MiB ? 160 : 64;
      await using b = await startBroadcaster({ limits: c.limits });
      const topic = enc("slow/topic");
      await using fast = await WsClient.connect(b.url);
      await fast.configure();
      await fast.subscription("subscribe_exact", topic);
      const base = new Uint8Array(randomBytes(c.size));
      // Lockstep: each message must reach the fast subscriber before the next
      // is published, so a fast subscriber held up by the slow one would
      // stall (and time out) here.
      const publish = async (i: number) => {
        const message = numbered(base, i);
        const answered = httpNotify(b.url, topic, message);
        const got = await fast.receive(5_000);
        assert.equal(new DataView(got.message.buffer).getUint32(0), i);
        assert.deepEqual(got.message, message);
        return await answered;
      };
      // The process's footprint for 1 MiB messages settles after a few dozen
      // (allocator and GC); growth is measured from there.
      for (let i = 0; i < warmUp; i++) assert.equal(await publish(i), 1);

      await using raw = await nonReader(b, topic);
      const before = Deno.memoryUsage().rss;
      let peak = before;
      const counts: number[] = [];
      for (let i = warmUp; i < warmUp + count; i++) {
        counts.push(await publish(i));
        peak = Math.max(peak, Deno.memoryUsage().rss);
      }
      // Counted for both until the slow one overflowed, then for the fast one only.
      const both = counts.filter((n) => n === 2).length;
      assert.deepEqual(counts, [...Array(both).fill(2), ...Array(count - both).fill(1)]);
      assert.ok(both >= 1 && both <= c.maxCounted, `counted for the slow client ${both} times`);
      if (c.size === MiB) {
        // Holding what the slow client did not take would cost ~count MiB.
        const growth = (peak - before) / MiB;
        assert.ok(growth < count / 2, `rss grew ${growth.toFixed(1)} MiB, ${count} MiB published`);
      }

      const closed = await raw.drainUntilClose();
      assert.equal(closed.code, CloseCode.TRY_AGAIN_LATER);
      assert.equal(closed.reason, c.reason);
      assert.ok(closed.messages <= c.maxWritten, `${closed.messages} deliveries written`);
      assert.equal(await relayRows(b, topic), 1); // the fast subscriber's
      assert.equal((await fast.close()).code, 1000);
      await assertRelayGone(b, topic);
      await assertServes(b);
    },
  });
}

Deno.test("websocket hostile: 1,000 connections subscribe, all get one notify, all close cleanly", async () => {
  const n = 1000;
  // More connections than the cap derived from an unreadable ulimit (1,024 assumed).
  await using b = await startBroadcaster({ limits: { maxConnections: 2 * n } });
  const topic = enc("crowd");
  const clients: WsClient[] = [];
  try {
    // All at once: connects, CONFIGUREs and SUBSCRIBEs interleave on the server.
    const opening = Array.from({ length: n }, async () => {
      const client = await WsClient.connect(b.url);
      clients.push(client);
      await client.configure();
      await client.subscription("subscribe_exact", topic);
    });
    const opened = await Promise.allSettled(opening);
    for (const o of opened) if (o.status === "rejected") throw o.reason;
    assert.equal(clients.length, n);
    assert.equal(await relayRows(b, topic), 1);
    const message = enc("to everyone");
    const counted = httpNotify(b.url, topic, message);
    const received = await Promise.all(clients.map((c) => c.receive()));
    assert.equal(await counted, n);
    for (const r of received) assert.deepEqual(r.message, message);
  } finally {
    const closed = await Promise.all(clients.map((c) => c.close()));
    assert.deepEqual(new Set(closed.map((c) => c.code)), new Set([1000]));
  }
  await assertRelayGone(b, topic);
  assert.equal(await httpNotify(b.url, topic, enc("nobody")), 0);
  await assertServes(b);
});
