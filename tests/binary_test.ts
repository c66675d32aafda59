/**
 * The single binary: `bun build --compile` (works offline, unlike
 * `deno compile`, which downloads its runtime the first time) produces one
 * executable that answers --help and serves, with bun:sqlite underneath, and
 * trains zstd dictionaries in its bundled worker.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { encodeNotify, parseResponseNotify } from "../src/protocol/notify.ts";
import {
  CLI,
  postBytes,
  ROOT,
  run,
  runtimeExecutable,
  startServe,
  subscribeOver,
  tempDir,
} from "./_cli.ts";
import { TestSubscriber } from "./_subscriber.ts";
import { WsClient } from "./_ws_client.ts";

const EMPTY = new Uint8Array(0);

Deno.test("binary: bun build --compile gives one executable that serves", async () => {
  await using build = await tempDir();
  await using work = await tempDir();
  const binary = join(build.path, "lonelypss");
  const bun = await runtimeExecutable("bun");
  // As `deno task compile:bun` builds it: the training worker is a second entry point.
  const worker = join(ROOT, "src/compression/_train_worker.ts");
  const built = await run(bun, ["build", "--compile", CLI, worker, "--outfile", binary], {
    cwd: ROOT,
  });
  assert.equal(built.code, 0, built.stderr);

  const help = await run(binary, ["--help"], { cwd: work.path });
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^lonelypss \S+ — best-effort pub\/sub over HTTP/);

  // Spool everything over 1 KiB, so the notify below goes through a file.
  await writeFile(
    join(work.path, "lonelypss.json"),
    JSON.stringify({
      limits: { spoolThresholdBytes: 1024, spoolDir: "." },
      // Train a dictionary from the first 20 kB a websocket client sends.
      compression: { lowWatermark: 20_000, highWatermark: 40_000 },
    }),
  );
  await using subscriber = new TestSubscriber();
  const db = join(build.path, "subs.db");
  await using server = await startServe(
    binary,
    ["serve", "--host", "127.0.0.1", "--port", "0", "--db", db, "--log-level", "warn"],
    { cwd: work.path },
  );
  assert.ok(server.banner.endsWith(`(db ${db}, auth none/none)`), server.banner);
  const topic = new TextEncoder().encode("binary");
  assert.equal(await subscribeOver(server.url, subscriber.url("/receive"), topic), 200);

  const message = new Uint8Array(randomBytes(100_000));
  const sha512 = new Uint8Array(createHash("sha512").update(message).digest());
  const res = await postBytes(
    `${server.url}/v1/notify`,
    encodeNotify({ topic, sha512, tracing: EMPTY, identifier: new Uint8Array([7]) }, message),
  );
  assert.equal(res.status, 200);
  assert.equal(parseResponseNotify(res.body).count, 1);
  assert.deepEqual(subscriber.received.at(-1)?.message, message);

  // The training worker runs inside the binary: NOTIFYs over a websocket
  // that enables training bring a custom dictionary.
  {
    await using client = await WsClient.connect(server.url);
    await client.configure({ enableZstd: true, enableTraining: true });
    assert.equal((await client.expect("enable_zstd_preset")).identifier, 1);
    const nobody = new TextEncoder().encode("nobody");
    let sent = 0;
    for (let i = 0; sent < 20_000; i++) {
      const event = new TextEncoder().encode(
        JSON.stringify({
          type: "cache.invalidate",
          key: `user:${i}:profile`,
          at: 1_700_000_000 + i,
        }),
      );
      assert.equal(await client.notify(nobody, event), 0);
      sent += event.length;
    }
    assert.equal((await client.expect("enable_zstd_custom")).identifier, 65_536);
    assert.equal((await client.close()).code, 1000);
  }

  const stopped = await server.stop("SIGTERM");
  assert.equal(stopped.code, 0, stopped.stderr);
});
