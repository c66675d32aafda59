/**
 * The scaling table (`deno task bench --only scale`): how our broadcaster's
 * cost grows, one series per row group, each point on a fresh measurement:
 *
 * - `glob`: notify → 1 exact subscriber, c=1, with N glob subscriptions on
 *   other topics (`other/<batch>/<i>/*`, never matching): latency p50/p99
 *   and CPU per notify, RSS after subscribing (the matcher's cost). One
 *   broadcaster; the globs are added batch by batch.
 * - `fanout`: one notify → N HTTP subscribers (distinct urls spread over the
 *   subscriber processes), c=1: deliveries per second, CPU per delivery,
 *   peak RSS and peak descriptors. One broadcaster, one topic per N.
 * - `ws`: N idle websocket connections (RSS per connection), then one notify
 *   to all of them: time until the last delivery is acknowledged. A fresh
 *   broadcaster per N, Deno front off (see the note it adds).
 *
 * The `growth` column is the cost per unit at N over the cost per unit at the
 * series' first N: about 1 for a series that grows linearly (a constant for
 * the glob series, where the work per notify should not grow at all). CPU %
 * columns are % of one core over the measured part: the subscriber processes
 * and the whole machine (other work on it included), since on a shared
 * machine the broadcaster's rate is often bounded by neither its code nor
 * its CPU.
 *
 * @module
 */

import type { Job } from "./loadgen.ts";
import type { RunStat } from "./_report.ts";
import { fdCount, memory, sampleMax, type Server } from "./_procs.ts";

/** The series, in the order they run (`--only scale-<series>` runs one). */
export const SCALE_SERIES = ["glob", "fanout", "ws"] as const;

/** What the scale scenario needs from the orchestrator (bench/run.ts). */
export interface ScaleDeps {
  /** The series to run. */
  series: readonly (typeof SCALE_SERIES)[number][];
  quick: boolean;
  /** Seconds of each measured notify run. */
  durationS: number;
  warmupS: number;
  startOurs(extra?: string[]): Promise<Server>;
  /** Runs one load job against `target` (CPU and memory sampled on it). */
  measure(target: Server | null, job: Job, clients?: Server[]): Promise<RunStat>;
  /** Starts `n` HTTP subscriber processes (bench/subscriber.ts). */
  startSubscribers(n: number): Promise<Server[]>;
  /** Starts websocket subscriber processes on `s`, all subscribed to `topic`. */
  startWsSubscribers(s: Server, topic: string, total: number, processes: number): Promise<Server[]>;
  notes: string[];
}

/** One point of a series. */
export interface ScalePoint {
  series: (typeof SCALE_SERIES)[number];
  n: number;
  /** Named measurements of this point (see {@link scaleTable} for the units). */
  values: Record<string, number>;
  /** Cost per unit at n over the cost per unit at the series' first point. */
  growth: number;
  errors: number;
  firstError: string | null;
}

const EMPTY_NOTE = "";

/** The series' sizes (quick runs stop one step short on the costly ones). */
function sizes(quick: boolean) {
  return {
    glob: quick ? [10, 1_000, 10_000] : [10, 1_000, 10_000, 100_000],
    fanout: quick ? [1, 100, 1_000] : [1, 100, 1_000, 10_000],
    ws: quick ? [1_000] : [1_000, 10_000],
  };
}

function subscribeJob(s: Server, count: number, extra: Partial<Job>): Job {
  return {
    mode: "subscribe",
    url: `http://127.0.0.1:${s.port}/v1/subscribe/${"globPrefix" in extra ? "glob" : "exact"}`,
    count,
    concurrency: 8,
    urlPrefix: "",
    ...extra,
  } as Job;
}

async function subscribe(d: ScaleDeps, s: Server, count: number, extra: Partial<Job>) {
  if (count <= 0) return;
  const r = await d.measure(null, subscribeJob(s, count, extra));
  if (r.errors > 0) throw new Error(`Subscribing failed: ${r.firstError}`);
}

function notifyJob(s: Server, topic: string, extra: Partial<Job>): Job {
  return {
    mode: "notify",
    url: `http://127.0.0.1:${s.port}/v1/notify`,
    topic,
    size: 64,
    concurrency: 1,
    ...extra,
  } as Job;
}

/** Runs every series; the points in order. */
export async function scaleScenario(d: ScaleDeps): Promise<ScalePoint[]> {
  const n = sizes(d.quick);
  const points: ScalePoint[] = [];
  const http = d.series.includes("glob") || d.series.includes("fanout");
  const subs = http ? await d.startSubscribers(3) : [];
  const url = (i: number, path: string) => `http://127.0.0.1:${subs[i % subs.length]!.port}${path}`;
  try {
    // Glob series: one broadcaster, globs added batch by batch.
    const s = d.series.includes("glob") ? await d.startOurs() : null;
    if (s !== null) {
      try {
        await subscribe(d, s, 1, { topic: "one", urlPrefix: url(0, "/one/") });
        let have = 0;
        for (const [batch, total] of n.glob.entries()) {
          await subscribe(d, s, total - have, {
            globPrefix: `other/${batch}/`,
            urlPrefix: url(1, "/g/"),
          });
          have = total;
          const r = await d.measure(
            s,
            notifyJob(s, "one", {
              durationS: d.durationS,
              warmupS: d.warmupS,
              expectCount: 1,
            } as Partial<Job>),
          );
          points.push(point(
            "glob",
            total,
            {
              p50ms: r.p50ms,
              p99ms: r.p99ms,
              rps: r.rps,
              cpuUs: r.cpuUsPerOp,
              rssMiB: r.idleMiB,
            },
            r,
            r.cpuUsPerOp,
            points,
          ));
        }
      } finally {
        await s.stop();
      }
    }

    // HTTP fan-out series: one broadcaster, one topic per size.
    const f = d.series.includes("fanout") ? await d.startOurs() : null;
    if (f !== null) {
      try {
        for (const size of n.fanout) {
          const topic = `fan${size}`;
          await subscribe(d, f, size, {
            topic,
            urlPrefixes: subs.map((x) => `http://127.0.0.1:${x.port}/f/${size}/`),
          });
          const fds = sampleMax(() => fdCount(f.pid));
          const r = await d.measure(
            f,
            notifyJob(f, topic, {
              durationS: d.durationS,
              warmupS: d.warmupS,
              expectCount: size,
              minRequests: 2,
            } as Partial<Job>),
            subs,
          );
          const peakFds = fds.stop();
          const deliveries = r.rps * size;
          points.push(point(
            "fanout",
            size,
            {
              deliveriesPerS: deliveries,
              notifyMs: r.p50ms,
              cpuUsPerDelivery: r.cpuUsPerOp / size,
              idleMiB: r.idleMiB,
              peakMiB: r.hwmMiB,
              peakFds,
              subscribersCpuPct: Number(r.extra?.clientsCpuPct ?? NaN),
              machineBusyPct: Number(r.extra?.machineBusyPct ?? NaN),
            },
            r,
            r.cpuUsPerOp / size,
            points,
          ));
        }
      } finally {
        await f.stop();
      }
    }
  } finally {
    await Promise.all(subs.map((x) => x.stop()));
  }

  // Idle websockets, then one notify to all. The Deno front holds three
  // descriptors per connection (see src/core/descriptors.ts), so with this
  // machine's `ulimit -n` it admits fewer than 10,000: the front is off here.
  for (const size of d.series.includes("ws") ? n.ws : []) {
    const s = await d.startOurs(["--front", "off", "--max-connections", String(size + 64)]);
    try {
      const before = memory(s.pid).rssMiB;
      const fd0 = fdCount(s.pid);
      const ws = await d.startWsSubscribers(s, "wsidle", size, 4);
      try {
        const after = memory(s.pid).rssMiB;
        const fd1 = fdCount(s.pid);
        const r = await d.measure(
          s,
          notifyJob(s, "wsidle", {
            durationS: 0,
            warmupS: 0,
            expectCount: size,
            minRequests: 1,
            deliveries: {
              progress: ws.map((p) => `ws://127.0.0.1:${p.port}/progress`),
              perNotify: size,
              window: size,
            },
          } as Partial<Job>),
          ws,
        );
        const perConnKiB = ((after - before) * 1024) / size;
        points.push(point(
          "ws",
          size,
          {
            idleMiB: before,
            connectedMiB: after,
            kibPerConn: perConnKiB,
            fdsPerConn: (fd1 - fd0) / size,
            lastDeliveryMs: (r.deliveredS ?? NaN) * 1000,
            peakMiB: r.hwmMiB,
            cpuUsPerDelivery: r.cpuUsPerOp,
            subscribersCpuPct: Number(r.extra?.clientsCpuPct ?? NaN),
            machineBusyPct: Number(r.extra?.machineBusyPct ?? NaN),
          },
          r,
          ((r.deliveredS ?? NaN) * 1e6) / size,
          points,
        ));
      } finally {
        await Promise.all(ws.map((x) => x.stop()));
      }
    } finally {
      await s.stop();
    }
  }
  if (!d.series.includes("ws")) return points;
  d.notes.push(
    "scale/ws: the Deno front is off (Deno.serve direct, --max-connections N+64): with the " +
      "front each connection holds 3 descriptors and the default cap here is " +
      "(ulimit -n − 64) × 0.55 / 3",
  );
  return points;
}

function point(
  series: ScalePoint["series"],
  n: number,
  values: Record<string, number>,
  r: RunStat,
  perUnit: number,
  previous: ScalePoint[],
): ScalePoint {
  const first = previous.find((p) => p.series === series);
  const base = first === undefined ? perUnit : first.values.__perUnit!;
  return {
    series,
    n,
    values: { ...values, __perUnit: perUnit },
    growth: perUnit / base,
    errors: r.errors,
    firstError: r.firstError,
  };
}

const COLUMNS: Record<ScalePoint["series"], [string, string, number][]> = {
  glob: [
    ["p50ms", "p50 ms", 2],
    ["p99ms", "p99 ms", 2],
    ["rps", "notifies/s", 0],
    ["cpuUs", "CPU µs/notify", 0],
    ["rssMiB", "RSS MiB", 0],
  ],
  fanout: [
    ["deliveriesPerS", "deliveries/s", 0],
    ["notifyMs", "notify p50 ms", 1],
    ["cpuUsPerDelivery", "CPU µs/delivery", 1],
    ["idleMiB", "RSS before", 0],
    ["peakMiB", "peak RSS", 0],
    ["peakFds", "peak fds", 0],
    ["subscribersCpuPct", "subscribers CPU %", 0],
    ["machineBusyPct", "machine busy %", 0],
  ],
  ws: [
    ["idleMiB", "RSS idle", 0],
    ["connectedMiB", "RSS connected", 0],
    ["kibPerConn", "KiB/conn", 1],
    ["fdsPerConn", "fds/conn", 2],
    ["lastDeliveryMs", "last delivery ms", 0],
    ["cpuUsPerDelivery", "CPU µs/delivery", 1],
    ["peakMiB", "peak RSS", 0],
    ["subscribersCpuPct", "subscribers CPU %", 0],
    ["machineBusyPct", "machine busy %", 0],
  ],
};

const TITLES: Record<ScalePoint["series"], string> = {
  glob: "notify → 1 subscriber, c=1, with N glob subscriptions on other topics " +
    "(growth: CPU per notify ÷ that at the first N)",
  fanout: "1 notify → N HTTP subscribers, c=1 (growth: CPU per delivery ÷ that at N=1)",
  ws: "N idle websocket connections, then 1 notify → all " +
    "(growth: time to the last delivery per connection ÷ that at the first N)",
};

/** The scale table, one block per series (markdown). */
export function scaleTable(points: ScalePoint[]): string {
  const out: string[] = [];
  for (const series of ["glob", "fanout", "ws"] as const) {
    const ps = points.filter((p) => p.series === series);
    if (ps.length === 0) continue;
    const cols = COLUMNS[series];
    out.push(`${TITLES[series]}\n`);
    out.push(`| N | ${cols.map((c) => c[1]).join(" | ")} | growth | errors |`);
    out.push(`|---:|${cols.map(() => "---:").join("|")}|---:|---:|`);
    for (const p of ps) {
      const cells = cols.map(([k, , digits]) => fmt(p.values[k] ?? NaN, digits));
      const err = p.errors === 0 ? "0" : `${p.errors} (${p.firstError ?? EMPTY_NOTE})`;
      out.push(
        `| ${p.n.toLocaleString("en-US")} | ${cells.join(" | ")} | ${
          p.growth.toFixed(2)
        }× | ${err} |`,
      );
    }
    out.push("");
  }
  return out.join("\n");
}

function fmt(x: number, digits: number): string {
  if (!Number.isFinite(x)) return "–";
  return x.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}
