/**
 * A request's body as every route reads it: through a guard that cuts a
 * client which stops sending, or sends too slowly (408), and, where a route
 * buffers it, within the broadcaster's memory budget for request bodies
 * (503 with Retry-After when full) and the route's size limit (413).
 *
 * One per request ({@link RequestBody.of}); the handler calls
 * {@link settleBody} when the route has answered, which stops the guard,
 * returns the memory, turns the answer into 408 if the guard fired, and asks
 * the runtime to close the connection when the body was not read to its end
 * (rather than reading, and dropping, the rest of it).
 *
 * @module
 */

import type { Context } from "../core/context.ts";
import { ByobChunkReader, type ChunkReader } from "../intake/chunks.ts";
import { ParseError } from "../protocol/mod.ts";
import { badRequest, fail } from "./responses.ts";

/**
 * Where a request keeps its {@link RequestBody}: a symbol-keyed slot on the
 * request itself (a WeakMap entry per request cost the notify route ~3 µs,
 * most of it in the GC's ephemeron work).
 */
const BODY: unique symbol = Symbol("lonelypss.requestBody");

/**
 * Where a server that holds a request's whole body already (the Deno front,
 * for a body that came with its head) puts those bytes on the request. The
 * routes then read them from there, not through a stream made of them (3 µs
 * a request); `req.body` still gives them to anyone else.
 */
export const WHOLE_BODY: unique symbol = Symbol("lonelypss.wholeBody");
type WithBody = Request & { [BODY]?: RequestBody; [WHOLE_BODY]?: Uint8Array };

/** True when `req` has a body (without making a stream of a {@link WHOLE_BODY}). */
export function hasBody(req: Request): boolean {
  return (req as WithBody)[WHOLE_BODY] !== undefined || req.body !== null;
}

/** What a read returns at the end of the body. */
const END = { done: true } as ReadableStreamReadDoneResult<Uint8Array>;
/** An empty buffer, shared: what a settled body holds. */
const EMPTY = new Uint8Array(0);

/** Thrown by a read once the guard has cut the body. */
export class BodyTimeoutError extends Error {
  /** Names the limit that was not met. */
  constructor(message: string) {
    super(message);
    this.name = "BodyTimeoutError";
  }
}

/** A request body read under the broadcaster's limits. */
export class RequestBody implements ChunkReader {
  readonly #ctx: Context;
  readonly #stream: ReadableStream<Uint8Array> | null;
  /** A {@link WHOLE_BODY} not read yet (then there is no stream). */
  #whole: Uint8Array | null;
  readonly #declared: number | null;
  #reader:
    | Pick<ReadableStreamDefaultReader<Uint8Array>, "read" | "cancel" | "releaseLock">
    | null = null;
  /** No more reading (the end, a cancel, or the guard fired). */
  #ended: boolean;
  /** The end of the body was read. */
  #complete: boolean;
  #received = 0;
  // The guard: time spent waiting on the client, and bytes, in this window.
  readonly #windowMs: number;
  readonly #minPerWindow: number;
  #waitedMs = 0;
  #windowBytes = 0;
  #pendingSince = -1;
  /** The guard's ticker, from the first read to the end. */
  #ticker: GuardTicker | null = null;
  #rejectPending: ((error: Error) => void) | null = null;
  #timedOut: BodyTimeoutError | null = null;
  // The buffer of routes that read the body whole, and its budget reservation.
  #buf = EMPTY;
  #used = 0;
  #reserved = 0;

  private constructor(req: Request, ctx: Context) {
    this.#ctx = ctx;
    this.#whole = (req as WithBody)[WHOLE_BODY] ?? null;
    this.#stream = this.#whole === null ? req.body : null;
    this.#ended = this.#whole === null && this.#stream === null;
    this.#complete = this.#ended;
    this.#declared = declaredLength(req);
    this.#windowMs = ctx.limits.bodyIdleTimeoutMs;
    this.#minPerWindow = Math.max(
      1,
      Math.floor(ctx.limits.bodyMinBytesPerSecond * this.#windowMs / 1000),
    );
  }

  /** The body of `req` (the same object on every call for one request). */
  static of(req: Request, ctx: Context): RequestBody {
    return (req as WithBody)[BODY] ??= new RequestBody(req, ctx);
  }

  /** The Content-Length the client declared, if any. */
  get declared(): number | null {
    return this.#declared;
  }

  /** True once the guard cut the body. */
  get timedOut(): boolean {
    return this.#timedOut !== null;
  }

  /** True once the body was read to its end. */
  get complete(): boolean {
    return this.#complete;
  }

  /** The next chunk; rejects with {@link BodyTimeoutError} once the guard fires. */
  read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    if (this.#timedOut !== null) return Promise.reject(this.#timedOut);
    if (this.#ended) return Promise.resolve(END);
    if (this.#stream === null) return this.#readWhole();
    const reader = this.#reader ??= this.#stream.getReader();
    this.#pendingSince = performance.now();
    if (this.#ticker === null) {
      this.#ticker = GuardTicker.for(this.#windowMs);
      this.#ticker.add(this);
    }
    return new Promise((resolve, reject) => {
      this.#rejectPending = reject;
      reader.read().then((result) => {
        this.#stopWaiting();
        if (result.done) {
          this.#complete = true;
          this.#end();
        } else {
          this.#received += result.value.length;
          this.#windowBytes += result.value.length;
        }
        resolve(result);
      }, (error) => {
        this.#stopWaiting();
        reject(error);
      });
    });
  }

  /** A read of a {@link WHOLE_BODY}: the bytes, then the end (nothing to wait for, no guard). */
  #readWhole(): Promise<ReadableStreamReadResult<Uint8Array>> {
    const whole = this.#whole;
    if (whole === null) {
      this.#complete = true;
      this.#end();
      return Promise.resolve(END);
    }
    this.#whole = null;
    this.#received += whole.length;
    return Promise.resolve({ done: false, value: whole });
  }

  /**
   * From now on reads go into one reused buffer (a BYOB reader), where the
   * runtime's stream allows it: for a body copied out chunk by chunk (a
   * notify going to a spool file). A 1 GiB notify then costs no more memory
   * than a few buffers, instead of a new ArrayBuffer per chunk for the GC to
   * find (peak RSS 77 instead of 140 MiB).
   */
  reuseBuffers(): void {
    if (this.#ended || this.#stream === null || this.#pendingSince >= 0) return;
    try {
      this.#reader?.releaseLock();
    } catch {
      return;
    }
    const byob = ByobChunkReader.of(this.#stream);
    byob?.reuseBuffers();
    this.#reader = byob;
  }

  /** Stops reading (the runtime drops the rest). Idempotent; never rejects. */
  async cancel(): Promise<void> {
    this.#end();
    await this.#reader?.cancel().catch(() => {});
  }

  /**
   * {@link readAll} of a body the server already read whole (the Deno front's small requests):
   * the same bytes or answer, without an await; null when the body is not all here (then
   * {@link readAll} reads it).
   */
  wholeNow(max: number): Uint8Array | Response | null {
    const whole = this.#whole;
    const declared = this.#declared;
    if (
      whole === null || this.#used !== 0 || declared === null || declared === 0 ||
      whole.length !== declared || declared > max || this.#timedOut !== null
    ) return null;
    if (!this.#reserve(declared)) {
      void this.cancel();
      return busy();
    }
    this.#whole = null;
    this.#received += whole.length;
    this.#complete = true;
    this.#end();
    return whole;
  }

  /**
   * Reads the whole body into one buffer of at most `max` bytes (413 beyond,
   * refused at once when the declared length says so), reserved in the
   * memory budget (503 when it is full). The bytes stay valid until the
   * request is settled.
   */
  async readAll(max: number): Promise<Uint8Array | Response> {
    const declared = this.#declared ?? 0;
    if (this.#used === 0 && declared > 0 && declared <= max) {
      // The common case: the whole body in one chunk. Reserve it, read it,
      // and hand out the runtime's own buffer (no allocation, no copy).
      if (!this.#reserve(declared)) {
        void this.cancel();
        return busy();
      }
      const first = await this.#readChunk();
      if (first === null || first instanceof Response) return first ?? this.#buf.subarray(0, 0);
      if (first.length === declared) {
        const next = await this.#readChunk();
        if (next === null) return first;
        if (next instanceof Response) return next;
        // More than declared: the runtime would not allow it, but be exact.
        const grown = this.#append(first, max, true) ?? this.#append(next, max, true);
        if (grown !== null) return grown;
      } else {
        const grown = this.#append(first, max, true);
        if (grown !== null) return grown;
      }
    } else {
      const refused = this.#ensureCapacity(declared, max, true);
      if (refused !== null) return refused;
    }
    for (;;) {
      const chunk = await this.#readChunk();
      if (chunk instanceof Response) return chunk;
      if (chunk === null) return this.#buf.subarray(0, this.#used);
      const appended = this.#append(chunk, max, true);
      if (appended !== null) return appended;
    }
  }

  /**
   * Reads until `parse` accepts the bytes read so far (null: not enough
   * yet; {@link ParseError}: malformed, 400), holding at most `max` bytes.
   * The bytes stay in the buffer: a later {@link RequestBody.readAll} returns
   * them with the rest.
   */
  async readUntil<T>(parse: (bytes: Uint8Array) => T | null, max: number): Promise<T | Response> {
    if (this.#declared !== null && this.#declared > max) {
      await this.cancel();
      return tooLarge(max);
    }
    for (;;) {
      try {
        const parsed = parse(this.#buf.subarray(0, this.#used));
        if (parsed !== null) return parsed;
      } catch (error) {
        if (error instanceof ParseError) return badRequest(error.message);
        throw error;
      }
      const chunk = await this.#readChunk();
      if (chunk instanceof Response) return chunk;
      if (chunk === null) return badRequest("Truncated body");
      const appended = this.#append(chunk, max, false);
      if (appended !== null) return appended;
    }
  }

  /** @internal The handler's end of the request: see {@link settleBody}. */
  _settle(res: Response): Promise<Response> {
    this.#ctx.bodyMemory.release(this.#reserved);
    this.#reserved = 0;
    this.#buf = EMPTY;
    // A body read to its end (the usual case) has nothing left to stop: no await.
    if (this.#complete && this.#timedOut === null) return Promise.resolve(res);
    return this.#settleRest(res);
  }

  async #settleRest(res: Response): Promise<Response> {
    // Lets go of the runtime's body stream: the rest is never read.
    if (!this.#complete) await this.cancel();
    if (this.#timedOut !== null) return bodyTimeout(this.#timedOut.message);
    if (!this.#complete && this.#declared !== 0) markClose(res);
    return res;
  }

  /** A chunk, null at the end, or the response a failed read calls for. */
  async #readChunk(): Promise<Uint8Array | null | Response> {
    try {
      const next = await this.read();
      return next.done ? null : next.value;
    } catch {
      if (this.#timedOut !== null) return bodyTimeout(this.#timedOut.message);
      return badRequest("Request body could not be read (the client went away?)");
    }
  }

  /** Appends to the buffer; a response when that would pass `max` or the budget. */
  #append(chunk: Uint8Array, max: number, whole: boolean): Response | null {
    const refused = this.#ensureCapacity(this.#used + chunk.length, max, whole);
    if (refused !== null) return refused;
    this.#buf.set(chunk, this.#used);
    this.#used += chunk.length;
    return null;
  }

  /**
   * Grows the buffer to hold `needed` bytes, within `max` and the budget:
   * to the declared length at once when the whole body is wanted, else
   * doubling (so a prefix read before authorization holds little).
   */
  #ensureCapacity(needed: number, max: number, whole: boolean): Response | null {
    if (needed > max) {
      void this.cancel();
      return tooLarge(max);
    }
    if (needed <= this.#buf.length) return null;
    const declared = this.#declared;
    const size = whole && declared !== null && declared >= needed && declared <= max
      ? declared
      : Math.min(max, Math.max(needed, this.#buf.length * 2, 4096));
    if (!this.#reserve(size)) {
      void this.cancel();
      return busy();
    }
    const grown = new Uint8Array(size);
    grown.set(this.#buf.subarray(0, this.#used));
    this.#buf = grown;
    return null;
  }

  /** Holds `size` bytes in the memory budget in all (false: the budget is full). */
  #reserve(size: number): boolean {
    const more = size - this.#reserved;
    if (more <= 0) return true;
    if (!this.#ctx.bodyMemory.tryReserve(more)) return false;
    this.#reserved += more;
    return true;
  }

  /**
   * The guard, called by its ticker: judges each window of waiting on the
   * client. False once the body needs no more watching.
   */
  _check(now: number): boolean {
    if (this.#ended) return false;
    const pending = this.#pendingSince >= 0;
    const waited = this.#waitedMs + (pending ? now - this.#pendingSince : 0);
    if (waited < this.#windowMs) return true;
    const remaining = this.#declared === null ? Infinity : this.#declared - this.#received;
    if (this.#windowBytes >= Math.min(this.#minPerWindow, remaining)) {
      // Enough came: a new window starts now.
      this.#waitedMs = 0;
      this.#windowBytes = 0;
      if (pending) this.#pendingSince = now;
      return true;
    }
    const { bodyIdleTimeoutMs, bodyMinBytesPerSecond } = this.#ctx.limits;
    this.#timedOut = new BodyTimeoutError(
      `Request body too slow: under ${bodyMinBytesPerSecond} bytes/s over ${bodyIdleTimeoutMs} ms`,
    );
    this.#rejectPending?.(this.#timedOut);
    this.#rejectPending = null;
    void this.cancel();
    return false;
  }

  #stopWaiting(): void {
    if (this.#pendingSince >= 0) this.#waitedMs += performance.now() - this.#pendingSince;
    this.#pendingSince = -1;
    this.#rejectPending = null;
  }

  #end(): void {
    this.#ended = true;
    this.#ticker?.remove(this);
  }
}

/**
 * Stops the body guards' timers that have nothing to watch (a broadcaster's
 * close calls it once its requests are done, so no timer outlives it).
 */
export function stopIdleBodyGuards(): void {
  GuardTicker.stopIdle();
}

/**
 * One timer for every body guarded with the same window, instead of a timer
 * per read (Deno's timers cost ~4 µs per notify, set and cleared): it ticks
 * every quarter window while bodies are being read, so a guard fires at most
 * a quarter window late. It stops at a tick that finds nothing to watch (not
 * as soon as the last body ends: under load that would start a new timer for
 * almost every request), or when {@link stopIdleBodyGuards} is called.
 */
class GuardTicker {
  static readonly #byWindow = new Map<number, GuardTicker>();
  readonly #bodies = new Set<RequestBody>();
  readonly #periodMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;

  private constructor(windowMs: number) {
    this.#periodMs = Math.max(1, Math.min(1_000, Math.ceil(windowMs / 4)));
  }

  static for(windowMs: number): GuardTicker {
    let ticker = GuardTicker.#byWindow.get(windowMs);
    if (ticker === undefined) {
      ticker = new GuardTicker(windowMs);
      GuardTicker.#byWindow.set(windowMs, ticker);
    }
    return ticker;
  }

  add(body: RequestBody): void {
    this.#bodies.add(body);
    this.#timer ??= setInterval(() => this.#tick(), this.#periodMs);
  }

  /** Stops watching `body`. */
  remove(body: RequestBody): void {
    this.#bodies.delete(body);
  }

  static stopIdle(): void {
    for (const ticker of GuardTicker.#byWindow.values()) {
      if (ticker.#bodies.size === 0) ticker.#stop();
    }
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    const now = performance.now();
    for (const body of this.#bodies) {
      if (!body._check(now)) this.#bodies.delete(body);
    }
    if (this.#bodies.size === 0) this.#stop();
  }
}

/**
 * The end of a request, called by the handler with the route's answer:
 * stops the body's guard and returns its memory. Answers 408 if the guard
 * cut the body, and marks the answer `connection: close` when the body was
 * not read to its end.
 */
export function settleBody(req: Request, res: Response): Promise<Response> {
  const body = (req as WithBody)[BODY];
  if (body !== undefined) return body._settle(res);
  // No route read it: unless it is empty, close rather than drain it.
  if (hasBody(req) && declaredLength(req) !== 0) markClose(res);
  return Promise.resolve(res);
}

/**
 * 401 before reading anything when `strategy` requires authorization and
 * the request carries no `Authorization` header (every strategy but `none`
 * would answer 401 after reading the body anyway); null otherwise.
 */
export function missingAuthorization(
  req: Request,
  strategy: { readonly kind: string },
  answer: () => Response = () => fail(401, "Authorization required"),
): Response | null {
  if (strategy.kind === "none" || req.headers.has("authorization")) return null;
  return answer();
}

function declaredLength(req: Request): number | null {
  const text = req.headers.get("content-length");
  if (text === null || !/^\d+$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

/** Asks the runtime to close the connection after this answer. */
function markClose(res: Response): void {
  try {
    res.headers.set("connection", "close");
  } catch {
    // Immutable headers (a response from fetch): leave it.
  }
}

function tooLarge(max: number): Response {
  return fail(413, `Request body larger than the limit of ${max} bytes`);
}

function busy(): Response {
  return fail(503, "Too many request bodies in memory; retry shortly", { "retry-after": "1" });
}

function bodyTimeout(reason: string): Response {
  return fail(408, reason, { connection: "close" });
}
