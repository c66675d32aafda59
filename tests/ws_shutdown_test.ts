/**
 * Shutting down with a websocket delivery in progress: the delivery lets go
 * of its message before the broadcaster reports closed, so a spooled
 * message's file is gone by then.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { encodeNotify, parseResponseNotify } from "../src/protocol/notify.ts";
import { post, startBroadcaster } from "./_harness.ts";
import { WsClient } from "./_ws_client.ts";

const enc = (s: string) => new TextEncoder().encode(s);

function spoolFiles(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".spool"));
}

Deno.test("websocket: shutdown mid-delivery deletes the spooled message", async () => {
  await using b = await startBroadcaster({
    limits: { spoolThresholdBytes: 64 * 1024, websocketMaxMessageBytes: 4096 },
  });
  await using client = await WsClient.connect(b.url);
  await client.configure();
  await client.subscription("subscribe_exact", enc("big"));

  const message = new Uint8Array(256 * 1024).fill(7);
  const sha512 = new Uint8Array(createHash("sha512").update(message).digest());
  const res = await post(
    `${b.url}/v1/notify`,
    encodeNotify(
      { topic: enc("big"), sha512, tracing: new Uint8Array(0), identifier: enc("x") },
      message,
    ),
  );
  assert.equal(res.status, 200);
  assert.equal(parseResponseNotify(res.body).count, 1);
  // Not acknowledged: the delivery waits after its first parts, holding the file.
  await client.expect("receive_stream");
  assert.equal(spoolFiles(b.dir).length, 1);

  await b.server.shutdown(1000);
  assert.deepEqual(spoolFiles(b.dir), []);
  assert.equal((await client.closed).code, 1001);
});
