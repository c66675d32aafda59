/**
 * The measurements of `deno task bench:zstd`, runtime-neutral so Deno, Bun
 * and Node run the very same code (bench/_zstd_runtime.ts), with
 * bench/compression_python.py as python-zstandard's twin: per-message
 * compression (plain level 3 and with the trained dictionary) and bulk
 * one-shot compression of the whole corpus. Each figure is the best of a few
 * passes, in CPU time of the process (the machine is shared).
 *
 * @module
 */

import type { Zstd, ZstdDictionary } from "../src/compression/types.ts";

/** One backend's figures. */
export interface Measured {
  /** Runtime and backend. */
  readonly backend: string;
  /** Compressed bytes of all messages, each its own frame, plain level 3. */
  readonly plainBytes: number;
  /** The same with the trained dictionary. */
  readonly dictBytes: number;
  /** µs of one thread per message: compress / decompress, plain and with the dictionary. */
  readonly usPerMessage: { cPlain: number; dPlain: number; cDict: number; dDict: number };
  /** MB/s of uncompressed data, per message (as the websocket sends them). */
  readonly messageMBps: { cPlain: number; dPlain: number; cDict: number; dDict: number };
  /** MB/s for the whole corpus as one frame, level 3. */
  readonly bulkMBps: { c: number; d: number };
}

const PASSES = 5;

interface CpuClock {
  cpuUsage(previous?: { user: number; system: number }): { user: number; system: number };
}
const clock = (globalThis as unknown as { process: CpuClock }).process;

/**
 * Seconds of CPU (user + system, this process) for the fastest of a few
 * passes: CPU time rather than wall time, as other work shares the machine.
 */
export function best(pass: () => void): number {
  let fastest = Infinity;
  for (let i = 0; i < PASSES; i++) {
    const start = clock.cpuUsage();
    pass();
    const used = clock.cpuUsage(start);
    fastest = Math.min(fastest, used.user + used.system);
  }
  return fastest / 1e6;
}

/** Measures `zstd` on `messages` with `dictionary` (level 3 throughout, the wire's level). */
export function measure(zstd: Zstd, messages: Uint8Array[], dictionary: ZstdDictionary): Measured {
  const total = messages.reduce((n, m) => n + m.length, 0);
  const limits = { maxOutputBytes: 1 << 20, maxWindowBytes: 8 << 20 };
  const plain = messages.map((m) => zstd.compress(m, { level: 3 }));
  const withDict = messages.map((m) => zstd.compress(m, { level: 3, dictionary }));
  const t = {
    cPlain: best(() => messages.forEach((m) => zstd.compress(m, { level: 3 }))),
    dPlain: best(() => plain.forEach((f) => zstd.decompress(f, limits))),
    cDict: best(() => messages.forEach((m) => zstd.compress(m, { level: 3, dictionary }))),
    dDict: best(() => withDict.forEach((f) => zstd.decompress(f, { ...limits, dictionary }))),
  };
  const corpus = new Uint8Array(total);
  messages.reduce((at, m) => (corpus.set(m, at), at + m.length), 0);
  const bulk = zstd.compress(corpus, { level: 3 });
  const bulkLimits = { ...limits, maxOutputBytes: total };
  const bc = best(() => zstd.compress(corpus, { level: 3 }));
  const bd = best(() => zstd.decompress(bulk, bulkLimits));
  const mb = total / 1e6;
  const per = (s: number) => round((s * 1e6) / messages.length, 2);
  return {
    backend: zstd.name,
    plainBytes: plain.reduce((n, f) => n + f.length, 0),
    dictBytes: withDict.reduce((n, f) => n + f.length, 0),
    usPerMessage: {
      cPlain: per(t.cPlain),
      dPlain: per(t.dPlain),
      cDict: per(t.cDict),
      dDict: per(t.dDict),
    },
    messageMBps: {
      cPlain: round(mb / t.cPlain),
      dPlain: round(mb / t.dPlain),
      cDict: round(mb / t.cDict),
      dDict: round(mb / t.dDict),
    },
    bulkMBps: { c: round(mb / bc), d: round(mb / bd) },
  };
}

function round(n: number, digits = 0): number {
  return Number(n.toFixed(digits));
}

/** Messages as one file: `u32 length ‖ bytes` records (the reference's sample format). */
export function packMessages(messages: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(messages.reduce((n, m) => n + 4 + m.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const m of messages) {
    view.setUint32(at, m.length);
    out.set(m, at + 4);
    at += 4 + m.length;
  }
  return out;
}

/** The inverse of {@link packMessages}. */
export function unpackMessages(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length;) {
    const n = view.getUint32(at);
    out.push(bytes.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  return out;
}
