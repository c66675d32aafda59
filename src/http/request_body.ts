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
import { ByobChunkReader, type ChunkReader } from "../delivery/chunks.ts";
import { ParseError } from "../protocol/bytes.ts";
import { badRequest, fail } from "./responses.ts";

const BODIES = new WeakMap<Request, RequestBody>();

/** What a read returns at the end of the body. */
const END = { done: true } as ReadableStreamReadDoneResult<Uint8Array>;

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
  #timer: ReturnType<typeof setTimeout> | undefined;
  #rejectPending: ((error: Error) => void) | null = null;
  #timedOut: BodyTimeoutError | null = null;
  // The buffer of routes that read the body whole, and its budget reservation.
  #buf = new Uint8Array(0);
  #used = 0;
  #reserved = 0;

  private constructor(req: Request, ctx: Context) {
    this.#ctx = ctx;
    this.#stream = req.body;
    this.#ended = req.body === null;
    this.#complete = req.body === null;
    this.#declared = declaredLength(req);
    this.#windowMs = ctx.limits.bodyIdleTimeoutMs;
    this.#minPerWindow = Math.max(
      1,
      Math.floor(ctx.limits.bodyMinBytesPerSecond * this.#windowMs / 1000),
    );
  }

  /** The body of `req` (the same object on every call for one request). */
  static of(req: Request, ctx: Context): RequestBody {
    let body = BODIES.get(req);
    if (body === undefined) {
      body = new RequestBody(req, ctx);
      BODIES.set(req, body);
    }
    return body;
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
    if (this.#ended || this.#stream === null) return Promise.resolve(END);
    const reader = this.#reader ??= this.#stream.getReader();
    this.#pendingSince = performance.now();
    this.#timer ??= setTimeout(() => this.#check(), this.#windowMs - this.#waitedMs);
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
   * Reads the whole body into one buffer of at most `max` bytes (413 beyond,
   * refused at once when the declared length says so), reserved in the
   * memory budget (503 when it is full). The bytes stay valid until the
   * request is settled.
   */
  async readAll(max: number): Promise<Uint8Array | Response> {
    const refused = this.#ensureCapacity(this.#declared ?? 0, max, true);
    if (refused !== null) return refused;
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
  async _settle(res: Response): Promise<Response> {
    this.#ctx.bodyMemory.release(this.#reserved);
    this.#reserved = 0;
    this.#buf = new Uint8Array(0);
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
    const more = size - this.#reserved;
    if (more > 0) {
      if (!this.#ctx.bodyMemory.tryReserve(more)) {
        void this.cancel();
        return busy();
      }
      this.#reserved += more;
    }
    const grown = new Uint8Array(size);
    grown.set(this.#buf.subarray(0, this.#used));
    this.#buf = grown;
    return null;
  }

  /** The guard's timer: judges each window of waiting on the client. */
  #check(): void {
    this.#timer = undefined;
    if (this.#ended) return;
    const pending = this.#pendingSince >= 0;
    const now = performance.now();
    const waited = this.#waitedMs + (pending ? now - this.#pendingSince : 0);
    if (waited < this.#windowMs) {
      if (pending) this.#timer = setTimeout(() => this.#check(), this.#windowMs - waited);
      return;
    }
    const remaining = this.#declared === null ? Infinity : this.#declared - this.#received;
    if (this.#windowBytes >= Math.min(this.#minPerWindow, remaining)) {
      // Enough came: a new window starts now.
      this.#waitedMs = 0;
      this.#windowBytes = 0;
      if (pending) {
        this.#pendingSince = now;
        this.#timer = setTimeout(() => this.#check(), this.#windowMs);
      }
      return;
    }
    const { bodyIdleTimeoutMs, bodyMinBytesPerSecond } = this.#ctx.limits;
    this.#timedOut = new BodyTimeoutError(
      `Request body too slow: under ${bodyMinBytesPerSecond} bytes/s over ${bodyIdleTimeoutMs} ms`,
    );
    this.#rejectPending?.(this.#timedOut);
    this.#rejectPending = null;
    void this.cancel();
  }

  #stopWaiting(): void {
    if (this.#pendingSince >= 0) this.#waitedMs += performance.now() - this.#pendingSince;
    this.#pendingSince = -1;
    this.#rejectPending = null;
  }

  #end(): void {
    this.#ended = true;
    this.#stopGuard();
  }

  #stopGuard(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * The end of a request, called by the handler with the route's answer:
 * stops the body's guard and returns its memory. Answers 408 if the guard
 * cut the body, and marks the answer `connection: close` when the body was
 * not read to its end.
 */
export async function settleBody(req: Request, res: Response): Promise<Response> {
  const body = BODIES.get(req);
  if (body !== undefined) return await body._settle(res);
  // No route read it: unless it is empty, close rather than drain it.
  if (req.body !== null && declaredLength(req) !== 0) markClose(res);
  return res;
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
