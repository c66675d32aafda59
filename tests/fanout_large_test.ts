/**
 * End to end: one 100 B then one 64 MiB notify fanned out to 50
 * subscriptions (40 exact, 10 glob) on one subscriber server: a plain
 * threaded Python `http.server` (run with the system `python3`), and our own
 * Deno test subscriber. Every subscription must get both messages, byte for
 * byte, and each notify must count 50.
 *
 * Python's server listens with a backlog of 5, so a burst of 50 connects
 * overflows its accept queue: Linux drops handshakes and answers with SYN
 * cookies, and a body sent on a connection the server has not accepted yet is
 * reset. The broadcaster must retry those deliveries (the subscriber never
 * saw them); see `src/delivery/http1/client.ts`.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { notifyOver, startBroadcaster } from "./_harness.ts";
import { TestSubscriber } from "./_subscriber.ts";
import { ThreadedSubscriber } from "./_threaded_subscriber.ts";
import type { Limits } from "../src/core/limits.ts";
import { randomBytes, sha512Hex } from "./_bytes.ts";

const TOPIC = new TextEncoder().encode("fanout/large");
const EXACT = 40;
const GLOB = 10;
const SMALL = crypto.getRandomValues(new Uint8Array(100));
const LARGE = randomBytes(64 * 1024 * 1024);

/**
 * The handshakes the kernel dropped are retransmitted on its schedule
 * (SYN after 1 s and 3 s, data after 0.2 s, 0.6 s, 1.4 s, …), so the last of
 * 50 connections to a backlog-5 listener may only get in after several
 * seconds, more on a loaded machine: the connect and read limits leave room
 * for that. The total limit is not the bound here: the rate rule is.
 *
 * The rate rule's window is a minute here, not 10 s. Our own subscriber is `Deno.serve` in this
 * very process, hashing 50 bodies of 64 MiB (3.2 GB) on the event loop the broadcaster shares;
 * on a loaded machine it stops reading a few of its connections for more than 10 s while it
 * reads the others (seen with `ss`: those sockets held 1.7 MB unread in the kernel, and the
 * broadcaster's side had its send queue full), and the rate rule then cut those deliveries, as
 * it should cut a subscriber that stops reading (tests/outgoing_progress_test.ts checks that).
 * Here the subject is that every byte of every delivery arrives.
 */
const LIMITS: Partial<Limits> = {
  connectTimeoutMs: 20_000,
  readIdleTimeoutMs: 20_000,
  writeIdleTimeoutMs: 60_000,
};

const PATHS = [
  ...Array.from({ length: EXACT }, (_, i) => `/exact/${i}`),
  ...Array.from({ length: GLOB }, (_, i) => `/glob/${i}`),
];

/** Subscribes every path of PATHS at `url(path)` and sends both notifies. */
async function fanOut(url: (path: string) => string): Promise<void> {
  await using b = await startBroadcaster({ limits: LIMITS });
  const store = b.broadcaster.store;
  for (const path of PATHS) {
    const result = path.startsWith("/exact/")
      ? await store.subscribeExact(url(path), TOPIC, null)
      : await store.subscribeGlob(url(path), "fanout/*", null);
    assert.equal(result, "success");
  }
  assert.equal(await notifyOver(b.url, TOPIC, SMALL), PATHS.length);
  assert.equal(await notifyOver(b.url, TOPIC, LARGE), PATHS.length);
}

Deno.test("100 B then 64 MiB to 50 subscriptions on a threaded Python http.server all arrive", async () => {
  await using sub = await ThreadedSubscriber.start();
  await fanOut((path) => sub.url(path));
  await sub.waitFor(2 * PATHS.length);
  const expected = [
    { length: SMALL.length, sha512: sha512Hex(SMALL) },
    { length: LARGE.length, sha512: sha512Hex(LARGE) },
  ];
  for (const path of PATHS) assert.deepEqual(sub.confirmedAt(path), expected, path);
});

Deno.test("100 B then 64 MiB to 50 subscriptions on our own subscriber all arrive", async () => {
  await using sub = new TestSubscriber();
  await fanOut((path) => sub.url(path));
  const sha = (b: Uint8Array) => new Uint8Array(createHash("sha512").update(b).digest());
  for (const path of PATHS) {
    const got = sub.receivedAt(path);
    assert.equal(got.length, 2, path);
    assert.deepEqual(got.map((r) => r.receive?.length), [100n, BigInt(LARGE.length)], path);
    assert.deepEqual(got.map((r) => r.messageSha512), [sha(SMALL), sha(LARGE)], path);
  }
});
