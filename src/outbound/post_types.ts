/**
 * The contract of one outgoing POST (RECEIVE or MISSED), shared by the two
 * clients that implement it: `fetch` (`http_client.ts`) and our own
 * HTTP/1.1 client (`http1/`).
 *
 * @module
 */

import type { OutgoingBody } from "../core/message.ts";
import type { OutboundGuard } from "../core/outbound.ts";

/**
 * Bodies at most this large must see the answer start within connect +
 * read-idle of the attempt's start (they go out in one burst).
 */
export const SMALL_BODY_BYTES = 1024 * 1024;

/** What {@link postBytes} needs besides the url. */
export interface PostOptions {
  /** Request headers (Content-Length comes from the body). */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * The request body: a Blob (Content-Length) or a stream (chunked), or a
   * factory making a fresh one per attempt (which allows the one retry).
   */
  readonly body: OutgoingBody | (() => OutgoingBody);
  /**
   * Limit on the whole exchange for an empty body, ms; a body of N bytes
   * adds N / `writeMinBytesPerSecond` seconds.
   */
  readonly totalTimeoutMs: number;
  /**
   * While the body is written, each stretch this long, ms, must bring
   * `writeMinBytesPerSecond` on average (or the rest of the body). Absent: no
   * rate rule. Fetch applies it to stream bodies only (it takes the others whole).
   */
  readonly writeIdleTimeoutMs?: number;
  /** Slowest upload accepted, bytes/s; absent or 0: no rate rule and no size allowance. */
  readonly writeMinBytesPerSecond?: number;
  /** Connect limit, ms (fetch cannot see its connect phase: see `http_client.ts`). */
  readonly connectTimeoutMs: number;
  /** Longest silence while reading the response, ms. */
  readonly readIdleTimeoutMs: number;
  /**
   * Response bytes kept; the rest is discarded unread. Parsers of the
   * responses we read ignore trailing bytes, so any cap at least as large as
   * the longest well-formed response changes no outcome.
   */
  readonly maxResponseBytes: number;
  /** Aborts the request from outside (shutdown). */
  readonly signal?: AbortSignal;
  /** The SSRF guard: checks (and pins) the destination before anything is sent. */
  readonly guard?: OutboundGuard;
}

/** The outcome of one POST. */
export type PostResult =
  | { readonly ok: true; readonly status: number; readonly body: Uint8Array }
  | {
    readonly ok: false;
    readonly reason: string;
    /** Nothing listened at the address (no byte of the request was delivered). */
    readonly refused?: boolean;
  };
