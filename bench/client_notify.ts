/**
 * Client notify load for `deno task bench` (scenario `client`): this
 * repository's client publishing as fast as it can with `concurrency`
 * notifies in flight. Same output protocol as loadgen.ts: `MEASURE` when the
 * warm-up ends, then one JSON {@link Result} line.
 *
 * Usage: deno run -A bench/client_notify.ts '{"url":…,"transport":"http"|"ws","topic":…,
 *   "concurrency":16,"durationS":3,"warmupS":0.5,"size":64}'
 *
 * @module
 */

import { connectHttp, connectWebsocket } from "../src/client/mod.ts";
import type { Result } from "./loadgen.ts";

const job = JSON.parse(Deno.args[0]!) as {
  url: string;
  transport: "http" | "ws";
  topic: string;
  concurrency: number;
  durationS: number;
  warmupS: number;
  size: number;
};
const body = new Uint8Array(job.size).fill(120);
await using client = job.transport === "ws"
  ? await connectWebsocket({ broadcasters: [job.url.replace(/^http/, "ws") + "/v1/websocket"] })
  : await connectHttp({ broadcasters: [job.url] });

let measuring = false;
let stop = false;
const latencies: number[] = [];
let errors = 0;
let firstError: string | null = null;
async function worker(): Promise<void> {
  while (!stop) {
    const t0 = performance.now();
    try {
      await client.notify(job.topic, body);
      if (measuring) latencies.push(performance.now() - t0);
    } catch (e) {
      if (measuring) errors++;
      firstError ??= (e as Error).message;
    }
  }
}
const workers = Array.from({ length: job.concurrency }, worker);
await new Promise((r) => setTimeout(r, job.warmupS * 1000));
measuring = true;
console.log("MEASURE");
const t0 = performance.now();
await new Promise((r) => setTimeout(r, job.durationS * 1000));
measuring = false;
const durationS = (performance.now() - t0) / 1000;
stop = true;
await Promise.all(workers);
latencies.sort((a, b) => a - b);
const q = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
const result: Result = {
  requests: latencies.length,
  errors,
  firstError,
  durationS,
  rps: latencies.length / durationS,
  p50ms: q(0.5),
  p99ms: q(0.99),
};
console.log(JSON.stringify(result));
