/**
 * `postBytes` over our own HTTP/1.1 client: keep-alive connections from a
 * {@link ConnectionPool}, the request head and a small body written in one
 * go, a tight response parser, and the same contract as the `fetch` version
 * in `../http_client.ts`:
 *
 * - the timeouts: total (`totalTimeoutMs` plus the body's size at the
 *   minimum write rate, as with fetch); connect (a real connect phase here,
 *   and, as with fetch, bodies up to {@link SMALL_BODY_BYTES} must see the
 *   response head within connect + read-idle of the attempt's start); read
 *   idle between response chunks once the head is in; and, here only, the
 *   write rate while the body goes out (`./progress.ts`);
 * - at most `maxResponseBytes` of the answer kept (a longer one is cut and its
 *   connection closed);
 * - redirects are never followed: a 3xx is a failed delivery;
 * - retries on a fresh connection, only when the body can be produced again
 *   and no byte of a response came: once when a reused keep-alive connection
 *   was closed by the peer (it may have been closing as we reused it), and up
 *   to {@link MAX_UNSENT_RETRIES} times when the connection broke before the
 *   request was written whole (see {@link postWithPool});
 * - the caller's signal, and closing the pool, abort ("Aborted").
 *
 * Bodies of known size go with Content-Length, spool files included; other
 * streams are sent chunked (`./body.ts`).
 *
 * @module
 */

import { type PostOptions, type PostResult, SMALL_BODY_BYTES } from "../post_types.ts";
import {
  bodySize,
  COALESCE_BYTES,
  discard,
  type OneBody,
  type Sink,
  smallRequest,
  writeRequest,
} from "./body.ts";
import { type Connection, type ConnectionPool, PoolClosedError } from "./pool.ts";
import { sizeAllowanceMs, WriteProgress } from "./progress.ts";
import { parseTarget, requestHead, type Target } from "./request.ts";
import { MalformedResponseError, ResponseParser } from "./response.ts";
import { ConnectError, type SocketEvents } from "./socket.ts";
import { Deadlines, type Expiring } from "./deadlines.ts";
import { MessageAbandoned } from "../../core/growing_spool.ts";

/** Failure of an attempt that another fresh connection could fix. */
const DROPPED = Symbol("dropped");

/**
 * Most retries of a request whose connection broke before it was written
 * whole. A listener whose accept queue overflows (Python's `http.server`
 * listens with a backlog of 5) makes Linux answer with SYN cookies; when the
 * handshake's last ACK finds the queue still full it is dropped, and the next
 * segment of a body that follows at once fails the cookie check and is
 * answered with a reset: the subscriber never accepted that connection. Each
 * retry connects afresh, and the kernel's SYN back-off spaces them out.
 */
export const MAX_UNSENT_RETRIES = 3;

/**
 * POSTs `body` to `url` through `pool`; never throws.
 *
 * A retry never sends a RECEIVE twice to a subscriber that may have acted on
 * it: either no response byte came on a reused connection (the peer closed
 * it idle), or the request had not been written whole, and a subscriber acts
 * only on a whole RECEIVE (its length and hash are checked, and signed, over
 * all of it). The same bytes go again, so an hmac replay store would refuse a
 * second copy anyway.
 */
export async function postWithPool(
  pool: ConnectionPool,
  deadlines: Deadlines,
  url: string,
  opts: PostOptions,
): Promise<PostResult> {
  const target = parseTarget(url);
  if (typeof target === "string") return { ok: false, reason: target };
  if (opts.signal?.aborted) return { ok: false, reason: "Aborted" };
  const request = new Request1(opts, deadlines);
  const given = opts.body;
  const makeBody = typeof given === "function" ? given : () => given;
  const retryable = typeof given === "function" || !(given instanceof ReadableStream);
  try {
    for (let attempt = 0;; attempt++) {
      // The retry goes to a fresh connection, never another pooled one.
      const outcome = await request.attempt(pool, target, makeBody(), attempt > 0);
      if (outcome !== DROPPED) return outcome;
      if (!retryable || attempt >= MAX_UNSENT_RETRIES) {
        return { ok: false, reason: request.dropReason };
      }
    }
  } finally {
    request.finish();
  }
}

/** One POST across its attempts: deadlines, abort, cancellation of the phase in progress. */
class Request1 implements Expiring {
  readonly #opts: PostOptions;
  readonly #deadlines: Deadlines;
  /** The total limit for an empty body; the body's size allowance comes on top. */
  #totalBaseAt: number;
  #totalAt: number;
  /** Largest body size seen (known, or written so far), for the total's allowance. */
  #bodyBytes = 0;
  readonly #progress: WriteProgress;
  #phaseAt = Infinity;
  #phase: "connect" | "read" = "connect";
  /** Why the request was stopped from outside (timeout, abort); never retried. */
  why: string | null = null;
  /** The reason given when a dropped connection is not retried. */
  dropReason = "Connection closed before the response";
  #abandon: ((why: Error) => void) | null = null;
  readonly #onAbort: (() => void) | null;
  deadline = Infinity;

  constructor(opts: PostOptions, deadlines: Deadlines) {
    this.#opts = opts;
    this.#deadlines = deadlines;
    const now = performance.now();
    this.#totalBaseAt = positive(opts.totalTimeoutMs) ? now + opts.totalTimeoutMs : Infinity;
    this.#totalAt = this.#totalBaseAt;
    this.#progress = new WriteProgress(
      opts.writeIdleTimeoutMs ?? Infinity,
      opts.writeMinBytesPerSecond ?? 0,
    );
    this.#onAbort = opts.signal === undefined ? null : () => this.stop("Aborted");
    if (this.#onAbort !== null) opts.signal!.addEventListener("abort", this.#onAbort);
    this.#reschedule();
  }

  /** Stops whatever runs now with `reason` (the first reason wins). */
  stop(reason: string): void {
    this.why ??= reason;
    this.#abandon?.(new Error(reason));
  }

  expire(now: number): void {
    if (now >= this.#totalAt) return this.stop("Total timeout");
    if (now >= this.#progress.deadline) {
      this.#sized(this.#progress.written);
      if (!this.#progress.check(now)) return this.stop("Write timeout");
    }
    if (now >= this.#phaseAt) {
      this.stop(this.#phase === "read" ? "Read timeout" : "Connect timeout");
    } else this.#reschedule();
  }

  finish(): void {
    this.#deadlines.remove(this);
    if (this.#onAbort !== null) this.#opts.signal!.removeEventListener("abort", this.#onAbort);
  }

  /** Sets the phase deadline (`ms` from now; not finite = none). */
  #setPhase(phase: "connect" | "read", ms: number): void {
    this.#phase = phase;
    this.#phaseAt = positive(ms) ? performance.now() + ms : Infinity;
    this.#reschedule();
  }

  /** Notes a body of at least `bytes`: the total limit grows by its allowance. */
  #sized(bytes: number): void {
    if (bytes <= this.#bodyBytes) return;
    this.#bodyBytes = bytes;
    this.#totalAt = this.#totalBaseAt +
      sizeAllowanceMs(bytes, this.#opts.writeMinBytesPerSecond ?? 0);
  }

  /** Moves the total limit `ms` later (time the body's source kept the upload waiting). */
  #extendTotal(ms: number): void {
    this.#totalBaseAt += ms;
    this.#totalAt += ms;
  }

  #reschedule(): void {
    this.deadline = Math.min(this.#totalAt, this.#phaseAt, this.#progress.deadline);
    if (this.deadline === Infinity) this.#deadlines.remove(this);
    else this.#deadlines.set(this);
  }

  /**
   * Writes head and a small body in one write, with no async layer between the attempt and the
   * socket (the usual RECEIVE); resolves as {@link writeBody} does.
   */
  #writeSmall(
    conn: Connection,
    head: string,
    body: Uint8Array,
    exchange: Exchange,
  ): Promise<boolean> {
    const progress = this.#progress;
    let writing: Promise<void>;
    try {
      writing = conn.socket.write(smallRequest(head, body));
    } catch (error) {
      writing = Promise.reject(error);
    }
    return writing.then(() => {
      progress.wrote(head.length + body.length);
      exchange.writeDone = true;
      this.#wroteAll();
      return true;
    }, (error) => {
      exchange.writeFailed(error);
      exchange.writeDone = true;
      this.#wroteAll();
      return false;
    });
  }

  #wroteAll(): void {
    this.#progress.done();
    this.#reschedule();
  }

  /** Writes head and any body through a {@link Sink} (streams, files, large arrays). */
  #writeAny(
    conn: Connection,
    head: string,
    body: OneBody,
    size: number,
    exchange: Exchange,
  ): Promise<boolean> {
    const progress = this.#progress;
    let waitedSince = 0;
    const sink: Sink = {
      send: async (bytes) => {
        await conn.socket.write(bytes);
        progress.wrote(bytes.length);
      },
      get stopped() {
        return exchange.settled;
      },
      waiting: (on) => {
        const now = performance.now();
        progress.waiting(on, now);
        // Time spent waiting for the source does not count against the total either.
        if (on) waitedSince = now;
        else this.#extendTotal(now - waitedSince);
        this.#reschedule();
      },
    };
    return writeBody(sink, head, body, size, exchange).finally(() => this.#wroteAll());
  }

  /** One attempt: a connection, the request, the answer. */
  async attempt(
    pool: ConnectionPool,
    target: Target,
    body: OneBody,
    fresh: boolean,
  ): Promise<PostResult | typeof DROPPED> {
    const opts = this.#opts;
    const size = bodySize(body);
    const headLength = size >= 0 ? size : -1;
    const head = requestHead(target, opts.headers, headLength);
    if (typeof head !== "string") {
      await discard(body);
      return { ok: false, reason: head.invalid };
    }
    const small = size >= 0 && size <= SMALL_BODY_BYTES;
    this.#sized(size);
    const started = performance.now();
    this.#setPhase("connect", opts.connectTimeoutMs);
    let acquired: { conn: Connection; reused: boolean };
    try {
      if (this.why !== null) throw new Error(this.why);
      const idle = fresh ? null : pool.takeIdle(target);
      acquired = idle !== null
        ? { conn: idle, reused: true }
        : await pool.acquire(target, fresh, (abandon) => this.#abandon = abandon);
    } catch (error) {
      await discard(body);
      if (this.why !== null) return { ok: false, reason: this.why };
      if (error instanceof PoolClosedError) return { ok: false, reason: "Aborted" };
      if (error instanceof ConnectError) {
        return { ok: false, reason: error.message, refused: error.refused };
      }
      return { ok: false, reason: describe(error) };
    }
    const { conn, reused } = acquired;
    // As with fetch: a small body's answer must start within connect +
    // read-idle of the attempt's start; larger ones have only the total
    // timeout until the head arrives (their upload may take long).
    const headLimit = opts.connectTimeoutMs + opts.readIdleTimeoutMs;
    this.#setPhase(
      "connect",
      small && positive(headLimit) ? started + headLimit - performance.now() : Infinity,
    );
    const exchange = new Exchange(
      opts.maxResponseBytes,
      () => this.#setPhase("read", opts.readIdleTimeoutMs),
    );
    conn.handler = exchange;
    this.#abandon = () => conn.socket.close();
    if (this.why !== null) conn.socket.close();
    const progress = this.#progress;
    progress.start(performance.now(), size >= 0 ? head.length + size : -1);
    this.#reschedule();
    const written = body instanceof Uint8Array && body.length <= COALESCE_BYTES
      ? this.#writeSmall(conn, head, body, exchange)
      : this.#writeAny(conn, head, body, size, exchange);
    const result = await exchange.promise;
    this.#abandon = null;
    // Still writing once the answer is complete: the peer answered early (or
    // the last write has not reported yet); either way the connection goes.
    if (!exchange.writeDone) conn.socket.close();
    const fullyWritten = await written;
    const reusable = result.ok && result.state === "done" && exchange.parser.keepAlive &&
      fullyWritten;
    pool.release(conn, reusable);
    if (this.why !== null) return { ok: false, reason: this.why };
    if (pool.closed && !result.ok) return { ok: false, reason: "Aborted" };
    if (!result.ok) {
      if (!result.dropped) return { ok: false, reason: result.reason };
      this.dropReason = result.reason;
      // Only an unsent request may be retried twice: after the first retry every
      // connection is fresh.
      if (!fullyWritten || reused) return DROPPED;
      return { ok: false, reason: result.reason };
    }
    const status = exchange.parser.status;
    if (status >= 300 && status <= 399) {
      return { ok: false, reason: `Redirect not followed (status ${status})` };
    }
    return { ok: true, status, body: exchange.parser.body };
  }
}

type ExchangeResult =
  | { readonly ok: true; readonly state: "done" | "full" }
  | { readonly ok: false; readonly reason: string; readonly dropped: boolean };

/** The answer to one request on one connection. */
class Exchange implements SocketEvents {
  readonly parser: ResponseParser;
  readonly #onBodyChunk: () => void;
  readonly #result = Promise.withResolvers<ExchangeResult>();
  settled = false;
  /** The request writer has finished (all sent, stopped, or failed). */
  writeDone = false;

  constructor(cap: number, onBodyChunk: () => void) {
    this.parser = new ResponseParser(cap);
    this.#onBodyChunk = onBodyChunk;
  }

  get promise(): Promise<ExchangeResult> {
    return this.#result.promise;
  }

  data(chunk: Uint8Array): void {
    if (this.settled) return;
    let state;
    try {
      state = this.parser.feed(chunk);
    } catch (error) {
      this.#settle({ ok: false, reason: describe(error), dropped: false });
      return;
    }
    if (state !== "more") this.#settle({ ok: true, state });
    else if (this.parser.headDone) this.#onBodyChunk();
  }

  end(error: Error | null): void {
    if (this.settled) return;
    if (!this.parser.sawBytes) {
      this.#settle({ ok: false, reason: dropReason(error), dropped: true });
      return;
    }
    try {
      this.#settle({ ok: true, state: this.parser.end() });
    } catch (e) {
      this.#settle({ ok: false, reason: describe(e), dropped: false });
    }
  }

  /**
   * The request could not be written: the connection broke, or the body's source failed (a
   * message abandoned while it was delivered: never retried).
   */
  writeFailed(error: unknown): void {
    if (this.settled) return;
    if (error instanceof MessageAbandoned) {
      this.#settle({ ok: false, reason: error.message, dropped: false });
      return;
    }
    this.#settle({
      ok: false,
      reason: dropReason(error),
      // Only a connection that broke before any response counts as dropped.
      dropped: !this.parser.sawBytes,
    });
  }

  #settle(result: ExchangeResult): void {
    this.settled = true;
    this.#result.resolve(result);
  }
}

/** Writes head and body; resolves true once all is written, false if stopped early. */
async function writeBody(
  sink: Sink,
  head: string,
  body: OneBody,
  size: number,
  exchange: Exchange,
): Promise<boolean> {
  try {
    return await writeRequest(sink, head, body, size);
  } catch (error) {
    await discard(body);
    exchange.writeFailed(error);
    return false;
  } finally {
    exchange.writeDone = true;
  }
}

function positive(ms: number): boolean {
  return Number.isFinite(ms) && ms > 0;
}

function dropReason(error: unknown): string {
  return error === null || error === undefined
    ? "Connection closed before the response"
    : `Connection lost before the response: ${describe(error)}`;
}

function describe(error: unknown): string {
  if (error instanceof MalformedResponseError) return `Malformed response: ${error.message}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
