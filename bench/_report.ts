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

function cpu(a: Agg | undefined): string {
  return a === undefined ? "–" : `${num(a.median.cpuPct)}% / ${num(a.median.cpuUsPerOp)} µs`;
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
    "fwd",
    "ours/fwd",
    "goal",
    "p50/p99 ms ours",
    "p50/p99 ms ref",
    "CPU ours (%core / per op)",
    "CPU ref",
    "(idle →) peak / after RSS MiB ours",
    "ref",
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
          cpu(r.ours),
          cpu(r.ref),
          mem(r, r.ours),
          mem(r, r.ref),
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

/** A configuration of the zstd scenario (`wszstd`), or the codec alone on the same messages. */
export interface ZstdRow {
  /** ours-a, ours-b, ours-c, ref-a, ref-b; zstd-3, zstd-dict for the codec alone. */
  key: string;
  sys: "ours" | "ref" | "zstd";
  label: string;
  /** Measured runs (their `extra` holds the per-delivery figures). */
  agg?: Agg;
  /**
   * The codec alone: payload bytes per message, % of the plaintext, CPU µs to
   * compress one message (libzstd through FFI here; python-zstandard).
   */
  offline?: {
    payloadPerMsg: number;
    pctOfPlain: number;
    usOurs: number;
    usPython?: number;
    /**
     * CPU µs of a compressed delivery's codec work: ours compress + SHA-512 of
     * the frame; the reference's chunker into a spooled file + SHA-512.
     */
    pathOurs?: number;
    pathPython?: number;
  };
}

/** Median of a numeric `extra` field over the runs. */
export function extraMedian(a: Agg | undefined, key: string): number {
  return median(a?.runs.map((r) => Number(r.extra?.[key] ?? NaN)) ?? []);
}

/** Which compressors the measured deliveries used, as shares. */
function compressorShares(a: Agg): string {
  const names: [string, string][] = [
    ["viaPlain", "none"],
    ["viaId1", "id 1"],
    ["viaPreset", "preset"],
    ["viaCustom", "trained"],
  ];
  const total = names.reduce((s, [k]) => s + extraMedian(a, k), 0);
  const parts = names.flatMap(([k, name]) => {
    const x = extraMedian(a, k);
    return x > 0 ? [`${name} ${num((100 * x) / total, x === total ? 0 : 1)} %`] : [];
  });
  return parts.join(", ") || "–";
}

/** The goals of the zstd scenario, as text, or null when a row is missing. */
export function zstdGoals(rows: ZstdRow[]): string[] {
  const by = (k: string) => rows.find((r) => r.key === k)?.agg;
  const out: string[] = [];
  const c = by("ours-c");
  if (c !== undefined) {
    const pct = extraMedian(c, "pctOfPlain");
    out.push(
      `trained dictionary at most 40 % of the uncompressed bytes: ours (c) ${num(pct, 1)} % → ${
        pct <= 40 ? "met" : "NOT met"
      }`,
    );
  }
  const cpu = (k: string) => by(k)?.median.cpuUsPerOp ?? NaN;
  const [oa, ob, oc, ra, rb] = ["ours-a", "ours-b", "ours-c", "ref-a", "ref-b"].map(cpu) as [
    number,
    number,
    number,
    number,
    number,
  ];
  if (Number.isFinite(rb) && (Number.isFinite(ob) || Number.isFinite(oc))) {
    const worst = Math.max(...[ob, oc].filter(Number.isFinite));
    const delta = (x: number, base: number) =>
      Number.isFinite(x) && Number.isFinite(base)
        ? `${x - base >= 0 ? "+" : ""}${num(x - base)}`
        : "–";
    out.push(
      `our compression costs less CPU per message than the reference's plain zstd path: ` +
        `ours (b) ${num(ob)} µs, (c) ${num(oc)} µs per message against the reference's ${
          num(rb)
        } µs → ${worst < rb ? "met" : "NOT met"}; the compression's own share (compressed − ` +
        `uncompressed, same system): ours (b) ${delta(ob, oa)} µs, (c) ${delta(oc, oa)} µs, ` +
        `reference ${delta(rb, ra)} µs`,
    );
  }
  const codec = rows.find((r) => r.offline?.pathOurs !== undefined)?.offline;
  if (codec !== undefined) {
    out.push(
      `the codec work of one compressed delivery alone (level 3, no dictionary): ours ${
        num(codec.pathOurs, 1)
      } µs (compress, SHA-512 of the frame), the reference ${
        num(codec.pathPython, 1)
      } µs (its chunker into a spooled file, SHA-512) → ${
        codec.pathPython === undefined
          ? "not measured"
          : codec.pathOurs! < codec.pathPython
          ? "ours is cheaper"
          : "ours is NOT cheaper"
      }`,
    );
  }
  return out;
}

/** The zstd scenario as a markdown table, then its goals. */
export function zstdTable(rows: ZstdRow[], measured: number): string {
  const head = [
    `configuration (last ${measured.toLocaleString("en-US")} messages)`,
    "payload B/msg",
    "of uncompressed",
    "RECEIVE_STREAM B/msg (headers + payload)",
    "broadcaster CPU µs/msg",
    "deliveries/s",
    "compressor used",
  ];
  const lines = [
    `| ${head.join(" | ")} |`,
    `|---|${head.slice(1, -1).map(() => "---:").join("|")}|---|`,
  ];
  for (const r of rows) {
    const a = r.agg;
    const cells = a !== undefined
      ? [
        num(extraMedian(a, "payloadPerMsg"), 1),
        `${num(extraMedian(a, "pctOfPlain"), 1)} %`,
        num(extraMedian(a, "framePerMsg"), 1),
        num(a.median.cpuUsPerOp),
        `${num(a.median.rps)}${a.median.errors > 0 ? ` (${a.median.errors} err)` : ""}`,
        compressorShares(a),
      ]
      : [
        num(r.offline?.payloadPerMsg, 1),
        `${num(r.offline?.pctOfPlain, 1)} %`,
        "–",
        r.offline === undefined
          ? "–"
          : `${num(r.offline.usOurs, 1)} (Python ${num(r.offline.usPython, 1)}) ‡`,
        "–",
        "(no protocol)",
      ];
    lines.push(`| ${[r.label, ...cells].join(" | ")} |`);
  }
  if (rows.some((r) => r.offline !== undefined)) {
    lines.push(
      "",
      "‡ the codec alone: CPU µs to compress one message (best of 5 passes), libzstd through " +
        "FFI as our broadcaster calls it (Python: python-zstandard 0.25.0, the reference's library)",
    );
  }
  const goals = zstdGoals(rows).map((g) => `goal: ${g}`);
  return [...lines, ...(goals.length > 0 ? ["", ...goals] : [])].join("\n");
}
