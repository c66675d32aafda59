/**
 * The single binary: `bun build --compile` (works offline, unlike
 * `deno compile`, which downloads its runtime the first time) produces one
 * executable that answers --help and serves, with bun:sqlite underneath.
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

const EMPTY = new Uint8Array(0);

Deno.test("binary: bun build --compile gives one executable that serves", async () => {
  await using build = await tempDir();
  await using work = await tempDir();
  const binary = join(build.path, "lonelypss");
  const bun = await runtimeExecutable("bun");
  const built = await run(bun, ["build", "--compile", CLI, "--outfile", binary], { cwd: ROOT });
  assert.equal(built.code, 0, built.stderr);

  const help = await run(binary, ["--help"], { cwd: work.path });
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^lonelypss \S+ — best-effort pub\/sub over HTTP/);

  // Spool everything over 1 KiB, so the notify below goes through a file.
  await writeFile(
    join(work.path, "lonelypss.json"),
    JSON.stringify({ limits: { spoolThresholdBytes: 1024, spoolDir: "." } }),
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

  const stopped = await server.stop("SIGTERM");
  assert.equal(stopped.code, 0, stopped.stderr);
});
