/**
 * Deliveries per second to one websocket subscription of this repository's
 * client, for `deno task bench` (scenario `client`). The same process
 * notifies over HTTP with `concurrency` in flight but at most `window`
 * deliveries owed (notified, not yet received): the broadcaster counts a
 * websocket delivery once queued and closes a connection whose queue
 * overflows, so an unpaced notifier would only measure the overflow. Output
 * protocol of loadgen.ts: `MEASURE`, then one JSON line whose `rps` is
 * deliveries per second.
 *
 * Usage: deno run -A bench/client_ws_rate.ts '{"url":…,"concurrency":16,"window":64,
 *   "durationS":3,"warmupS":0.5,"size":64}'
 *
 * @module
 */

import { connectHttp, connectWebsocket } from "../src/client/mod.ts";
import type { Result } from "./loadgen.ts";

const job = JSON.parse(Deno.args[0]!) as {
  url: string;
  concurrency: number;
  window: number;
  durationS: number;
  warmupS: number;
  size: number;
};
await using sub = await connectWebsocket({
  broadcasters: [job.url.replace(/^http/, "ws") + "/v1/websocket"],
});
await using pub = await connectHttp({ broadcasters: [job.url] });
let lost = 0;
sub.onStatus((s) => s === "lost" && lost++);
const subscription = await sub.subscribeExact("ws/bench");
const body = new Uint8Array(job.size).fill(120);
let owed = 0;
let received = 0;
let stop = false;
let errors = 0;
let firstError: string | null = null;
let measuring = false;
const waiting = new Set<() => void>();
const room = () => {
  for (const w of [...waiting]) w();
  waiting.clear();
};
const latencies: number[] = [];
const sentAt: number[] = [];

const reader = (async () => {
  for await (const m of subscription) {
    await m.discard();
    received++;
    owed--;
    const t = sentAt.shift();
    if (t !== undefined && measuring) latencies.push(performance.now() - t);
    room();
  }
})();
async function worker(): Promise<void> {
  while (!stop) {
    while (owed >= job.window && !stop) await new Promise<void>((r) => waiting.add(r));
    if (stop) return;
    owed++;
    sentAt.push(performance.now());
    try {
      const r = await pub.notify("ws/bench", body);
      if (r.notified !== 1) throw new Error(`notified ${r.notified}`);
    } catch (e) {
      errors++;
      firstError ??= (e as Error).message;
      owed--;
    }
  }
}
const workers = Array.from({ length: job.concurrency }, worker);
await new Promise((r) => setTimeout(r, job.warmupS * 1000));
measuring = true;
const r0 = received;
console.log("MEASURE");
const t0 = performance.now();
await new Promise((r) => setTimeout(r, job.durationS * 1000));
const delivered = received - r0;
const durationS = (performance.now() - t0) / 1000;
measuring = false;
stop = true;
room();
await Promise.all(workers);
await subscription.unsubscribe();
await reader;
latencies.sort((a, b) => a - b);
const q = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
const result: Result = {
  requests: delivered,
  errors: errors + lost,
  firstError: firstError ?? (lost > 0 ? `${lost} connection losses` : null),
  durationS,
  rps: delivered / durationS,
  p50ms: q(0.5),
  p99ms: q(0.99),
};
console.log(JSON.stringify(result));
