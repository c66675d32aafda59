/**
 * End to end: the outgoing timeout is a progress rule. A subscriber that
 * reads slowly but steadily gets a message that takes far longer than
 * `totalTimeoutMs` (the total grows by size / `writeMinBytesPerSecond`, and
 * every `writeIdleTimeoutMs` brings enough); one that stops reading is cut by
 * the rate rule ("Write timeout"), long before the grown total. The
 * subscriber is the plain threaded Python `http.server` of
 * `_threaded_subscriber.py`, throttled or stalled. Sizes and rates are small
 * (set through the limits) so the test takes seconds.
 */

import assert from "node:assert/strict";
import { notifyOver, startBroadcaster } from "./_harness.ts";
import { ThreadedSubscriber } from "./_threaded_subscriber.ts";
import type { Limits } from "../src/core/limits.ts";
import { recordingLogger } from "../src/log.ts";
import { randomBytes, sha512Hex } from "./_bytes.ts";

const TOPIC = new TextEncoder().encode("progress");
const MiB = 1024 * 1024;

/**
 * A 1 s total for an empty body; every 2 s of upload must bring 512 KiB.
 * The window spans the steps in which a full socket buffer drains (see
 * `writeMinBytesPerSecond` in `src/core/context.ts`): ~1.7 MiB, 0.85 s
 * at the slow reader's 2 MiB/s. Messages above 1 MiB are spooled, so they go
 * out from a spool file.
 */
const LIMITS: Partial<Limits> = {
  totalTimeoutMs: 1_000,
  writeIdleTimeoutMs: 2_000,
  writeMinBytesPerSecond: 256 * 1024,
  spoolThresholdBytes: MiB,
};

Deno.test("a subscriber reading slowly but steadily gets a message that outlasts totalTimeoutMs", async () => {
  // 8 MiB at 2 MiB/s: about 4 s, four times the base total, and more than
  // loopback's socket buffers (about 4 MiB) hold, so the rate rule is checked
  // while the reader is the bottleneck.
  const message = randomBytes(8 * MiB);
  await using sub = await ThreadedSubscriber.start({ bytesPerSecond: 2 * MiB });
  const log = recordingLogger();
  await using b = await startBroadcaster({ limits: LIMITS, logger: log });
  assert.equal(await b.broadcaster.store.subscribeExact(sub.url("/slow"), TOPIC, null), "success");
  const started = performance.now();
  assert.equal(await notifyOver(b.url, TOPIC, message), 1, log.lines.join("\n"));
  assert.ok(performance.now() - started > LIMITS.totalTimeoutMs!, "the upload outlasted the base");
  await sub.waitFor(1);
  assert.deepEqual(sub.confirmedAt("/slow"), [
    { length: message.length, sha512: sha512Hex(message) },
  ]);
});

Deno.test("a subscriber that stops reading is cut by the rate rule, not the grown total", async () => {
  // 16 MiB earn 64 s on top of the 1 s total; the stalled subscriber takes
  // what its socket buffers hold, then nothing: cut one window later.
  const message = randomBytes(16 * MiB);
  await using sub = await ThreadedSubscriber.start({ stall: true });
  const log = recordingLogger();
  await using b = await startBroadcaster({ limits: LIMITS, logger: log });
  assert.equal(
    await b.broadcaster.store.subscribeExact(sub.url("/stalled"), TOPIC, null),
    "success",
  );
  assert.equal(await notifyOver(b.url, TOPIC, message), 0);
  const failed = log.lines.filter((l) => l.includes("RECEIVE failed"));
  assert.equal(failed.length, 1, log.lines.join("\n"));
  assert.match(failed[0]!, /"reason":"Write timeout"/);
});
