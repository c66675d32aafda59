/**
 * End to end: another process holding an exclusive lock on the subscriptions
 * database never freezes the server. Requests that need no database (a 404)
 * stay fast throughout; those that do answer 200 or 503 within the configured
 * wait; everything succeeds once the lock is released.
 */

import assert from "node:assert/strict";
import { post, startBroadcaster } from "./_harness.ts";
import { encodeSubscribeExact } from "../src/protocol/subscribe.ts";

/** How long the other process holds the lock, ms. */
const HOLD_MS = 10_000;
/** The broadcaster's configured wait for a lock, ms. */
const WAIT_MS = 300;
/** Timers and scheduling on a shared CI machine: what a 503 may take beyond the wait. */
const SLACK_MS = 250;

// A second process: opens the file, takes BEGIN EXCLUSIVE, says so, and
// holds the lock until its stdin closes.
const HOLDER = `
import { DatabaseSync } from "node:sqlite";
const db = new DatabaseSync(Deno.args[0]);
db.exec("PRAGMA busy_timeout = 5000");
db.exec("BEGIN EXCLUSIVE");
await Deno.stdout.write(new TextEncoder().encode("locked\\n"));
for await (const _ of Deno.stdin.readable) { /* wait for EOF */ }
db.exec("COMMIT");
db.close();
`;

function subscribeBody(url: string, topic: string): Uint8Array {
  return encodeSubscribeExact({
    url,
    recovery: null,
    topic: new TextEncoder().encode(topic),
    tracing: new Uint8Array(0),
  });
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

Deno.test("an exclusive lock held by another process: 404s stay fast, subscribes get 200 or 503 in time", async () => {
  await using b = await startBroadcaster({ limits: { sqliteBusyTimeoutMs: WAIT_MS } });
  const holder = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", HOLDER, b.dbPath],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = holder.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stdin = holder.stdin.getWriter();
  let exited = false;
  try {
    assert.equal((await lines.read()).value, "locked\n");
    const until = performance.now() + HOLD_MS;
    const slow404: number[] = [];
    const statuses = new Map<number, number>();
    const lateSubscribes: number[] = [];
    let n404 = 0;
    const probe404 = async () => {
      while (performance.now() < until) {
        const { value, ms } = await timed(() => post(`${b.url}/v1/nope`, new Uint8Array(0)));
        assert.equal(value.status, 404);
        n404++;
        if (ms >= 50) slow404.push(Math.round(ms));
      }
    };
    let topic = 0;
    const subscriber = async () => {
      while (performance.now() < until) {
        const body = subscribeBody("http://127.0.0.1:1/r", `t${topic++}`);
        const { value, ms } = await timed(() => post(`${b.url}/v1/subscribe/exact`, body));
        statuses.set(value.status, (statuses.get(value.status) ?? 0) + 1);
        if (ms > WAIT_MS + SLACK_MS) lateSubscribes.push(Math.round(ms));
      }
    };
    await Promise.all([probe404(), subscriber(), subscriber(), subscriber(), subscriber()]);
    assert.deepEqual(slow404, [], `404s slower than 50 ms (of ${n404})`);
    assert.deepEqual(lateSubscribes, [], "subscribes answered after the configured wait");
    assert.deepEqual([...statuses.keys()].filter((s) => s !== 200 && s !== 503), []);
    assert.ok((statuses.get(503) ?? 0) > 0, "the lock was really held");

    await stdin.close();
    assert.equal((await holder.status).code, 0);
    exited = true;
    for (let i = 0; i < 5; i++) {
      const res = await post(
        `${b.url}/v1/subscribe/exact`,
        subscribeBody("http://127.0.0.1:1/r", `after${i}`),
      );
      assert.equal(res.status, 200);
    }
  } finally {
    if (!exited) {
      await stdin.close().catch(() => {});
      await holder.status;
    }
    await lines.cancel();
  }
});
