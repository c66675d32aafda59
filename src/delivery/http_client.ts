/**
 * One outgoing POST (RECEIVE or MISSED) with the four timeouts of config
 * chapter §2.2 built from timers and one AbortController, and a capped
 * response read. It never throws: every failure is a value.
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
 * A pooled keep-alive connection can be closed by the peer just as we reuse it
 * (uvicorn drops idle connections after 5 s; the request then dies with a
 * broken pipe before any response). When the body can be produced again (a
 * Blob, or a factory) such a failure is retried once on a fresh connection,
 * with the same bytes: a subscriber that did get the first attempt sees the
 * same identifier and authorization, which its hmac replay store refuses.
 * Timeouts and aborts are never retried.
 *
 * @module
 */

import { postThroughHeldClient } from "./http1/mod.ts";
import { type PostOptions, type PostResult, SMALL_BODY_BYTES } from "./post_types.ts";

export { type PostOptions, type PostResult, SMALL_BODY_BYTES } from "./post_types.ts";

/**
 * POSTs `body` to `url` and reads at most `maxResponseBytes` of the answer:
 * through our own HTTP/1.1 client while a broadcaster holds it
 * (`http1/mod.ts`), else with `fetch`.
 */
export function postBytes(url: string, opts: PostOptions): Promise<PostResult> {
  return postThroughHeldClient(url, opts) ?? postWithFetch(url, opts);
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
  const controller = new AbortController();
  let why: string | null = null;
  const stop = (reason: string) => {
    why ??= reason;
    controller.abort(new Error(reason));
  };
  const onOuterAbort = () => stop("Aborted");
  if (opts.signal?.aborted) return { ok: false, reason: "Aborted" };
  opts.signal?.addEventListener("abort", onOuterAbort, { once: true });
  const total = arm(opts.totalTimeoutMs, () => stop("Total timeout"));
  let idle: Timer | undefined;
  const resetIdle = () => {
    clearTimeout(idle);
    idle = arm(opts.readIdleTimeoutMs, () => stop("Read timeout"));
  };
  const given = opts.body;
  const makeBody = typeof given === "function" ? given : () => given;
  const retryable = !(given instanceof ReadableStream);
  let headersDeadline: Timer | undefined;
  try {
    for (let attempt = 0;; attempt++) {
      const body = makeBody();
      const size = body instanceof Blob ? body.size : body instanceof Uint8Array ? body.length : -1;
      const small = size >= 0 && size <= SMALL_BODY_BYTES;
      clearTimeout(headersDeadline);
      headersDeadline = small
        ? arm(opts.connectTimeoutMs + opts.readIdleTimeoutMs, () => stop("Connect timeout"))
        : undefined;
      let res: Response;
      try {
        res = await fetch(parsed, {
          method: "POST",
          headers: opts.headers,
          body: body as BodyInit,
          signal: controller.signal,
          // Required by Node's fetch for stream bodies; ignored for Blobs.
          duplex: "half",
        } as RequestInit);
      } catch (error) {
        if (why !== null || !retryable || attempt > 0) throw error;
        if (body instanceof ReadableStream) await body.cancel().catch(() => {});
        continue;
      }
      clearTimeout(headersDeadline);
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
    opts.signal?.removeEventListener("abort", onOuterAbort);
  }
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

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // fetch's "fetch failed" hides the useful part (e.g. "Broken pipe") in `cause`.
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
  return `${error.name}: ${error.message}${cause}`;
}
