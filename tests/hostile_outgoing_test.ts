/**
 * Descriptor exhaustion, outgoing half: deliveries to subscribers that hang share
 * one cap on outgoing connections across every notify, instead of 64 per
 * notify (100 notifies to 20 hanging subscribers used to open 2,000 sockets
 * and run the process out of descriptors).
 *
 * @module
 */

import assert from "node:assert/strict";
import { post, startBroadcaster } from "./_harness.ts";
import { encodeNotify } from "../src/protocol/notify.ts";
import { createHash } from "node:crypto";

const TOPIC = new TextEncoder().encode("hang/here");
const MESSAGE = new TextEncoder().encode("are you there?");

/**
 * A raw TCP "subscriber" that reads requests and never answers while
 * `hanging`, counting the connections open at once; once released it closes
 * every connection as soon as a request arrives.
 */
class HangingSubscriber implements AsyncDisposable {
  readonly #listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  readonly #conns = new Set<Deno.Conn>();
  readonly #tasks = new Set<Promise<void>>();
  #hanging = true;
  #loop: Promise<void>;
  /** Most connections open at once. */
  peak = 0;
  /** Connections accepted in all. */
  accepted = 0;

  constructor() {
    this.#loop = this.#accept();
  }

  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  get open(): number {
    return this.#conns.size;
  }

  /** From now on every connection is closed as soon as it sends something. */
  release(): void {
    this.#hanging = false;
    for (const conn of this.#conns) this.#close(conn);
  }

  async #accept(): Promise<void> {
    for await (const conn of this.#listener) {
      this.accepted++;
      this.#conns.add(conn);
      this.peak = Math.max(this.peak, this.#conns.size);
      const task = this.#serve(conn);
      this.#tasks.add(task);
      void task.finally(() => this.#tasks.delete(task));
    }
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null || !this.#hanging) break;
      }
    } catch {
      // Closed by release() or by the broadcaster.
    }
    this.#close(conn);
  }

  #close(conn: Deno.Conn): void {
    if (!this.#conns.delete(conn)) return;
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    this.release();
    await this.#loop;
    await Promise.all(this.#tasks);
  }
}

async function until(what: string, test: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("notifies to hanging subscribers share one cap on outgoing connections", async () => {
  const CAP = 16;
  const SUBSCRIBERS = 20;
  const NOTIFIES = 10;
  await using b = await startBroadcaster({
    limits: { maxOutgoingConnections: CAP, connectTimeoutMs: 30_000, readIdleTimeoutMs: 30_000 },
  });
  await using hang = new HangingSubscriber();
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const url = `http://127.0.0.1:${hang.port}/s${i}`;
    assert.equal(await b.broadcaster.store.subscribeExact(url, TOPIC, null), "success");
  }
  const body = encodeNotify({
    topic: TOPIC,
    sha512: new Uint8Array(createHash("sha512").update(MESSAGE).digest()),
    tracing: new Uint8Array(0),
    identifier: new Uint8Array([1]),
  }, MESSAGE);
  const notifies = Array.from({ length: NOTIFIES }, () => post(`${b.url}/v1/notify`, body));

  await until(`${CAP} connections`, () => hang.open >= CAP);
  // Without the shared cap, each notify opens up to 64 of its own at once:
  // 200 here, within milliseconds. Watch a while for any beyond the cap.
  const watchUntil = Date.now() + 500;
  while (Date.now() < watchUntil) {
    assert.ok(hang.open <= CAP, `${hang.open} outgoing connections open, cap ${CAP}`);
    await new Promise((r) => setTimeout(r, 10));
  }

  hang.release();
  const answers = await Promise.all(notifies);
  for (const answer of answers) assert.equal(answer.status, 200);
  assert.equal(hang.accepted >= NOTIFIES * SUBSCRIBERS, true, `${hang.accepted} requests`);
  assert.ok(hang.peak <= CAP, `peak of ${hang.peak} outgoing connections, cap ${CAP}`);
});
