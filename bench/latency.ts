/**
 * Latency rows (`deno task bench --only latency`): notify → 1 subscriber,
 * 64 B, at half our peak rate, p50/p99 end to end (notify sent → RESPONSE_NOTIFY,
 * which our broadcaster answers once the subscriber answered the RECEIVE),
 * against the raw forwarder at the same rate.
 *
 * The peak is ours, measured first in the same run (closed loop, the given
 * concurrency); then both systems get the same paced load: notify i is due
 * i/rate s after the start, sent by the first of the `concurrency` workers
 * free, and its latency counts from when it was due (a queue building up
 * shows in p99 instead of slowing the sender down).
 *
 * @module
 */

import type { Agg, Row, RunStat } from "./_report.ts";
import type { Job } from "./loadgen.ts";
import type { Server } from "./_procs.ts";

/** What the latency rows need from the orchestrator (bench/run.ts). */
export interface LatencyDeps {
  runs: number;
  durationS: number;
  warmupS: number;
  /** Concurrencies, one row each. */
  concurrency: number[];
  /** Our broadcaster (as configured for the run) and the forwarder to `/f` of the subscriber. */
  start(sys: "ours" | "fwd"): Promise<Server>;
  /** Subscribes `url` to `topic` on `s` (exact). */
  subscribe(s: Server, topic: string, url: string): Promise<void>;
  measure(target: Server, job: Job): Promise<RunStat>;
  repeat(n: number, fn: () => Promise<RunStat>): Promise<Agg>;
  subscriberUrl: string;
}

function job(port: number, c: number, extra: Partial<Job>): Job {
  return {
    mode: "notify",
    url: `http://127.0.0.1:${port}/v1/notify`,
    topic: "lat",
    size: 64,
    concurrency: c,
    ...extra,
  } as Job;
}

/** One row per concurrency: ours and the forwarder at half our peak, same run. */
export async function latencyRows(d: LatencyDeps): Promise<Row[]> {
  const rows: Row[] = [];
  const ours = await d.start("ours");
  const fwd = await d.start("fwd");
  try {
    await d.subscribe(ours, "lat", d.subscriberUrl);
    for (const c of d.concurrency) {
      const base = { durationS: d.durationS, warmupS: d.warmupS };
      const peak = await d.repeat(
        d.runs,
        () => d.measure(ours, job(ours.port, c, { ...base, expectCount: 1 })),
      );
      const rate = Math.max(1, Math.floor(peak.median.rps / 2));
      const paced = { ...base, rate } as Partial<Job>;
      const row: Row = {
        id: `latency-c${c}`,
        label: `notify → 1 subscriber, 64 B, c=${c}, paced at ${
          rate.toLocaleString("en-US")
        }/s (half our peak of ${Math.round(peak.median.rps).toLocaleString("en-US")}/s)`,
        metric: "rps",
        goal: "p99 ≤ 2× fwd's",
      };
      row.ours = await d.repeat(
        d.runs,
        () => d.measure(ours, job(ours.port, c, { ...paced, expectCount: 1 })),
      );
      row.fwd = await d.repeat(d.runs, () => d.measure(fwd, job(fwd.port, c, paced)));
      const o = row.ours.median;
      const f = row.fwd.median;
      row.note = `fwd p50/p99 ${f.p50ms.toFixed(2)} / ${f.p99ms.toFixed(2)} ms; ours p99 = ${
        (o.p99ms / f.p99ms).toFixed(2)
      }× fwd's`;
      rows.push(row);
    }
  } finally {
    await Promise.all([ours.stop(), fwd.stop()]);
  }
  return rows;
}
