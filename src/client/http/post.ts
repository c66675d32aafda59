/**
 * One request to the broadcasters, moving on to the next one where that is
 * safe: when the connection failed or the broadcaster answered 502, 503 or
 * 504 (the request was not processed, or processing it again does no harm).
 *
 * @module
 */

import { postBytes } from "../../outbound/http_client.ts";
import { abortError, ClientError } from "../errors.ts";

/** Response bytes kept (the longest well-formed answer is far shorter). */
const MAX_RESPONSE_BYTES = 1024 * 1024;

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
    const authorization = await o.authorization();
    const headers: Record<string, string> = { "content-type": "application/octet-stream" };
    if (authorization !== null) headers["authorization"] = authorization;
    // The repository's HTTP/1.1 client (keep-alive pool) while the client holds it, else fetch.
    const r = await postBytes(base + path, {
      headers,
      body: o.body,
      totalTimeoutMs: o.timeoutMs,
      connectTimeoutMs: Math.min(10_000, o.timeoutMs),
      readIdleTimeoutMs: o.timeoutMs,
      maxResponseBytes: MAX_RESPONSE_BYTES,
      ...(o.signal === undefined ? {} : { signal: o.signal }),
    });
    if (o.signal?.aborted) throw abortError(o.signal);
    if (r.ok && r.status !== 502 && r.status !== 503 && r.status !== 504) {
      return { status: r.status, body: r.body, base };
    }
    last = new Error(r.ok ? `${base} answered ${r.status}` : `${base}: ${r.reason}`);
    broadcasters.skip(base);
    if (!o.replayable) break;
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
