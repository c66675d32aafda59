/**
 * End to end: a 64 MiB notify goes through a spool file (threshold 1 MiB)
 * and reaches the subscribers byte for byte, without the broadcaster holding
 * the message in memory; the spool directory is empty afterwards.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, open, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBroadcaster } from "./_harness.ts";
import { TestSubscriber } from "./_subscriber.ts";
import { encodeNotifyHeader, parseResponseNotify } from "../src/protocol/notify.ts";
import { parseReprDigest } from "../src/protocol/receive.ts";
import { fileStream } from "../src/core/spool.ts";

const MIB = 1024 * 1024;
const SIZE = 64 * MIB;
const TOPIC = new TextEncoder().encode("big");

/** A fresh spool directory and a data directory, removed on dispose. */
async function tempDirs(): Promise<{ spool: string; data: string } & AsyncDisposable> {
  const spool = await mkdtemp(join(tmpdir(), "lonelypss-spool-"));
  const data = await mkdtemp(join(tmpdir(), "lonelypss-data-"));
  return {
    spool,
    data,
    async [Symbol.asyncDispose]() {
      await rm(spool, { recursive: true, force: true });
      await rm(data, { recursive: true, force: true });
    },
  };
}

/** Writes SIZE pseudo-random-looking bytes to `path` and returns their SHA-512. */
async function writeMessage(path: string): Promise<Uint8Array> {
  const file = await open(path, "w");
  const hash = createHash("sha512");
  try {
    const chunk = new Uint8Array(MIB);
    for (let i = 0; i < SIZE / MIB; i++) {
      for (let j = 0; j < chunk.length; j++) chunk[j] = (i * 31 + j * 7 + (j >> 9)) & 0xff;
      hash.update(chunk);
      await file.write(chunk);
    }
  } finally {
    await file.close();
  }
  return new Uint8Array(hash.digest());
}

Deno.test("a 64 MiB notify is spooled, delivered intact to two subscribers, and cleaned up", async () => {
  await using dirs = await tempDirs();
  const messagePath = join(dirs.data, "message.bin");
  const sha512 = await writeMessage(messagePath);
  const spoolDir = dirs.spool;
  await using big = await startBroadcaster({ limits: { spoolThresholdBytes: MIB, spoolDir } });
  await using sub = new TestSubscriber();
  await big.broadcaster.store.subscribeExact(sub.url("/a"), TOPIC, null);
  await big.broadcaster.store.subscribeGlob(sub.url("/b"), "b*", null);
  const header = encodeNotifyHeader({
    topic: TOPIC,
    sha512,
    tracing: new Uint8Array(0),
    identifier: new Uint8Array([7, 7]),
    length: BigInt(SIZE),
  });
  // Streamed (chunked) upload, so the notifier side holds no copy either.
  const body = fileStream(header, messagePath);

  const baseline = Deno.memoryUsage().rss;
  let peak = baseline;
  let spooled = false;
  const sampler = setInterval(() => {
    peak = Math.max(peak, Deno.memoryUsage().rss);
  }, 5);
  let res: Response;
  try {
    const sent = fetch(
      `${big.url}/v1/notify`,
      { method: "POST", body, duplex: "half" } as RequestInit,
    );
    // Observe the spool file while the request is in flight.
    void sub.waitFor(1).then(async () => {
      spooled = (await readdir(spoolDir)).length === 1;
    });
    res = await sent;
  } finally {
    clearInterval(sampler);
  }
  const answer = parseResponseNotify(new Uint8Array(await res.arrayBuffer()));
  assert.equal(res.status, 200);
  assert.equal(answer.count, 2);
  const growthMiB = (peak - baseline) / MIB;
  console.log(`RSS growth during the 64 MiB spooled notify: ${growthMiB.toFixed(1)} MiB`);
  // Informational only: this process also runs the notifier and the
  // subscribers, so garbage from ~6 × 64 MiB of chunks dominates. That the
  // spooled body is streamed is asserted in src/intake/intake_test.ts.

  assert.equal(sub.received.length, 2);
  for (const r of sub.received) {
    assert.equal(r.receive!.length, BigInt(SIZE));
    assert.deepEqual(r.messageSha512, sha512);
    assert.deepEqual(parseReprDigest(r.headers.get("repr-digest")!), sha512);
    // Spooled bodies stream from the file with their length announced (our
    // own client reads the file; fetch would have sent a stream chunked).
    const bodyLength = SIZE + 2 + 2 + TOPIC.length + 1 + 8 + 8;
    assert.equal(r.headers.get("transfer-encoding"), null);
    assert.equal(r.headers.get("content-length"), String(bodyLength));
    assert.equal(r.bodyLength, bodyLength);
  }
  assert.ok(spooled, "the message was in the spool directory during delivery");
  assert.deepEqual(await readdir(spoolDir), []);
});

Deno.test("a spooled notify with a wrong hash gets 400 and leaves the spool directory empty", async () => {
  await using dirs = await tempDirs();
  const spoolDir = dirs.spool;
  await using big = await startBroadcaster({ limits: { spoolThresholdBytes: 10, spoolDir } });
  await using sub = new TestSubscriber();
  await big.broadcaster.store.subscribeExact(sub.url("/a"), TOPIC, null);
  const message = new Uint8Array(100_000).fill(3);
  const header = encodeNotifyHeader({
    topic: TOPIC,
    sha512: new Uint8Array(64),
    tracing: new Uint8Array(0),
    identifier: new Uint8Array([1]),
    length: BigInt(message.length),
  });
  const res = await fetch(`${big.url}/v1/notify`, {
    method: "POST",
    body: new Blob([header as Uint8Array<ArrayBuffer>, message]),
  });
  assert.equal(res.status, 400);
  assert.match(await res.text(), /SHA-512 does not match/);
  assert.equal(sub.received.length, 0);
  assert.deepEqual(await readdir(spoolDir), []);
});

for (const when of ["disconnects", "stalls while the server shuts down"] as const) {
  Deno.test(`a notifier that ${when} mid-upload leaves no spool file and no unhandled error`, async () => {
    await using dirs = await tempDirs();
    const errors: string[] = [];
    const logger = {
      debug() {},
      info() {},
      warn() {},
      error: (msg: string) => void errors.push(msg),
    };
    await using sub = new TestSubscriber();
    const b = await startBroadcaster({
      logger,
      limits: { spoolThresholdBytes: 1024, spoolDir: dirs.spool },
    });
    await b.broadcaster.store.subscribeExact(sub.url("/r"), TOPIC, null);
    const header = encodeNotifyHeader({
      topic: TOPIC,
      sha512: new Uint8Array(64),
      tracing: new Uint8Array(0),
      identifier: new Uint8Array([1]),
      length: BigInt(2 * MIB),
    });
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: b.server.addr.port });
    const head = "POST /v1/notify HTTP/1.1\r\nhost: 127.0.0.1\r\n" +
      `content-length: ${header.length + 2 * MIB}\r\n\r\n`;
    await conn.write(new TextEncoder().encode(head));
    await conn.write(header);
    let sent = 0;
    while (sent < 256 * 1024) sent += await conn.write(new Uint8Array(64 * 1024));
    if (when === "disconnects") {
      conn.close(); // gone, 1.75 MiB short
      // Shutting down waits for the request in flight, so its clean-up has run after this.
      await b[Symbol.asyncDispose]();
    } else {
      // The upload never finishes; shutting down ends it (its body read fails).
      await b[Symbol.asyncDispose]();
      conn.close();
    }
    assert.deepEqual(errors, []);
    assert.deepEqual(await readdir(dirs.spool), []);
    assert.equal(sub.received.length, 0);
  });
}
