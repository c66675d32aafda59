/**
 * End to end: a spooled notify is delivered while its body still arrives
 * (docs/decisions.md#delivered-while-it-arrives). The notifier is a raw socket that holds back
 * the end of its body, so each test knows deliveries started before the body ended; the HTTP
 * subscribers are raw sockets too (`_stream_subscriber.ts`), so a RECEIVE broken off before its
 * Content-Length is seen as such. Nothing here waits on time: every step waits for bytes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { encodeNotify, parseResponseNotify } from "../src/protocol/notify.ts";
import { CloseCode } from "../src/ws/close.ts";
import { IMMEDIATE_RETRY, startBroadcaster, type TestBroadcaster } from "./_harness.ts";
import { StreamSubscriber } from "./_stream_subscriber.ts";
import { WsClient } from "./_ws_client.ts";
import { assertClosed, enc, sha512 } from "./_ws_checks.ts";
import { randomBytes, sha512Hex } from "./_bytes.ts";

const MiB = 1024 * 1024;
const TOPIC = enc("stream/topic");
/** Bytes every delivery holds back until the hash matched (`GrowingSpool`'s default). */
const HOLD_BACK = 64 * 1024;
/** The notifier keeps this many bytes of its body until the test lets them go. */
const TAIL = 1000;
const LIMITS = {
  spoolThresholdBytes: MiB,
  websocketMaxMessageBytes: MiB,
  missedRetry: IMMEDIATE_RETRY,
  // A paused subscriber is cut by the write rule only after this: far beyond any test step.
  writeIdleTimeoutMs: 120_000,
};

/** A notify over a raw connection whose last {@link TAIL} bytes wait for {@link finish}. */
class HeldNotify {
  readonly #conn: Deno.TcpConn;
  readonly #tail: Uint8Array;
  /** The answer: status line and body. */
  readonly answer: Promise<{ status: number; body: Uint8Array }>;

  private constructor(conn: Deno.TcpConn, tail: Uint8Array) {
    this.#conn = conn;
    this.#tail = tail;
    this.answer = readAnswer(conn);
  }

  /** Sends the head and all but the tail of a notify of `message`, claiming `sha512`. */
  static async start(b: TestBroadcaster, message: Uint8Array, sha512: Uint8Array) {
    const body = encodeNotify({
      topic: TOPIC,
      sha512,
      tracing: new Uint8Array(0),
      identifier: enc("held"),
    }, message);
    const port = Number(new URL(b.url).port);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const head = enc(
      `POST /v1/notify HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/octet-stream\r\n` +
        `content-length: ${body.length}\r\nconnection: close\r\n\r\n`,
    );
    const held = new HeldNotify(conn, body.subarray(body.length - TAIL));
    await writeAll(conn, head);
    // Not awaited: the broadcaster may stop reading while a delivery is paused.
    held.#sending = writeAll(conn, body.subarray(0, body.length - TAIL));
    return held;
  }

  #sending: Promise<void> = Promise.resolve();

  /** Sends the rest; resolves with the answer. */
  async finish(): Promise<{ status: number; body: Uint8Array }> {
    await this.#sending;
    await writeAll(this.#conn, this.#tail);
    return await this.answer;
  }
}

async function writeAll(conn: Deno.TcpConn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}

async function readAnswer(conn: Deno.TcpConn): Promise<{ status: number; body: Uint8Array }> {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
  } finally {
    conn.close();
  }
  const all = new Uint8Array(await new Blob(chunks as Uint8Array<ArrayBuffer>[]).arrayBuffer());
  const text = new TextDecoder("latin1").decode(all);
  const end = text.indexOf("\r\n\r\n");
  return { status: Number(text.split(" ")[1]), body: all.subarray(end + 4) };
}

Deno.test("a notify whose hash fails while it is delivered: every delivery is cut short, 400, no MISSED", async () => {
  await using sub = new StreamSubscriber();
  await using b = await startBroadcaster({ limits: LIMITS });
  const store = b.broadcaster.store;
  const missed = sub.url("/missed");
  for (const path of ["/a", "/b", "/c"]) {
    assert.equal(await store.subscribeExact(sub.url(path), TOPIC, missed), "success");
  }
  assert.equal(await store.subscribeGlob(sub.url("/glob"), "stream/*", missed), "success");
  await using ws = await WsClient.connect(b.url);
  await ws.configure();
  await ws.subscription("subscribe_exact", TOPIC);

  const message = randomBytes(4 * MiB);
  const wrong = sha512(message);
  wrong[0]! ^= 1;
  const notify = await HeldNotify.start(b, message, wrong);
  // With the notifier still holding its last bytes, every HTTP delivery is under way...
  const deliveries = await sub.started(4);
  await Promise.all(deliveries.map((d) => d.reached(MiB)));
  // ...and the websocket subscriber has its first part. It acknowledges each part, as the
  // official client does, until the broadcaster closes the connection.
  const part0 = await ws.expect("receive_stream");
  assert.equal(part0.partId, 0);
  const acking = (async () => {
    for (let part = part0;;) {
      await ws.acknowledge({
        type: "continue_receive",
        identifier: part.identifier,
        partId: part.partId,
      });
      part = await ws.expect("receive_stream").catch(() => null) as typeof part;
      if (part === null) return;
    }
  })();

  const answer = await notify.finish();
  assert.equal(answer.status, 400);
  assert.match(new TextDecoder().decode(answer.body), /SHA-512 does not match/);
  for (const d of deliveries) {
    const ended = await d.ended;
    assert.equal(ended.complete, false, `${d.path} got the whole unverified body`);
    assert.ok(ended.received <= d.contentLength - HOLD_BACK, `${d.path}: ${ended.received}`);
  }
  await assertClosed(
    ws,
    CloseCode.MESSAGE_ABANDONED,
    /Message abandoned: .*SHA-512 does not match/,
  );
  await acking;
  // The fan-out ended before the 400: a MISSED would be in the store by now, due at once.
  assert.equal(await store.countPendingMissed(), 0);
  assert.equal(sub.deliveries.filter((d) => d.path === "/missed").length, 0);
  assert.equal(b.broadcaster.metrics.deliveries.get("receive abandoned"), 4);
  assert.equal(b.broadcaster.metrics.deliveries.get("receive failed"), undefined);
});

Deno.test("a verified notify delivered while it arrives: a paused subscriber does not hold back a fast one", async () => {
  await using fast = new StreamSubscriber();
  await using slow = new StreamSubscriber();
  await using b = await startBroadcaster({ limits: LIMITS });
  assert.equal(await b.broadcaster.store.subscribeExact(fast.url("/fast"), TOPIC, null), "success");
  assert.equal(await b.broadcaster.store.subscribeExact(slow.url("/slow"), TOPIC, null), "success");
  const message = randomBytes(32 * MiB);
  const notify = await HeldNotify.start(b, message, sha512(message));
  // The slow one takes its first bytes, then stops reading altogether.
  const [lagging] = await slow.started(1);
  slow.pause();
  const [early] = await fast.started(1);
  await early!.reached(16 * MiB);
  const answer = notify.finish();
  const done = await early!.ended;
  assert.deepEqual(done, {
    complete: true,
    received: early!.contentLength,
    sha512: sha512Hex(message),
  });
  // The fast subscriber has all of it while the slow one has read at most its socket buffers.
  assert.ok(lagging!.received < lagging!.contentLength, "the slow subscriber was not slow");
  slow.resume();
  const ended = await lagging!.ended;
  assert.deepEqual(ended, {
    complete: true,
    received: lagging!.contentLength,
    sha512: sha512Hex(message),
  });
  const res = await answer;
  assert.equal(res.status, 200);
  assert.equal(parseResponseNotify(res.body).count, 2);
});

Deno.test("deliverWhileReceiving false: nothing is sent before the hash is verified", async () => {
  await using sub = new StreamSubscriber();
  await using b = await startBroadcaster({ limits: { ...LIMITS, deliverWhileReceiving: false } });
  assert.equal(await b.broadcaster.store.subscribeExact(sub.url("/a"), TOPIC, null), "success");
  const message = randomBytes(2 * MiB);
  const wrong = sha512(message);
  wrong[0]! ^= 1;
  const notify = await HeldNotify.start(b, message, wrong);
  assert.equal((await notify.finish()).status, 400);
  assert.equal(sub.deliveries.length, 0);
  // The same message with its right hash goes out whole, after the body.
  const right = sha512(message);
  const again = await HeldNotify.start(b, message, right);
  const res = await again.finish();
  assert.equal(res.status, 200);
  const [d] = await sub.started(1);
  assert.deepEqual(await d!.ended, {
    complete: true,
    received: d!.contentLength,
    sha512: sha512Hex(message),
  });
});
