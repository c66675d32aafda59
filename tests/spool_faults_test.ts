/**
 * End to end: disk faults while spooling a notify are clear answers, never a
 * 500. A full spool filesystem (a real 1 MiB tmpfs, mounted when this runs as
 * root) is 507 with a reason and a log line; the spool quota and the maximum
 * notify size refuse a notify by its announced length, before its body is read.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { notifyOver, startBroadcaster } from "./_harness.ts";
import { TestSubscriber } from "./_subscriber.ts";
import { encodeNotifyHeader } from "../src/protocol/notify.ts";
import { recordingLogger } from "../src/log.ts";

const KIB = 1024;
const MIB = 1024 * KIB;
const TOPIC = new TextEncoder().encode("disk");

/** Whether this process can mount a tmpfs (root on Linux): then the real test runs. */
function canMount(): boolean {
  if (Deno.build.os !== "linux") return false;
  try {
    return Deno.uid() === 0;
  } catch {
    return false;
  }
}

async function run(cmd: string, args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command(cmd, { args, stderr: "piped" }).output();
  if (code !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
}

/** A 1 MiB tmpfs, unmounted and removed on dispose. */
async function tinyFilesystem(): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await mkdtemp(join(tmpdir(), "lonelypss-tinyfs-"));
  await run("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir]);
  return {
    dir,
    async [Symbol.asyncDispose]() {
      await run("umount", [dir]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A whole notify body announcing `message`. */
function notifyBody(message: Uint8Array): Blob {
  const header = encodeNotifyHeader({
    topic: TOPIC,
    sha512: new Uint8Array(createHash("sha512").update(message).digest()),
    tracing: new Uint8Array(0),
    identifier: new Uint8Array([5]),
    length: BigInt(message.length),
  });
  return new Blob([header as Uint8Array<ArrayBuffer>, message as Uint8Array<ArrayBuffer>]);
}

Deno.test({
  name: "a notify spooled into a full filesystem gets 507 with a reason and a log line",
  ignore: !canMount(),
  async fn() {
    await using fs = await tinyFilesystem();
    const log = recordingLogger();
    await using b = await startBroadcaster({
      logger: log,
      limits: { spoolDir: fs.dir, spoolThresholdBytes: 64 * KIB },
    });
    await using sub = new TestSubscriber();
    await b.broadcaster.store.subscribeExact(sub.url("/r"), TOPIC, null);
    const res = await fetch(`${b.url}/v1/notify`, {
      method: "POST",
      body: notifyBody(new Uint8Array(2 * MIB).fill(7)),
    });
    assert.equal(res.status, 507);
    assert.equal(await res.text(), "Insufficient storage: the spool directory is full\n");
    assert.equal(sub.received.length, 0);
    assert.deepEqual(await readdir(fs.dir), [], "the partial spool file is gone");
    assert.equal(log.lines.filter((l) => l.includes("Unhandled")).length, 0);
    assert.match(
      log.lines.join("\n"),
      /error Notify refused: cannot write to the spool directory.*ENOSPC/,
    );
    // The disk has room again: the next notify goes through.
    assert.equal(await notifyOver(b.url, TOPIC, new Uint8Array(100 * KIB)), 1);
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    assert.match(metrics, /lonelypss_notify_refusals_total\{reason="spool_full"\} 1/);
  },
});

Deno.test("the spool quota refuses a notify by its announced length with 507; nothing is spooled", async () => {
  await using b = await startBroadcaster({
    limits: { spoolThresholdBytes: 64 * KIB, spoolQuotaBytes: 1 * MIB },
  });
  await using sub = new TestSubscriber();
  await b.broadcaster.store.subscribeExact(sub.url("/r"), TOPIC, null);
  const res = await fetch(`${b.url}/v1/notify`, {
    method: "POST",
    body: notifyBody(new Uint8Array(2 * MIB)),
  });
  assert.equal(res.status, 507);
  assert.match(await res.text(), /spool quota/);
  assert.equal(sub.received.length, 0);
  assert.deepEqual((await readdir(b.dir)).filter((f) => f.endsWith(".spool")), []);
  // What fits under the quota is spooled and delivered, and gives its bytes back.
  assert.equal(await notifyOver(b.url, TOPIC, new Uint8Array(512 * KIB)), 1);
  const metrics = await (await fetch(`${b.url}/metrics`)).text();
  assert.match(metrics, /lonelypss_spool_bytes 0\n/);
  assert.match(metrics, /lonelypss_notify_refusals_total\{reason="spool_quota"\} 1/);
});

Deno.test("a notify announcing more than maxNotifyBytes gets 413 before its body is read", async () => {
  await using b = await startBroadcaster({ limits: { maxNotifyBytes: 1 * MIB } });
  const header = encodeNotifyHeader({
    topic: TOPIC,
    sha512: new Uint8Array(64),
    tracing: new Uint8Array(0),
    identifier: new Uint8Array([6]),
    length: BigInt(4 * MIB),
  });
  // The header, then nothing: the answer must come without the message.
  let upload!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      upload = c;
      c.enqueue(header);
    },
  });
  const abort = new AbortController();
  const guard = setTimeout(() => abort.abort(), 10_000);
  try {
    const res = await fetch(`${b.url}/v1/notify`, {
      method: "POST",
      body,
      signal: abort.signal,
      duplex: "half",
    } as RequestInit);
    assert.equal(res.status, 413);
    assert.equal(await res.text(), "Notify message larger than the limit of 1048576 bytes\n");
  } finally {
    clearTimeout(guard);
    // Ends the upload the server stopped reading.
    upload.close();
  }
});
