/**
 * The part size of websocket deliveries with the default limits: a large
 * message goes out in small RECEIVE_STREAM parts, so the few parts in flight
 * (held by us and copied by the runtime) stay small
 * (docs/decisions.md#part-sizes).
 *
 * @module
 */

import assert from "node:assert/strict";

import { defaultLimits } from "../src/core/limits.ts";
import { toHex } from "../src/protocol/mod.ts";
import { parseB2S } from "../src/protocol/stateful/mod.ts";
import { randomBytes, sha512Hex } from "./_bytes.ts";
import { notifyOver, startBroadcaster } from "./_harness.ts";
import { WsClient } from "./_ws_client.ts";

const KiB = 1024;
const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("websocket: with the default limits a 3 MiB spooled delivery goes out in frames of at most 256 KiB", async () => {
  assert.equal(defaultLimits().websocketMaxMessageBytes, 256 * KiB);
  // Spooled, as a large notify is; every other limit is the default.
  await using b = await startBroadcaster({ limits: { spoolThresholdBytes: 64 * KiB } });
  await using client = await WsClient.connect(b.url);
  await client.configure();
  const topic = enc("big/parts");
  await client.subscription("subscribe_exact", topic);
  const message = randomBytes(3 * 1024 * KiB);
  const count = notifyOver(b.url, topic, message);

  const sizes: number[] = [];
  const body = new Uint8Array(message.length);
  let identifier: Uint8Array | null = null;
  let sha512: Uint8Array | null = null;
  for (let received = 0; received < message.length;) {
    const raw = await client.nextRaw();
    sizes.push(raw.length);
    const part = parseB2S(raw);
    assert.equal(part.type, "receive_stream");
    if (part.type !== "receive_stream") return;
    assert.equal(part.partId, sizes.length - 1);
    if (part.partId === 0) {
      assert.ok(part.first !== null);
      identifier = part.identifier;
      sha512 = part.first.compressedSha512;
    }
    body.set(part.body, received);
    received += part.body.length;
    await client.acknowledge(
      received < message.length
        ? { type: "continue_receive", identifier: identifier!, partId: part.partId }
        : { type: "confirm_receive", identifier: identifier!, partId: -1 },
    );
  }
  assert.equal(await count, 1);
  assert.ok(
    sizes.every((size) => size <= 256 * KiB),
    `frames of ${Math.max(...sizes)} bytes`,
  );
  // Full parts but the last: 3 MiB needs 13 of them (each carries its headers too).
  assert.equal(sizes.length, 13);
  assert.equal(sha512Hex(body), sha512Hex(message));
  assert.equal(toHex(sha512!), sha512Hex(message));
});
