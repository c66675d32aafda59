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
 * - `corpus`: messages `from`–`to` (exclusive) of the bench corpus
 *   (tests/compression/_corpus.ts: `count` JSON messages of 100–1,000 bytes,
 *   seed `seed`), each notified once, in order, by `concurrency` workers, at
 *   most `rate` per second when set; no warm-up (the orchestrator runs a
 *   first job for that).
 *
 * `deliveries` (notify and big) is for websocket subscribers
 * (`ws_subscriber.ts`): the load generator follows their delivery counts on
 * their `/progress` websockets, keeps at most `window` deliveries owed (sent
 * by the broadcaster's count but not yet acknowledged by a subscriber) when
 * set, and after the measured part waits until every delivery owed has
 * arrived; the result then also says how many deliveries completed from
 * `MEASURE` until then, and how fast (the broadcaster answers a notify as soon
 * as the deliveries are queued, so the notify rate alone says little).
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
import {
  encodeNotify,
  encodeNotifyHeader,
  encodeSubscribeExact,
  encodeSubscribeGlob,
} from "../src/protocol/mod.ts";
import { messageCorpus } from "../tests/compression/_corpus.ts";
import { Http1Conn } from "./_http1.ts";

/** Following websocket deliveries (see module doc). */
export interface Deliveries {
  /** `ws://…/progress` of every websocket subscriber process. */
  progress: string[];
  /** Deliveries expected per notify (only to size the window before the answer comes). */
  perNotify: number;
  /** At most this many deliveries owed before the next notify starts. */
  window?: number;
}

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
    deliveries?: Deliveries;
    /**
     * Notifies per second over all workers in the measured part (paced:
     * notify i is due i/rate s after the start). Latency is then counted
     * from when a notify was due, so a queue building up shows in p99.
     */
    rate?: number;
  }
  | {
    mode: "subscribe";
    url: string;
    count: number;
    concurrency: number;
    /** Subscriber url `i` is `urlPrefix + i`, or `urlPrefixes[i % n] + i` (spread over servers). */
    urlPrefix: string;
    urlPrefixes?: string[];
    topic?: string;
    topicPrefix?: string;
    /** Glob subscriptions instead: pattern `i` is `globPrefix + i + "/*"` (/v1/subscribe/glob). */
    globPrefix?: string;
  }
  | {
    mode: "big";
    url: string;
    topic: string;
    bytes: number;
    expectCount?: number;
    deliveries?: Deliveries;
  }
  | {
    mode: "corpus";
    url: string;
    topic: string;
    /** The corpus: `messageCorpus(count, seed)`. */
    count: number;
    seed: number;
    /** Messages sent: indexes `from` ≤ i < `to`. */
    from: number;
    to: number;
    concurrency: number;
    /** Notifies per second: message i is sent no earlier than i/rate s after the start. */
    rate?: number;
    expectCount?: number;
    deliveries?: Deliveries;
  };

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
  /** With `deliveries`: deliveries completed from MEASURE until the last one owed. */
  delivered?: number;
  /** With `deliveries`: seconds from MEASURE until the last delivery owed arrived. */
  deliveredS?: number;
  /** With `deliveries`: seconds from the end of the notifies until then. */
  drainS?: number;
}

/** Without any part arriving for this long, deliveries are given up on (counted as errors). */
const STALL_MS = 15_000;

/** Delivery counts pushed by the websocket subscriber processes. */
class Progress {
  readonly #sockets: WebSocket[] = [];
  readonly #counts: number[];
  readonly #waiters = new Set<() => void>();
  #base = 0;
  #lastChange = performance.now();

  private constructor(n: number) {
    this.#counts = new Array(n).fill(0);
  }

  /** Connects to every `/progress` and waits for the first count of each. */
  static async open(urls: string[]): Promise<Progress> {
    const p = new Progress(urls.length);
    await Promise.all(urls.map((url, i) =>
      new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(url);
        p.#sockets.push(ws);
        ws.onerror = () => reject(new Error(`Progress websocket failed: ${url}`));
        ws.onmessage = (e: MessageEvent) => {
          // "<completed deliveries> <parts received>": any change is progress.
          p.#counts[i] = Number(String(e.data).split(" ")[0]);
          p.#lastChange = performance.now();
          for (const wake of [...p.#waiters]) wake();
          resolve();
        };
      })
    ));
    p.#base = p.#sum();
    return p;
  }

  #sum(): number {
    let s = 0;
    for (const c of this.#counts) s += c;
    return s;
  }

  /** Deliveries completed since {@link open}. */
  get seen(): number {
    return this.#sum() - this.#base;
  }

  /** Waits until `ready()`; false when no count moved for {@link STALL_MS}. */
  async until(ready: () => boolean): Promise<boolean> {
    const start = performance.now();
    while (!ready()) {
      if (performance.now() - Math.max(start, this.#lastChange) > STALL_MS) return false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let wake = () => {};
      await new Promise<void>((resolve) => {
        wake = resolve;
        this.#waiters.add(resolve);
        timer = setTimeout(resolve, 250);
      });
      clearTimeout(timer);
      this.#waiters.delete(wake);
    }
    return true;
  }

  close(): void {
    for (const ws of this.#sockets) ws.close();
  }
}

/**
 * Deliveries owed by the broadcaster: each notify reserves `perNotify` when it
 * starts and is corrected to its actual count when answered.
 */
class Owed {
  readonly progress: Progress;
  readonly #per: number;
  readonly #window: number;
  /** Deliveries promised since the progress base. */
  promised = 0;
  stalled = false;

  constructor(progress: Progress, d: Deliveries) {
    this.progress = progress;
    this.#per = d.perNotify;
    this.#window = d.window ?? Infinity;
  }

  /** Waits for room in the window, then reserves one notify's deliveries. */
  async reserve(): Promise<boolean> {
    const ok = await this.progress.until(() =>
      this.promised + this.#per - this.progress.seen <= this.#window
    );
    if (!ok) this.stalled = true;
    else this.promised += this.#per;
    return ok;
  }

  /** Corrects a reservation to the count the broadcaster answered. */
  answered(count: number): void {
    this.promised += Math.max(0, count) - this.#per;
  }

  /** Waits until every promised delivery arrived; the number missing. */
  async drain(): Promise<number> {
    const ok = await this.progress.until(() => this.progress.seen >= this.promised);
    return ok ? 0 : this.promised - this.progress.seen;
  }
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

  const owed = job.deliveries === undefined
    ? null
    : new Owed(await Progress.open(job.deliveries.progress), job.deliveries);

  async function one(
    conn: Http1Conn,
    path: string,
    rec: Recorder | null,
    due?: number,
  ): Promise<void> {
    if (owed !== null && !await owed.reserve()) {
      return rec?.fail("Deliveries stalled: window never had room");
    }
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
    const t0 = due ?? performance.now();
    try {
      const res = await conn.post(path, headers, body);
      const answer = res.body;
      const t1 = performance.now();
      owed?.answered(res.status === 200 ? notifyCount(answer) : 0);
      if (rec === null) return;
      if (res.status !== 200) return rec.fail(`Status ${res.status}`);
      if (job.expectCount !== undefined) {
        const count = notifyCount(answer);
        if (count !== job.expectCount) return rec.fail(`Count ${count}`);
      }
      rec.latencies.push(t1 - t0);
    } catch (e) {
      owed?.answered(0);
      rec?.fail(String(e));
    }
  }

  async function loop(
    seconds: number,
    rec: Recorder | null,
    min: number,
    rate?: number,
  ): Promise<void> {
    const start = performance.now();
    const end = start + seconds * 1000;
    let started = 0;
    const worker = async (conn: Http1Conn) => {
      while ((performance.now() < end || started < min) && owed?.stalled !== true) {
        const i = started++;
        if (rate === undefined) {
          await one(conn, path, rec);
          continue;
        }
        const due = start + (i * 1000) / rate;
        if (due >= end && i >= min) return;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        await one(conn, path, rec, due);
      }
    };
    await Promise.all(conns.map(worker));
  }

  const { path } = target(job.url);
  const conns = Array.from({ length: job.concurrency }, () => target(job.url).conn);
  await loop(job.warmupS, null, 0);
  // The measured part starts with nothing owed: its deliveries are its own.
  if (owed !== null) await owed.drain();
  console.log("MEASURE");
  const rec = new Recorder();
  const seen0 = owed?.progress.seen ?? 0;
  const t0 = performance.now();
  await loop(job.durationS, rec, job.minRequests ?? 0, job.rate);
  const tEnd = performance.now();
  const result = rec.result((tEnd - t0) / 1000);
  conns.forEach((c) => c.close());
  if (owed !== null) await finishDeliveries(owed, rec, result, seen0, t0, tEnd);
  return result;
}

/** Waits for the deliveries owed and adds their count and timing to `result`. */
async function finishDeliveries(
  owed: Owed,
  rec: Recorder,
  result: Result,
  seen0: number,
  t0: number,
  tEnd: number,
): Promise<void> {
  const missing = await owed.drain();
  const t1 = performance.now();
  if (missing > 0) {
    rec.fail(`${missing} deliveries never arrived`);
    result.errors = rec.errors;
    result.firstError = rec.firstError;
  }
  result.delivered = owed.progress.seen - seen0;
  result.deliveredS = (t1 - t0) / 1000;
  result.drainS = (t1 - tEnd) / 1000;
  owed.progress.close();
}

async function runCorpus(job: Extract<Job, { mode: "corpus" }>): Promise<Result> {
  const topic = enc.encode(job.topic);
  const messages = messageCorpus(job.count, job.seed).slice(job.from, job.to);
  const bodies = messages.map((m, i) => {
    const identifier = new Uint8Array(4);
    new DataView(identifier.buffer).setUint32(0, job.from + i);
    return encodeNotify({ topic, sha512: sha512(m), tracing: EMPTY, identifier }, m);
  });
  const owed = job.deliveries === undefined
    ? null
    : new Owed(await Progress.open(job.deliveries.progress), job.deliveries);
  const { path } = target(job.url);
  const conns = Array.from({ length: job.concurrency }, () => target(job.url).conn);
  const rec = new Recorder();
  console.log("MEASURE");
  const t0 = performance.now();
  let next = 0;
  await Promise.all(conns.map(async (conn) => {
    while (next < bodies.length && owed?.stalled !== true) {
      const i = next++;
      const body = bodies[i]!;
      if (job.rate !== undefined) {
        const wait = t0 + (i * 1000) / job.rate - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      if (owed !== null && !await owed.reserve()) {
        return rec.fail("Deliveries stalled: window never had room");
      }
      const t = performance.now();
      try {
        const res = await conn.post(path, OCTETS, body);
        const count = res.status === 200 ? notifyCount(res.body) : 0;
        owed?.answered(count);
        if (res.status !== 200) rec.fail(`Status ${res.status}`);
        else if (job.expectCount !== undefined && count !== job.expectCount) {
          rec.fail(`Count ${count}`);
        } else rec.latencies.push(performance.now() - t);
      } catch (e) {
        owed?.answered(0);
        rec.fail(String(e));
      }
    }
  }));
  const tEnd = performance.now();
  const result = rec.result((tEnd - t0) / 1000);
  conns.forEach((c) => c.close());
  if (owed !== null) await finishDeliveries(owed, rec, result, 0, t0, tEnd);
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
      const url = `${job.urlPrefixes?.[i % job.urlPrefixes.length] ?? job.urlPrefix}${i}`;
      const body = job.globPrefix === undefined
        ? encodeSubscribeExact({ url, topic, recovery: null, tracing: EMPTY })
        : encodeSubscribeGlob({
          url,
          glob: `${job.globPrefix}${i}/*`,
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
  const owed = job.deliveries === undefined
    ? null
    : new Owed(await Progress.open(job.deliveries.progress), job.deliveries);
  await owed?.reserve();
  console.log("MEASURE");
  const t0 = performance.now();
  try {
    const res = await conn.post(path, OCTETS, body, header.length + job.bytes);
    const answer = res.body;
    owed?.answered(res.status === 200 ? notifyCount(answer) : 0);
    if (res.status !== 200) rec.fail(`Status ${res.status}`);
    else if (job.expectCount !== undefined && notifyCount(answer) !== job.expectCount) {
      rec.fail(`Count ${notifyCount(answer)}`);
    } else rec.latencies.push(performance.now() - t0);
  } catch (e) {
    owed?.answered(0);
    rec.fail(String(e));
  }
  conn.close();
  const tEnd = performance.now();
  const result = rec.result((tEnd - t0) / 1000, job.bytes);
  if (owed !== null) {
    await finishDeliveries(owed, rec, result, 0, t0, tEnd);
    // The message has arrived only when the subscriber has all of it.
    result.mbps = result.delivered === 0 ? NaN : job.bytes / 1e6 / result.deliveredS!;
  }
  return result;
}

if (import.meta.main) {
  const job = JSON.parse(Deno.args[0] ?? "{}") as Job;
  const result = job.mode === "notify"
    ? await runNotify(job)
    : job.mode === "subscribe"
    ? await runSubscribe(job)
    : job.mode === "corpus"
    ? await runCorpus(job)
    : await runBig(job);
  console.log(JSON.stringify(result));
}
