/**
 * Bench load generator, run in its own process so it never shares an event
 * loop with what it measures. One JSON job in argv, one JSON result on
 * stdout. Modes:
 *
 * - `notify`: POST /v1/notify bodies from `concurrency` workers for
 *   `durationS` (after `warmupS`), optionally hmac-signed per request;
 *   checks the RESPONSE_NOTIFY count when `expectCount` is set.
 * - `subscribe`: `count` POST /v1/subscribe/exact with distinct urls/topics.
 * - `big`: one notify whose message of `bytes` bytes is generated as a stream
 *   (never held in memory); its SHA-512 is computed incrementally first.
 *
 * Prints `MEASURE` when the measured part starts (the orchestrator samples
 * the broadcaster's CPU there), then the result.
 *
 * Usage: deno run -A bench/loadgen.ts '<json job>'
 *
 * @module
 */

import { createHash, randomBytes } from "node:crypto";
import { decodeHmacSecret, hmacAuth, memoryReplayStore } from "../src/auth/mod.ts";
import type { AuthStrategy } from "../src/auth/types.ts";
import { encodeNotify, encodeNotifyHeader, encodeSubscribeExact } from "../src/protocol/mod.ts";
import { Http1Conn } from "./_http1.ts";

/** A load job (see module doc). */
export type Job =
  | {
    mode: "notify";
    url: string;
    topic: string;
    size: number;
    concurrency: number;
    durationS: number;
    warmupS: number;
    minRequests?: number;
    expectCount?: number;
    hmacS2b?: string;
  }
  | {
    mode: "subscribe";
    url: string;
    count: number;
    concurrency: number;
    urlPrefix: string;
    topic?: string;
    topicPrefix?: string;
  }
  | { mode: "big"; url: string; topic: string; bytes: number; expectCount?: number };

/** What a job measured. */
export interface Result {
  requests: number;
  errors: number;
  firstError: string | null;
  durationS: number;
  rps: number;
  p50ms: number;
  p99ms: number;
  mbps?: number;
}

const EMPTY = new Uint8Array(0);
const enc = new TextEncoder();
const OCTETS = { "content-type": "application/octet-stream" };

function sha512(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha512").update(b).digest());
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** RESPONSE_NOTIFY's count, or -1 when the body is not one. */
function notifyCount(b: Uint8Array): number {
  if (b.length < 4 || b[0] !== 0 || b[1] !== 4) return -1;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let off = 2;
  off += 2 + v.getUint16(off);
  if (off + 2 > b.length) return -1;
  off += 2 + v.getUint16(off);
  if (off + 4 > b.length) return -1;
  return v.getUint32(off);
}

class Recorder {
  latencies: number[] = [];
  errors = 0;
  firstError: string | null = null;
  fail(why: string): void {
    this.errors++;
    this.firstError ??= why;
  }
  result(durationS: number, bytes?: number): Result {
    const sorted = Float64Array.from(this.latencies).sort();
    const r: Result = {
      requests: sorted.length,
      errors: this.errors,
      firstError: this.firstError,
      durationS,
      rps: sorted.length / durationS,
      p50ms: percentile(sorted, 0.5),
      p99ms: percentile(sorted, 0.99),
    };
    if (bytes !== undefined) r.mbps = bytes / 1e6 / durationS;
    return r;
  }
}

/** A connection to the url's host and the path to POST to. */
function target(url: string): { conn: Http1Conn; path: string } {
  const u = new URL(url);
  return { conn: new Http1Conn(u.hostname, Number(u.port)), path: u.pathname };
}

async function runNotify(job: Extract<Job, { mode: "notify" }>): Promise<Result> {
  const topic = enc.encode(job.topic);
  const message = randomBytes(job.size);
  const hash = sha512(message);
  const signer: AuthStrategy | null = job.hmacS2b === undefined
    ? null
    : hmacAuth({ secret: decodeHmacSecret(job.hmacS2b), replay: memoryReplayStore() });
  const fixed = encodeNotify({
    topic,
    sha512: hash,
    tracing: EMPTY,
    identifier: enc.encode("bnch"),
  }, message);

  async function one(conn: Http1Conn, path: string, rec: Recorder | null): Promise<void> {
    let body = fixed;
    let headers: Record<string, string> = OCTETS;
    if (signer !== null) {
      const identifier = new Uint8Array(randomBytes(4));
      const auth = await signer.authorize(
        { type: "notify", topic, identifier, sha512: hash },
        EMPTY,
        Date.now() / 1000,
      );
      body = encodeNotify({ topic, sha512: hash, tracing: EMPTY, identifier }, message);
      headers = { ...OCTETS, authorization: auth ?? "" };
    }
    const t0 = performance.now();
    try {
      const res = await conn.post(path, headers, body);
      const answer = res.body;
      const t1 = performance.now();
      if (rec === null) return;
      if (res.status !== 200) return rec.fail(`Status ${res.status}`);
      if (job.expectCount !== undefined) {
        const count = notifyCount(answer);
        if (count !== job.expectCount) return rec.fail(`Count ${count}`);
      }
      rec.latencies.push(t1 - t0);
    } catch (e) {
      rec?.fail(String(e));
    }
  }

  async function loop(seconds: number, rec: Recorder | null, min: number): Promise<void> {
    const end = performance.now() + seconds * 1000;
    let started = 0;
    const worker = async (conn: Http1Conn) => {
      while (performance.now() < end || started < min) {
        started++;
        await one(conn, path, rec);
      }
    };
    await Promise.all(conns.map(worker));
  }

  const { path } = target(job.url);
  const conns = Array.from({ length: job.concurrency }, () => target(job.url).conn);
  await loop(job.warmupS, null, 0);
  console.log("MEASURE");
  const rec = new Recorder();
  const t0 = performance.now();
  await loop(job.durationS, rec, job.minRequests ?? 0);
  const result = rec.result((performance.now() - t0) / 1000);
  conns.forEach((c) => c.close());
  return result;
}

async function runSubscribe(job: Extract<Job, { mode: "subscribe" }>): Promise<Result> {
  const rec = new Recorder();
  let next = 0;
  const worker = async () => {
    const { conn, path } = target(job.url);
    while (next < job.count) {
      const i = next++;
      const topic = enc.encode(job.topic ?? `${job.topicPrefix ?? "t/"}${i}`);
      const body = encodeSubscribeExact({
        url: `${job.urlPrefix}${i}`,
        topic,
        recovery: null,
        tracing: EMPTY,
      });
      const t0 = performance.now();
      try {
        const res = await conn.post(path, OCTETS, body);
        if (res.status !== 200) rec.fail(`Status ${res.status}`);
        else rec.latencies.push(performance.now() - t0);
      } catch (e) {
        rec.fail(String(e));
      }
    }
    conn.close();
  };
  console.log("MEASURE");
  const t0 = performance.now();
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  return rec.result((performance.now() - t0) / 1000);
}

/** A deterministic 64 KiB block; the message is this block repeated. */
function block(): Uint8Array {
  const b = new Uint8Array(64 * 1024);
  let x = 0x9e3779b9;
  for (let i = 0; i < b.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

function* pieces(total: number, blk: Uint8Array): Generator<Uint8Array> {
  for (let sent = 0; sent < total; sent += blk.length) {
    yield sent + blk.length <= total ? blk : blk.subarray(0, total - sent);
  }
}

async function runBig(job: Extract<Job, { mode: "big" }>): Promise<Result> {
  const blk = block();
  const hash = createHash("sha512");
  for (const p of pieces(job.bytes, blk)) hash.update(p);
  const header = encodeNotifyHeader({
    topic: enc.encode(job.topic),
    sha512: new Uint8Array(hash.digest()),
    tracing: EMPTY,
    identifier: enc.encode("big1"),
    length: BigInt(job.bytes),
  });
  const body = (function* () {
    yield header;
    yield* pieces(job.bytes, blk);
  })();
  const { conn, path } = target(job.url);
  const rec = new Recorder();
  console.log("MEASURE");
  const t0 = performance.now();
  try {
    const res = await conn.post(path, OCTETS, body, header.length + job.bytes);
    const answer = res.body;
    if (res.status !== 200) rec.fail(`Status ${res.status}`);
    else if (job.expectCount !== undefined && notifyCount(answer) !== job.expectCount) {
      rec.fail(`Count ${notifyCount(answer)}`);
    } else rec.latencies.push(performance.now() - t0);
  } catch (e) {
    rec.fail(String(e));
  }
  conn.close();
  return rec.result((performance.now() - t0) / 1000, job.bytes);
}

if (import.meta.main) {
  const job = JSON.parse(Deno.args[0] ?? "{}") as Job;
  const result = job.mode === "notify"
    ? await runNotify(job)
    : job.mode === "subscribe"
    ? await runSubscribe(job)
    : await runBig(job);
  console.log(JSON.stringify(result));
}
