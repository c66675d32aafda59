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
/**
 * 404s must answer within 50 ms. On a shared, loaded machine (CI runs beside
 * other jobs on two cores) the scheduler alone can stall a process for a
 * few hundred ms now and then, so the test asks that of the 99th percentile,
 * and that no 404 ever takes as long as a second: before the fix, a 404
 * queued behind subscribes waited a median of 24 s.
 */
const FAST_MS = 50;
const NEVER_MS = 1000;

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
    const latencies: number[] = [];
    const statuses = new Map<number, number>();
    const lateSubscribes: number[] = [];
    const probe404 = async () => {
      while (performance.now() < until) {
        const { value, ms } = await timed(() => post(`${b.url}/v1/nope`, new Uint8Array(0)));
        assert.equal(value.status, 404);
        latencies.push(ms);
        // A probe every ~5 ms (a sampling rate, not synchronisation).
        await new Promise((resolve) => setTimeout(resolve, 5));
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
    latencies.sort((x, y) => x - y);
    const p99 = latencies[Math.floor(latencies.length * 0.99)]!;
    const worst = latencies.at(-1)!;
    const p50 = latencies[Math.floor(latencies.length / 2)]!;
    console.log(
      `404s under the lock: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, ` +
        `max ${worst.toFixed(1)} ms (${latencies.length} probes); subscribes by status: ` +
        JSON.stringify(Object.fromEntries(statuses)),
    );
    assert.ok(latencies.length > 100, `only ${latencies.length} probes`);
    assert.ok(p99 < FAST_MS, `404 p99 ${p99.toFixed(1)} ms (of ${latencies.length})`);
    assert.ok(worst < NEVER_MS, `a 404 took ${worst.toFixed(0)} ms`);
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
