/**
 * Bench results: per-run measurements, medians, the comparison table and the
 * machine description written next to them.
 *
 * @module
 */

import { cpus, release, totalmem } from "node:os";
import type { Result } from "./loadgen.ts";

/** One measured run of one system: the load generator's result plus the broadcaster's costs. */
export interface RunStat extends Result {
  /** Broadcaster CPU over the measured part, % of one core. */
  cpuPct: number;
  /** Broadcaster CPU per request, microseconds. */
  cpuUsPerOp: number;
  /** Broadcaster peak RSS during the run (VmHWM after a reset), MiB. */
  hwmMiB: number;
  /** Broadcaster RSS right after the run, MiB. */
  rssMiB: number;
  /** Broadcaster RSS right before the run (after setup), MiB. */
  idleMiB: number;
  /** Extra facts (subscriber counters, sizes). */
  extra?: Record<string, unknown>;
}

/** Medians over runs (errors: summed). */
export interface Agg {
  runs: RunStat[];
  median: Omit<RunStat, "firstError" | "extra">;
  firstError: string | null;
}

/** A table row: one scenario, one value per system. */
export interface Row {
  id: string;
  label: string;
  /**
   * The compared number: requests/s, or MB/s for the big message. For rows
   * with websocket subscribers "rps" is completed deliveries per second.
   */
  metric: "rps" | "mbps";
  /** Show the RSS before the run too (idle → peak / after). */
  idle?: boolean;
  ours?: Agg;
  ref?: Agg;
  /** The ceiling this row is compared with: the raw forwarder, or hello-world Deno.serve. */
  fwd?: Agg;
  /** Goal text, e.g. "≥ 10× ref". */
  goal?: string;
  note?: string;
}

function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Aggregates runs into medians. */
export function aggregate(runs: RunStat[]): Agg {
  const pick = (k: keyof RunStat) => median(runs.map((r) => Number(r[k] ?? NaN)));
  return {
    runs,
    firstError: runs.find((r) => r.firstError !== null)?.firstError ?? null,
    median: {
      requests: pick("requests"),
      errors: runs.reduce((a, r) => a + r.errors, 0),
      durationS: pick("durationS"),
      rps: pick("rps"),
      p50ms: pick("p50ms"),
      p99ms: pick("p99ms"),
      mbps: pick("mbps"),
      cpuPct: pick("cpuPct"),
      cpuUsPerOp: pick("cpuUsPerOp"),
      hwmMiB: pick("hwmMiB"),
      rssMiB: pick("rssMiB"),
      idleMiB: pick("idleMiB"),
    },
  };
}

function num(x: number | undefined, digits = 0): string {
  if (x === undefined || !Number.isFinite(x)) return "–";
  return x.toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

function value(row: Row, a: Agg | undefined): string {
  if (a === undefined) return "–";
  const v = row.metric === "mbps" ? a.median.mbps : a.median.rps;
  const err = a.median.errors > 0 ? ` (${a.median.errors} err)` : "";
  return `${num(v, v !== undefined && v < 100 ? 1 : 0)}${err}`;
}

function ratio(row: Row, a: Agg | undefined, b: Agg | undefined): string {
  if (a === undefined || b === undefined) return "–";
  const x = row.metric === "mbps" ? a.median.mbps : a.median.rps;
  const y = row.metric === "mbps" ? b.median.mbps : b.median.rps;
  if (x === undefined || y === undefined || !(y > 0)) return "–";
  return `${num(x / y, 2)}×`;
}

function lat(a: Agg | undefined): string {
  return a === undefined ? "–" : `${num(a.median.p50ms, 1)} / ${num(a.median.p99ms, 1)}`;
}

/**
 * Share of a core, and CPU-seconds per 1,000 operations (µs per op / 1000);
 * for a one-message row (MB/s), CPU-seconds for the transfer.
 */
function cpu(row: Row, a: Agg | undefined): string {
  if (a === undefined || !Number.isFinite(a.median.cpuPct)) return "–";
  if (row.metric === "mbps") {
    return `${num(a.median.cpuPct)}% / ${num(a.median.cpuUsPerOp / 1e6, 2)} s`;
  }
  const perK = a.median.cpuUsPerOp / 1000;
  return `${num(a.median.cpuPct)}% / ${num(perK, perK < 10 ? 3 : 1)} s`;
}

function mem(row: Row, a: Agg | undefined): string {
  if (a === undefined) return "–";
  const idle = row.idle === true ? `${num(a.median.idleMiB)} → ` : "";
  return `${idle}${num(a.median.hwmMiB)} / ${num(a.median.rssMiB)}`;
}

/** The comparison as a markdown table. */
export function table(rows: Row[]): string {
  const head = [
    "scenario",
    "ours",
    "ref",
    "ours/ref",
    "ceiling",
    "ours/ceiling",
    "goal",
    "p50/p99 ms ours",
    "p50/p99 ms ref",
    "CPU ours (%core / CPU-s per 1k)",
    "CPU ref",
    "CPU ceiling",
    "(idle →) peak / after RSS MiB ours",
    "ref",
    "ceiling",
  ];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const r of rows) {
    const label = r.note === undefined ? r.label : `${r.label} [${r.note}]`;
    lines.push(
      `| ${
        [
          label,
          value(r, r.ours),
          value(r, r.ref),
          ratio(r, r.ours, r.ref),
          value(r, r.fwd),
          ratio(r, r.ours, r.fwd),
          r.goal ?? "",
          lat(r.ours),
          lat(r.ref),
          cpu(r, r.ours),
          cpu(r, r.ref),
          cpu(r, r.fwd),
          mem(r, r.ours),
          mem(r, r.ref),
          mem(r, r.fwd),
        ].join(" | ")
      } |`,
    );
  }
  return lines.join("\n");
}

/** The machine and runtimes, for the results file. */
export function machine(pythonVersion: string, wrkVersion: string | null): Record<string, unknown> {
  const c = cpus();
  return {
    cpuModel: c[0]?.model ?? "unknown",
    cores: c.length,
    memoryMiB: Math.round(totalmem() / 1024 / 1024),
    kernel: release(),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    python: pythonVersion,
    reference: "lonelypss 0.0.11 / lonelypsp 0.0.46 (bench/requirements-reference.txt)",
    wrk: wrkVersion,
  };
}
