/**
 * One outgoing POST (RECEIVE or MISSED) with the outgoing timeouts
 * (docs/operating.md#outgoing-requests) built from timers and one AbortController, and a capped
 * response read. It never throws: every failure is a value. The total limit
 * is `totalTimeoutMs` plus the body's size at `writeMinBytesPerSecond`; the
 * write-rate rule itself needs to see the upload, which fetch hides, so only
 * our own client (`http1/`) applies it.
 *
 * `fetch` exposes no connect phase, so the connect timeout is approximated:
 * for Blob bodies up to {@link SMALL_BODY_BYTES} (which go out in one burst) the
 * response headers must arrive within `connectTimeoutMs + readIdleTimeoutMs`
 * (connect, then the same silence allowed while reading). Larger bodies may
 * take long to upload, so until their headers arrive only the total timeout
 * applies (streams count as large). After the headers, every body chunk must follow the previous one
 * within `readIdleTimeoutMs`. A limit that is not a positive finite number is
 * "no limit".
 *
 * Redirects are never followed (docs/decisions.md#redirects-and-callback-urls):
 * following them would re-POST a signed body, or turn it into a GET, wherever
 * the subscriber points, and a loop costs dozens of requests. A 3xx answer is a failed delivery.
 *
 * The retry rule: a pooled keep-alive connection can be closed by the peer
 * just as we reuse it (uvicorn drops idle connections after 5 s; the request
 * then dies with "connection closed before message completed", a reset or a
 * broken pipe, before any response). Only a failure of that kind is retried,
 * once, on a fresh connection, and only when the body can be produced again
 * (a Blob, or a factory), with the same bytes: a subscriber that did get the
 * first attempt sees the same identifier and authorization, which its hmac
 * replay store refuses. Everything else fails at once: refused connections,
 * name resolution and TLS failures, malformed responses, timeouts, aborts.
 *
 * @module
 */

import type { OutboundGuard, OutboundRoute } from "../core/outbound.ts";
import { postThroughHeldClient, sizeAllowanceMs, WriteProgress } from "./http1/mod.ts";
import { FileStream } from "../core/spool.ts";
import type { OutgoingBody } from "../core/message.ts";
import { type PostOptions, type PostResult, SMALL_BODY_BYTES } from "./post_types.ts";

export { type PostOptions, type PostResult, SMALL_BODY_BYTES } from "./post_types.ts";

/**
 * POSTs `body` to `url` and reads at most `maxResponseBytes` of the answer:
 * through our own HTTP/1.1 client while a broadcaster holds it
 * (`http1/mod.ts`), else, and always with the SSRF guard on (its connections
 * are pinned to the checked address through fetch), with `fetch`.
 */
export function postBytes(url: string, opts: PostOptions): Promise<PostResult> {
  return (opts.guard === undefined ? postThroughHeldClient(url, opts) : null) ??
    postWithFetch(url, opts);
}

/** {@link postBytes} with `fetch`. */
async function postWithFetch(url: string, opts: PostOptions): Promise<PostResult> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: "Invalid URL" };
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return { ok: false, reason: `Unsupported URL scheme: ${parsed.protocol}` };
  }
  const route = opts.guard === undefined ? undefined : await guarded(opts.guard, parsed, opts);
  if (route !== undefined && !route.ok) return { ok: false, reason: route.reason };
  try {
    return await exchange(parsed, opts, route?.pinned?.fetch ?? fetch);
  } finally {
    route?.pinned?.close();
  }
}

type Fetch = (url: URL, init: RequestInit) => Promise<Response>;

/** The guard's verdict, its name look-up bounded by the connect timeout. */
async function guarded(guard: OutboundGuard, url: URL, opts: PostOptions): Promise<OutboundRoute> {
  const timedOut: OutboundRoute = { ok: false, reason: "Connect timeout" };
  let timer: Timer | undefined;
  const late = new Promise<OutboundRoute>((resolve) => {
    timer = arm(opts.connectTimeoutMs, () => resolve(timedOut));
  });
  const route = guard.route(url);
  try {
    const verdict = await Promise.race([route, late]);
    // A late verdict may still carry a pinned client: release it when it comes.
    if (verdict === timedOut) void route.then((r) => r.ok && r.pinned?.close());
    return verdict;
  } finally {
    clearTimeout(timer);
  }
}

async function exchange(parsed: URL, opts: PostOptions, fetch: Fetch): Promise<PostResult> {
  const controller = new AbortController();
  let why: string | null = null;
  const stop = (reason: string) => {
    why ??= reason;
    controller.abort(new Error(reason));
  };
  const onOuterAbort = () => stop("Aborted");
  if (opts.signal?.aborted) return { ok: false, reason: "Aborted" };
  opts.signal?.addEventListener("abort", onOuterAbort, { once: true });
  let total: Timer | undefined;
  let idle: Timer | undefined;
  const resetIdle = () => {
    clearTimeout(idle);
    idle = arm(opts.readIdleTimeoutMs, () => stop("Read timeout"));
  };
  const given = opts.body;
  const makeBody = typeof given === "function" ? given : () => given;
  const retryable = !(given instanceof ReadableStream);
  let headersDeadline: Timer | undefined;
  let upload: WatchedUpload | null = null;
  try {
    for (let attempt = 0;; attempt++) {
      const body = makeBody();
      const size = body instanceof Blob ? body.size : body instanceof Uint8Array ? body.length : -1;
      if (attempt === 0) {
        // The total grows with the body's size, as in our own client.
        const allowance = sizeAllowanceMs(known(body), opts.writeMinBytesPerSecond ?? 0);
        if (opts.totalTimeoutMs > 0) {
          total = arm(opts.totalTimeoutMs + allowance, () => stop("Total timeout"));
        }
      }
      const small = size >= 0 && size <= SMALL_BODY_BYTES;
      clearTimeout(headersDeadline);
      headersDeadline = small
        ? arm(opts.connectTimeoutMs + opts.readIdleTimeoutMs, () => stop("Connect timeout"))
        : undefined;
      upload?.close();
      upload = body instanceof ReadableStream ? watchUpload(body, known(body), opts, stop) : null;
      let res: Response;
      try {
        res = await fetch(parsed, {
          method: "POST",
          headers: opts.headers,
          body: (upload?.body ?? body) as BodyInit,
          signal: controller.signal,
          redirect: "manual",
          // Required by Node's fetch for stream bodies; ignored for Blobs.
          duplex: "half",
        } as RequestInit);
      } catch (error) {
        if (why !== null || !retryable || attempt > 0 || !isDroppedConnection(error)) throw error;
        if (body instanceof ReadableStream) await body.cancel().catch(() => {});
        continue;
      }
      clearTimeout(headersDeadline);
      upload?.close();
      if (res.status >= 300 && res.status <= 399) {
        await res.body?.cancel().catch(() => {});
        return { ok: false, reason: `Redirect not followed (status ${res.status})` };
      }
      resetIdle();
      const answer = await readCapped(res, opts.maxResponseBytes, resetIdle);
      return { ok: true, status: res.status, body: answer };
    }
  } catch (error) {
    if (why !== null) return { ok: false, reason: why };
    return { ok: false, reason: describe(error), refused: isRefused(error) };
  } finally {
    clearTimeout(total);
    clearTimeout(headersDeadline);
    clearTimeout(idle);
    upload?.close();
    opts.signal?.removeEventListener("abort", onOuterAbort);
  }
}

/** The size of a body when known, else -1. */
function known(body: OutgoingBody): number {
  if (body instanceof Blob) return body.size;
  if (body instanceof Uint8Array) return body.length;
  if (body instanceof FileStream && body.fileBytes >= 0) return body.prefix.length + body.fileBytes;
  return -1;
}

/** A stream body counted as fetch pulls it, for the write-rate rule. */
interface WatchedUpload {
  /** What fetch sends. */
  readonly body: ReadableStream<Uint8Array>;
  /** Stops watching (the answer came, or the attempt ended). */
  close(): void;
}

/**
 * Applies the write-rate rule of `http1/progress.ts` to a stream body: fetch
 * pulls it as it writes (back-pressure), so the bytes pulled follow the
 * upload within a chunk or two. Blobs and byte arrays fetch takes whole:
 * only the total's size allowance bounds them.
 */
function watchUpload(
  stream: ReadableStream<Uint8Array>,
  size: number,
  opts: PostOptions,
  stop: (reason: string) => void,
): WatchedUpload | null {
  const progress = new WriteProgress(
    opts.writeIdleTimeoutMs ?? Infinity,
    opts.writeMinBytesPerSecond ?? 0,
  );
  progress.start(performance.now(), size);
  if (progress.deadline === Infinity) return null;
  let timer: Timer | undefined;
  const check = () => {
    if (!progress.check(performance.now())) return stop("Write timeout");
    timer = setTimeout(check, Math.max(0, progress.deadline - performance.now()));
  };
  timer = setTimeout(check, Math.max(0, progress.deadline - performance.now()));
  const close = () => {
    progress.done();
    clearTimeout(timer);
  };
  const body = stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        progress.wrote(chunk.length);
        controller.enqueue(chunk);
      },
      flush: close,
    }),
  );
  return { body, close };
}

type Timer = ReturnType<typeof setTimeout>;

function arm(ms: number, fire: () => void): Timer | undefined {
  return Number.isFinite(ms) && ms > 0 ? setTimeout(fire, ms) : undefined;
}

async function readCapped(res: Response, cap: number, onChunk: () => void): Promise<Uint8Array> {
  if (res.body === null) return new Uint8Array(0);
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (declared <= cap) {
    // The usual case: a short answer of known size, read in one go. The
    // read-idle timer armed before this call bounds the whole read.
    return new Uint8Array(await res.arrayBuffer());
  }
  const reader = res.body.getReader();
  let out = new Uint8Array(Math.min(cap, 1024));
  let used = 0;
  let done = false;
  try {
    while (used < cap) {
      const next = await reader.read();
      if (next.done) {
        done = true;
        break;
      }
      onChunk();
      const take = Math.min(next.value.length, cap - used);
      if (used + take > out.length) {
        const grown = new Uint8Array(Math.min(cap, Math.max(out.length * 2, used + take)));
        grown.set(out.subarray(0, used));
        out = grown;
      }
      out.set(next.value.subarray(0, take), used);
      used += take;
    }
    return out.subarray(0, used);
  } finally {
    // Discards whatever is left beyond the cap (or releases the connection on error).
    if (!done) await reader.cancel().catch(() => {});
  }
}

/** Whether a fetch failure was a refused connection, whatever the runtime calls it. */
function isRefused(error: unknown): boolean {
  const parts: unknown[] = [error];
  if (error instanceof Error) parts.push(error.cause);
  return parts.some((e) => {
    if (typeof e !== "object" || e === null) return false;
    const { code, message } = e as { code?: unknown; message?: unknown };
    return code === "ECONNREFUSED" || code === "ConnectionRefused" ||
      (typeof message === "string" && /connection refused|ECONNREFUSED/i.test(message));
  });
}

// What a connection closed under us looks like in Deno (hyper), Node (undici)
// and Bun; a refused connect, a resolver or TLS failure, or a malformed
// response says something else and is not retried.
const DROPPED =
  /connection closed before message completed|connection reset|broken pipe|ECONNRESET|EPIPE|socket hang up|other side closed|UND_ERR_SOCKET|socket connection was closed unexpectedly/i;

/** Whether a fetch failure is a connection dropped by the peer before any response. */
export function isDroppedConnection(error: unknown): boolean {
  if (isRefused(error)) return false;
  const parts: unknown[] = [error];
  if (error instanceof Error) parts.push(error.cause);
  return parts.some((e) => {
    if (typeof e !== "object" || e === null) return false;
    const { code, message } = e as { code?: unknown; message?: unknown };
    return (typeof code === "string" && DROPPED.test(code)) ||
      (typeof message === "string" && DROPPED.test(message));
  });
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // fetch's "fetch failed" hides the useful part (e.g. "Broken pipe") in `cause`.
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
  return `${error.name}: ${error.message}${cause}`;
}
