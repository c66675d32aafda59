/**
 * One raw HTTP/1.x exchange over a loopback TCP connection, for tests of
 * malformed or early-answered requests and for the fuzzer (`bench/fuzz.ts`):
 * writes the request bytes in pieces while reading whatever the server
 * answers (or only afterwards), and reports each complete response, whether
 * every byte could be sent, and how the connection ended.
 *
 * @module
 */

import { concat } from "./compression/_bytes.ts";

/** How one exchange ended. */
export interface Exchange {
  /** Status of each complete response, in order. */
  readonly statuses: number[];
  /** Each complete response's body, as text. */
  readonly bodies: string[];
  /** The server reset the connection (ECONNRESET on read). */
  readonly reset: boolean;
  /** Nothing ended the exchange within the time allowed. */
  readonly hung: boolean;
  /** Every request byte was written. */
  readonly sentAll: boolean;
}

/** What to send and how long to wait. */
export interface ExchangeOptions {
  /** Half-close our side once everything is written (the server sees the end). */
  readonly halfClose?: boolean;
  /** Stop once this many responses arrived (default 1). */
  readonly responses?: number;
  /** Give up this long after the last byte was written, ms. */
  readonly waitMs?: number;
  /** Bytes per write. */
  readonly writeBytes?: number;
  /**
   * Read only once every byte is written (or a write failed), as simple
   * clients do (Python's `http.client`), instead of reading all along.
   */
  readonly readAfterWrite?: boolean;
}

/** Sends `request` to 127.0.0.1:`port` and collects the answers. */
export async function exchange(
  port: number,
  request: Uint8Array,
  options: ExchangeOptions = {},
): Promise<Exchange> {
  const want = options.responses ?? 1;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const parser = new ResponseParser();
  let reset = false;
  let done = false;
  const written = Promise.withResolvers<void>();
  if (!options.readAfterWrite) written.resolve();
  const reading = (async () => {
    await written.promise;
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        parser.push(buf.subarray(0, n));
        if (parser.statuses.length >= want) break;
      }
    } catch (error) {
      if (!done) reset = !(error instanceof Deno.errors.BadResource);
    }
  })();
  let sentAll = true;
  const step = options.writeBytes ?? 64 * 1024;
  try {
    for (let at = 0; at < request.length; at += step) {
      let written = 0;
      const piece = request.subarray(at, at + step);
      while (written < piece.length) written += await conn.write(piece.subarray(written));
    }
    if (options.halfClose) await conn.closeWrite();
  } catch {
    sentAll = false;
  }
  written.resolve();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((r) =>
    timer = setTimeout(() => r("late"), options.waitMs ?? 5_000)
  );
  const hung = await Promise.race([reading.then(() => "read" as const), late]) === "late";
  clearTimeout(timer);
  done = true;
  try {
    conn.close();
  } catch {
    // Already closed.
  }
  await reading;
  return { statuses: parser.statuses, bodies: parser.bodies, reset, hung, sentAll };
}

/** Splits a byte stream into HTTP/1.x responses (status, headers, a counted or chunked body). */
class ResponseParser {
  readonly statuses: number[] = [];
  readonly bodies: string[] = [];
  #buf = new Uint8Array(0);

  push(bytes: Uint8Array): void {
    const joined = new Uint8Array(this.#buf.length + bytes.length);
    joined.set(this.#buf);
    joined.set(bytes, this.#buf.length);
    this.#buf = joined;
    while (this.#step()) { /* next response */ }
  }

  /** Takes one complete response off the buffer; false when it is incomplete. */
  #step(): boolean {
    const end = indexOfBlankLine(this.#buf, 0);
    if (end < 0) return false;
    const head = new TextDecoder().decode(this.#buf.subarray(0, end));
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
    let at = end + 4;
    let body: Uint8Array;
    if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      const parts: Uint8Array[] = [];
      for (;;) {
        const lineEnd = indexOfCrlf(this.#buf, at);
        if (lineEnd < 0) return false;
        const size = parseInt(new TextDecoder().decode(this.#buf.subarray(at, lineEnd)), 16);
        if (!(size >= 0)) return false;
        at = lineEnd + 2;
        if (size === 0) {
          // The trailer section: fields, then a blank line.
          const trailerEnd = indexOfCrlf(this.#buf, at) === at
            ? at
            : indexOfBlankLine(this.#buf, at);
          if (trailerEnd < 0) return false;
          at = trailerEnd === at ? at + 2 : trailerEnd + 4;
          break;
        }
        if (this.#buf.length < at + size + 2) return false;
        parts.push(this.#buf.subarray(at, at + size));
        at += size + 2;
      }
      body = concat(parts);
    } else {
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const n = length === null ? 0 : Number(length[1]);
      if (this.#buf.length < at + n) return false;
      body = this.#buf.subarray(at, at + n);
      at += n;
    }
    this.statuses.push(status === null ? -1 : Number(status[1]));
    this.bodies.push(new TextDecoder().decode(body));
    this.#buf = this.#buf.slice(at);
    return true;
  }
}

function indexOfCrlf(b: Uint8Array, from: number): number {
  for (let i = from; i + 1 < b.length; i++) if (b[i] === 13 && b[i + 1] === 10) return i;
  return -1;
}

function indexOfBlankLine(b: Uint8Array, from: number): number {
  for (let i = from; i + 3 < b.length; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}
