/**
 * One request to the broadcasters, moving on to the next one where that is
 * safe: when the connection failed or the broadcaster answered 502, 503 or
 * 504 (the request was not processed, or processing it again does no harm).
 *
 * @module
 */

import { abortError, ClientError } from "../errors.ts";

/** Default per-request timeout. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/** How to post. */
export interface PostOptions {
  /** Body (opened again for each attempt). */
  readonly body: () => Uint8Array | ReadableStream<Uint8Array>;
  /** Whether the body can be sent again (false: only one attempt). */
  readonly replayable: boolean;
  /** The Authorization header per attempt (hmac signs a fresh nonce each time). */
  readonly authorization: () => Promise<string | null>;
  /** Gives up after this long without a whole answer. */
  readonly timeoutMs: number;
  /** Caller's abort. */
  readonly signal?: AbortSignal | undefined;
}

/** Rotates the first broadcaster tried, so load spreads and a dead one is skipped. */
export class Broadcasters {
  readonly #urls: readonly string[];
  #start = 0;

  /** Over `urls`. */
  constructor(urls: readonly string[]) {
    this.#urls = urls;
  }

  /** The order to try for the next request. */
  order(): string[] {
    const n = this.#urls.length;
    return Array.from({ length: n }, (_, i) => this.#urls[(this.#start + i) % n]!);
  }

  /** The last one failed: start with the next one from now on. */
  skip(url: string): void {
    const i = this.#urls.indexOf(url);
    if (i >= 0) this.#start = (i + 1) % this.#urls.length;
  }
}

/**
 * POSTs to `path` on each broadcaster in turn until one answers other than
 * 502/503/504; resolves to its status and body.
 *
 * @throws {ClientError} `"unavailable"` when none answered, `"aborted"` on the signal
 */
export async function postToAny(
  broadcasters: Broadcasters,
  path: string,
  o: PostOptions,
): Promise<{ status: number; body: Uint8Array; base: string }> {
  let last: unknown = null;
  for (const base of broadcasters.order()) {
    if (o.signal?.aborted) throw abortError(o.signal);
    const controller = new AbortController();
    const onAbort = () => controller.abort(o.signal?.reason);
    o.signal?.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(() => controller.abort(new Error("timeout")), o.timeoutMs);
    try {
      const authorization = await o.authorization();
      const headers: Record<string, string> = { "content-type": "application/octet-stream" };
      if (authorization !== null) headers["authorization"] = authorization;
      const res = await fetch(base + path, {
        method: "POST",
        headers,
        body: o.body() as BodyInit,
        signal: controller.signal,
        duplex: "half",
      } as RequestInit);
      const body = new Uint8Array(await res.arrayBuffer());
      if (res.status === 502 || res.status === 503 || res.status === 504) {
        last = new Error(`${base} answered ${res.status}`);
        broadcasters.skip(base);
        if (!o.replayable) break;
        continue;
      }
      return { status: res.status, body, base };
    } catch (e) {
      if (o.signal?.aborted) throw abortError(o.signal);
      if (e instanceof ClientError) throw e;
      last = e;
      broadcasters.skip(base);
      if (!o.replayable) break;
    } finally {
      clearTimeout(timer);
      o.signal?.removeEventListener("abort", onAbort);
    }
  }
  throw new ClientError("unavailable", `No broadcaster answered ${path}: ${describe(last)}`, {
    cause: last,
  });
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Maps a refusal to a typed error (null for 200). */
export function statusError(path: string, status: number, body: Uint8Array): ClientError | null {
  if (status === 200) return null;
  const text = new TextDecoder().decode(body.subarray(0, 200));
  const detail = `${path} answered ${status}${text ? `: ${text}` : ""}`;
  if (status === 401 || status === 403) return new ClientError("unauthorized", detail);
  if (status === 400 || status === 413) return new ClientError("invalid", detail);
  return new ClientError("protocol", detail);
}
