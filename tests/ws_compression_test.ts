/**
 * zstd on websockets end to end (docs/protocol/zstd.md): announcements,
 * compressed deliveries that decode to the message, compressed NOTIFY and
 * NOTIFY_STREAM from the client, dictionaries trained from the connection's
 * traffic (the third replacing the first), hostile frames, and a broadcaster
 * without a backend.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { loadZstd, type Zstd, type ZstdDictionary } from "../src/compression/mod.ts";
import type { B2SMessage } from "../src/protocol/stateful/mod.ts";
import { CloseCode } from "../src/ws/close.ts";
import { notifyOver, startBroadcaster } from "./_harness.ts";
import { TestSubscriber } from "./_subscriber.ts";
import { WsClient } from "./_ws_client.ts";

const EMPTY = new Uint8Array(0);
const enc = (s: string) => new TextEncoder().encode(s);
const TOPIC = enc("zstd/topic");
/**
 * How long a test waits for trained dictionaries. Seconds, not a count of deliveries: the first
 * training in a `deno test` process type-checks the trainer worker's modules at run time (about
 * 3 s on an idle machine, several times that under load), and deliveries go on meanwhile.
 */
const TRAINING_WAIT_MS = 60_000;

const loaded = await loadZstd();
if ("unavailable" in loaded) throw new Error(`These tests need libzstd: ${loaded.unavailable}`);
const zstd: Zstd = loaded;
addEventListener("unload", () => zstd.close());

/** What a compression-aware subscriber has been told, and what it received. */
class Decoding {
  readonly client: WsClient;
  /** Compressor id → its dictionary (null for id 1). */
  readonly compressors = new Map<number, ZstdDictionary | null>();
  readonly enabled: number[] = [];
  readonly disabled: number[] = [];

  constructor(client: WsClient) {
    this.client = client;
  }

  /** Reads messages in order until a whole delivery arrived; announcements are applied. */
  async receive(): Promise<{ message: Uint8Array; compressor: number; wireBytes: number }> {
    for (;;) {
      const msg = await this.client.next();
      if (this.#control(msg)) continue;
      if (msg.type !== "receive_stream" || msg.first === null) {
        throw new Error(`Expected a delivery, got ${msg.type}`);
      }
      const start = msg.first;
      this.client.broadcasterCounter++;
      const wire = new Uint8Array(Number(start.compressedLength));
      let at = 0;
      let part = msg;
      for (;;) {
        wire.set(part.body, at);
        at += part.body.length;
        if (at === wire.length) break;
        await this.client.acknowledge({
          type: "continue_receive",
          identifier: part.identifier,
          partId: part.partId,
        });
        const next = await this.client.next();
        assert.ok(next.type === "receive_stream" && next.partId === part.partId + 1);
        part = next;
      }
      assert.deepEqual(sha512(wire), start.compressedSha512);
      await this.client.acknowledge({
        type: "confirm_receive",
        identifier: msg.identifier,
        partId: -1,
      });
      if (start.compressor === 0) return { message: wire, compressor: 0, wireBytes: wire.length };
      assert.ok(this.compressors.has(start.compressor), `unannounced id ${start.compressor}`);
      const message = zstd.decompress(wire, {
        maxOutputBytes: Number(start.decompressedLength),
        maxWindowBytes: 8 << 20,
        dictionary: this.compressors.get(start.compressor) ?? undefined,
      });
      assert.equal(message.length, Number(start.decompressedLength));
      return { message, compressor: start.compressor, wireBytes: wire.length };
    }
  }

  #control(msg: B2SMessage): boolean {
    if (msg.type === "enable_zstd_preset") {
      this.client.broadcasterCounter++;
      this.compressors.set(msg.identifier, null);
      this.enabled.push(msg.identifier);
      return true;
    }
    if (msg.type === "enable_zstd_custom") {
      this.client.broadcasterCounter++;
      assert.deepEqual(sha512(msg.dictionary), msg.sha512);
      this.compressors.set(msg.identifier, zstd.loadDictionary(msg.dictionary.slice()));
      this.enabled.push(msg.identifier);
      return true;
    }
    if (msg.type === "disable_zstd_custom") {
      this.client.broadcasterCounter++;
      assert.ok(this.compressors.has(msg.identifier));
      this.compressors.get(msg.identifier)?.close();
      this.compressors.delete(msg.identifier);
      this.disabled.push(msg.identifier);
      return true;
    }
    return false;
  }

  close(): void {
    for (const d of this.compressors.values()) d?.close();
  }
}

function sha512(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha512").update(bytes).digest());
}

/** JSON-like messages of 100–1,000 bytes, similar enough to train on. */
function event(i: number): Uint8Array {
  const keys = Array.from({ length: 2 + (i % 9) }, (_, k) => `"cache/user/${(i * 7 + k) % 97}"`);
  return enc(
    JSON.stringify({ kind: "invalidate", seq: i, at: 1_700_000_000 + i, keys: keys }) +
      " ".repeat(40 + (i % 13) * 17),
  );
}

/** Sends a NOTIFY compressed with `id` (as the official client would) and returns the count. */
async function compressedNotify(
  client: WsClient,
  id: number,
  message: Uint8Array,
  frame: Uint8Array,
): Promise<number> {
  const identifier = crypto.getRandomValues(new Uint8Array(4));
  const compressedSha512 = sha512(frame);
  client.send({
    type: "notify",
    authorization: null,
    tracing: EMPTY,
    identifier,
    topic: TOPIC,
    compressor: id,
    compressedLength: BigInt(frame.length),
    decompressedLength: BigInt(message.length),
    compressedSha512,
    body: frame,
  });
  return (await client.expect("confirm_notify")).subscribers;
}

Deno.test("zstd: id 1 is announced on request; large deliveries are compressed as the reference compresses them", async () => {
  await using b = await startBroadcaster();
  await using client = await WsClient.connect(b.url);
  await client.configure({ enableZstd: true });
  const d = new Decoding(client);
  try {
    const announced = await client.next();
    assert.ok(announced.type === "enable_zstd_preset");
    assert.deepEqual(
      [announced.identifier, announced.compressionLevel, announced.minSize, announced.maxSize],
      [1, 3, 16_384, 0xffff_ffff_ffff_ffffn],
    );
    client.broadcasterCounter++;
    d.compressors.set(1, null);
    await client.subscription("subscribe_exact", TOPIC);

    const small = enc("below the id-1 range");
    assert.equal(await notifyOver(b.url, TOPIC, small), 1);
    assert.deepEqual(await d.receive(), { message: small, compressor: 0, wireBytes: small.length });

    const large = enc(JSON.stringify(Array.from({ length: 3000 }, (_, i) => ({ i, ok: true }))));
    assert.equal(await notifyOver(b.url, TOPIC, large), 1);
    const got = await d.receive();
    assert.deepEqual(got.message, large);
    assert.equal(got.compressor, 1);
    assert.ok(got.wireBytes < large.length / 4, `${got.wireBytes} bytes on the wire`);
  } finally {
    d.close();
  }
});

Deno.test("zstd: compressed NOTIFY and NOTIFY_STREAM from the client reach webhooks decompressed", async () => {
  await using b = await startBroadcaster({ limits: { spoolThresholdBytes: 64 * 1024 } });
  await using sub = new TestSubscriber();
  await b.broadcaster.store.subscribeExact(sub.url("/r"), TOPIC, null);
  await using client = await WsClient.connect(b.url);
  await client.configure({ enableZstd: true });
  assert.equal((await client.expect("enable_zstd_preset")).identifier, 1);

  const message = enc("compress me ".repeat(5000));
  const frame = zstd.compress(message, { level: 3 });
  assert.equal(await compressedNotify(client, 1, message, frame), 1);
  assert.deepEqual(sub.received.at(-1)?.message, message);

  // A large message (spooled while it is decompressed) in three parts.
  const big = new Uint8Array(1_000_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) % 251 < 40 ? i & 0xff : 65;
  const bigFrame = zstd.compress(big, { level: 3 });
  const identifier = crypto.getRandomValues(new Uint8Array(4));
  const third = Math.ceil(bigFrame.length / 3);
  for (let part = 0; part < 3; part++) {
    client.send({
      type: "notify_stream",
      authorization: null,
      tracing: EMPTY,
      identifier,
      partId: part,
      first: part > 0 ? null : {
        topic: TOPIC,
        compressor: 1,
        compressedLength: BigInt(bigFrame.length),
        decompressedLength: BigInt(big.length),
        compressedSha512: sha512(bigFrame),
      },
      body: bigFrame.subarray(part * third, (part + 1) * third),
    });
  }
  assert.equal((await client.expect("continue_notify")).partId, 0);
  assert.equal((await client.expect("continue_notify")).partId, 1);
  assert.equal((await client.expect("confirm_notify")).subscribers, 1);
  assert.deepEqual(sub.received.at(-1)?.message, big);
});

Deno.test("zstd: a preset is announced only when asked for; an unknown one is ignored", async () => {
  const dictionary = zstd.train!(
    Array.from({ length: 400 }, (_, i) => event(i)),
    4096,
  );
  await using b = await startBroadcaster({
    compression: { presets: [{ id: 7, dictionary, level: 5 }] },
  });
  await using asked = await WsClient.connect(b.url);
  await asked.configure({ enableZstd: true, initialDict: 7 });
  const d = new Decoding(asked);
  try {
    const one = await asked.next();
    const seven = await asked.next();
    assert.ok(one.type === "enable_zstd_preset" && seven.type === "enable_zstd_preset");
    assert.deepEqual([one.identifier, seven.identifier, seven.compressionLevel, seven.minSize], [
      1,
      7,
      5,
      32,
    ]);
    asked.broadcasterCounter += 2;
    const preset = zstd.loadDictionary(dictionary);
    d.compressors.set(1, null).set(7, preset);
    await asked.subscription("subscribe_exact", TOPIC);
    const message = event(1234);
    assert.equal(await notifyOver(b.url, TOPIC, message), 1);
    const got = await d.receive();
    assert.deepEqual([got.message, got.compressor], [message, 7]);

    await using other = await WsClient.connect(b.url);
    await other.configure({ enableZstd: true, initialDict: 9 });
    assert.equal((await other.next()).type, "enable_zstd_preset");
    await other.subscription("subscribe_exact", TOPIC); // nothing else came in between
  } finally {
    d.close();
  }
});

Deno.test("zstd: dictionaries trained from the traffic are announced, used, and the third withdraws the first", async () => {
  await using b = await startBroadcaster({
    compression: {
      lowWatermark: 20_000,
      highWatermark: 40_000,
      retrainIntervalSeconds: 0.05,
    },
  });
  await using client = await WsClient.connect(b.url);
  await client.configure({ enableZstd: true, enableTraining: true });
  const d = new Decoding(client);
  try {
    await client.subscription("subscribe_exact", TOPIC);
    const sizes: { compressor: number; plain: number; wire: number }[] = [];
    const deadline = Date.now() + TRAINING_WAIT_MS;
    for (let i = 0; d.enabled.filter((id) => id >= 65_536).length < 3; i++) {
      assert.ok(Date.now() < deadline, `still ${d.enabled} after ${i} messages`);
      const message = event(i);
      assert.equal(await notifyOver(b.url, TOPIC, message), 1);
      const got = await d.receive();
      assert.deepEqual(got.message, message);
      sizes.push({ compressor: got.compressor, plain: message.length, wire: got.wireBytes });
    }
    assert.deepEqual(d.enabled, [1, 65_536, 65_537, 65_538]);
    // The withdrawal of the oldest follows the third's announcement.
    const more = event(99_999);
    assert.equal(await notifyOver(b.url, TOPIC, more), 1);
    const last = await d.receive();
    assert.deepEqual(d.disabled, [65_536]);
    assert.equal(last.compressor, 65_538);
    const trained = sizes.filter((s) => s.compressor >= 65_536);
    const ratio = trained.reduce((a, s) => a + s.wire, 0) /
      trained.reduce((a, s) => a + s.plain, 0);
    assert.ok(ratio < 0.5, `trained dictionaries left ${(ratio * 100).toFixed(0)} % of the bytes`);
  } finally {
    d.close();
  }
});

Deno.test("zstd: a high watermark reached while the first dictionary trains trains the second", async () => {
  // 1,000 bytes between the watermarks: crossed by the next few deliveries,
  // well before the first training (tens of ms in a worker) is done.
  await using b = await startBroadcaster({
    compression: { lowWatermark: 20_000, highWatermark: 21_000 },
  });
  await using client = await WsClient.connect(b.url);
  await client.configure({ enableZstd: true, enableTraining: true });
  const d = new Decoding(client);
  try {
    await client.subscription("subscribe_exact", TOPIC);
    let i = 0;
    const firstBy = Date.now() + TRAINING_WAIT_MS;
    for (; d.enabled.filter((id) => id >= 65_536).length < 1; i++) {
      assert.ok(Date.now() < firstBy, `still ${d.enabled} after ${i} messages`);
      const message = event(i);
      assert.equal(await notifyOver(b.url, TOPIC, message), 1);
      assert.deepEqual((await d.receive()).message, message);
    }
    // No more samples are taken now: the second must come by itself.
    const deadline = Date.now() + TRAINING_WAIT_MS;
    while (d.enabled.length < 3) {
      assert.ok(Date.now() < deadline, `still ${d.enabled} after ${i} messages`);
      const message = event(i++);
      assert.equal(await notifyOver(b.url, TOPIC, message), 1);
      assert.deepEqual((await d.receive()).message, message);
    }
    assert.deepEqual(d.enabled, [1, 65_536, 65_537]);
  } finally {
    d.close();
  }
});

Deno.test("zstd: a client's plain NOTIFYs alone train a dictionary (the incoming direction)", async () => {
  await using b = await startBroadcaster({
    compression: { lowWatermark: 20_000, highWatermark: 40_000 },
  });
  await using client = await WsClient.connect(b.url);
  await client.configure({ enableZstd: true, enableTraining: true });
  assert.equal((await client.expect("enable_zstd_preset")).identifier, 1);
  // Below 16 KiB nothing is compressed yet: uncompressed NOTIFYs to nobody.
  let sent = 0;
  for (let i = 0; sent < 20_000; i++) {
    const message = event(i);
    assert.equal(await client.notify(TOPIC, message), 0);
    sent += message.length;
  }
  const custom = await client.expect("enable_zstd_custom");
  assert.deepEqual([custom.identifier, custom.minSize], [65_536, 32]);
});

Deno.test("zstd: bombs, corrupt frames and unannounced ids close the connection; the server keeps serving", async () => {
  await using b = await startBroadcaster({ compression: { maxDecompressedBytes: 1 << 20 } });
  const attempt = async (send: (c: WsClient) => void): Promise<[number, string]> => {
    await using client = await WsClient.connect(b.url);
    await client.configure({ enableZstd: true });
    await client.expect("enable_zstd_preset");
    send(client);
    const closed = await client.closed;
    return [closed.code, closed.reason];
  };
  const notify = (c: WsClient, id: number, declared: number, frame: Uint8Array) =>
    c.send({
      type: "notify",
      authorization: null,
      tracing: EMPTY,
      identifier: new Uint8Array(4),
      topic: TOPIC,
      compressor: id,
      compressedLength: BigInt(frame.length),
      decompressedLength: BigInt(declared),
      compressedSha512: sha512(frame),
      body: frame,
    });
  // 512 KiB of zeros in a ~30-byte frame, declared as 1,000 bytes.
  const bomb = zstd.compress(new Uint8Array(512 * 1024), { level: 3 });
  assert.deepEqual(await attempt((c) => notify(c, 1, 1000, bomb)), [
    CloseCode.PROTOCOL,
    "Decompressed message longer than announced",
  ]);
  // A valid frame with every third byte of its blocks flipped.
  const corrupt = zstd.compress(enc("hello hello hello ".repeat(300)), { level: 3 });
  for (let i = 8; i < corrupt.length - 4; i += 3) corrupt[i]! ^= 0x5a;
  const [code, reason] = await attempt((c) => notify(c, 1, 5400, corrupt));
  assert.equal(code, CloseCode.PROTOCOL);
  assert.match(reason, /^Invalid zstd frame/);
  assert.deepEqual(await attempt((c) => notify(c, 3, 10, zstd.compress(enc("x"), { level: 3 }))), [
    CloseCode.PROTOCOL,
    "Compressor 3 was not announced",
  ]);
  assert.deepEqual(await attempt((c) => notify(c, 1, 2 << 20, bomb)), [
    CloseCode.TOO_BIG,
    "Declared decompressed length over the limit",
  ]);
  // Still serving, compressed or not.
  await using fine = await WsClient.connect(b.url);
  await fine.configure();
  await fine.subscription("subscribe_exact", TOPIC);
  assert.equal(await notifyOver(b.url, TOPIC, enc("ok")), 1);
  assert.deepEqual((await fine.receive()).message, enc("ok"));
});

Deno.test("zstd: without a usable libzstd nothing is announced and websockets work as before", async () => {
  await using b = await startBroadcaster({
    compression: { libraryPath: "/nonexistent/libzstd.so" },
  });
  await using client = await WsClient.connect(b.url);
  await client.configure({ enableZstd: true, enableTraining: true, initialDict: 2 });
  // The first thing after CONFIRM_CONFIGURE is the subscription's confirmation.
  await client.sendSubscription("subscribe_exact", TOPIC);
  assert.equal((await client.next()).type, "confirm_subscribe_exact");
  const large = new Uint8Array(100_000).fill(97);
  assert.equal(await notifyOver(b.url, TOPIC, large), 1);
  assert.deepEqual((await client.receive()).message, large);
});
