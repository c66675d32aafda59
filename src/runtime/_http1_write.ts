/**
 * Writes a `Response` on an HTTP/1.1 connection the Deno front serves itself
 * (`_http1_serve.ts`): with Content-Length when the body is known to be
 * small or turns out to be (head and body then go out in one write), else
 * chunked as it streams.
 *
 * @module
 */

import { bodyBytesOf } from "../http/responses.ts";
import { concatParts } from "../protocol/mod.ts";

/** A body up to this size is gathered and sent with Content-Length, bytes. */
const GATHER_BYTES = 64 * 1024;

const encoder = new TextEncoder();
const CRLF = encoder.encode("\r\n");

const REASONS: Record<number, string> = {
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  411: "Length Required",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  507: "Insufficient Storage",
};

/** What a written response says about the connection. */
export interface Written {
  /** The response asked to close the connection (`connection: close`). */
  readonly close: boolean;
}

/**
 * Writes `res` to `conn`; `headOnly` for a HEAD request (no body bytes),
 * `close` to announce `connection: close`. Rejects when the connection fails
 * (the caller closes it).
 */
export async function writeResponse(
  conn: Deno.Conn,
  res: Response,
  headOnly: boolean,
  close: boolean,
): Promise<Written> {
  const status = res.status;
  let head = "HTTP/1.1 " + status + " " + (REASONS[status] ?? "Unknown") + "\r\n" + dateLine();
  let declared = -1;
  // forEach, not for-of: the iterator cost 0.5 µs a response more.
  res.headers.forEach((value, name) => {
    if (name === "date") return; // ours is on the first line already
    if (name === "content-length") {
      declared = /^[0-9]{1,15}$/.test(value) ? Number(value) : -1;
    } else if (name === "connection") {
      if (value.toLowerCase().includes("close")) close = true;
    } else if (name !== "transfer-encoding" && name !== "keep-alive") {
      head += name + ": " + value + "\r\n";
    }
  });
  if (close) head += "connection: close\r\n";
  const bytes = bodyBytesOf(res);
  if (bytes !== undefined && !headOnly && status >= 200 && status !== 204 && status !== 304) {
    await writeWithHead(conn, head, bytes);
    return close ? CLOSE : KEEP;
  }
  const noBody = status === 204 || status === 304 || (status >= 100 && status < 200);
  const body = res.body;
  if (body === null || noBody) {
    if (body !== null) await body.cancel().catch(() => {});
    if (!noBody) head += "content-length: 0\r\n";
    await writeAll(conn, encoder.encode(head + "\r\n"));
    return { close };
  }
  if (headOnly) {
    await body.cancel().catch(() => {});
    if (declared >= 0) head += "content-length: " + declared + "\r\n";
    await writeAll(conn, encoder.encode(head + "\r\n"));
    return { close };
  }
  if (declared >= 0 && declared <= GATHER_BYTES) {
    const bytes = await res.bytes();
    await writeWithHead(conn, head, bytes);
    return { close };
  }
  const reader = body.getReader();
  try {
    if (declared >= 0) {
      await writeAll(conn, encoder.encode(head + "content-length: " + declared + "\r\n\r\n"));
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return { close };
        await writeAll(conn, value);
      }
    }
    // Unknown length: gather what fits, and go chunked only past that.
    const gathered: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        await writeWithHead(conn, head, concatParts(gathered, size));
        return { close };
      }
      gathered.push(value);
      size += value.length;
      if (size > GATHER_BYTES) break;
    }
    await writeAll(conn, encoder.encode(head + "transfer-encoding: chunked\r\n\r\n"));
    for (const part of gathered) await writeChunk(conn, part);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value.length > 0) await writeChunk(conn, value);
    }
    await writeAll(conn, encoder.encode("0\r\n\r\n"));
    return { close };
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  }
}

/** The `date` line of the second it was made, and that second (epoch seconds). */
let date = { second: -1, line: "" };

/**
 * `date: <IMF-fixdate>\r\n` for now (RFC 9110 §6.6.1: a server with a clock sends it, as
 * `Deno.serve` does), made once a second.
 */
function dateLine(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== date.second) {
    date = { second, line: "date: " + new Date(second * 1000).toUTCString() + "\r\n" };
  }
  return date.line;
}

const CLOSE: Written = { close: true };
const KEEP: Written = { close: false };

/**
 * Head and body in one write (one system call, one segment for a small answer). Not async, nor
 * is {@link writeAll}: the usual answer costs one write and its promise, no frames.
 */
function writeWithHead(conn: Deno.Conn, head: string, body: Uint8Array): Promise<void> {
  const text = head + "content-length: " + body.length + "\r\n\r\n";
  const out = new Uint8Array(text.length + body.length);
  const { read, written } = encoder.encodeInto(text, out);
  if (read !== text.length || written !== text.length) {
    // A header value beyond ASCII: its UTF-8 is longer than the string.
    return writeAll(conn, encoder.encode(text)).then(() => writeAll(conn, body));
  }
  out.set(body, text.length);
  return writeAll(conn, out);
}

async function writeChunk(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  const size = encoder.encode(bytes.length.toString(16) + "\r\n");
  if (bytes.length > GATHER_BYTES) {
    await writeAll(conn, size);
    await writeAll(conn, bytes);
    await writeAll(conn, CRLF);
    return;
  }
  // A small chunk in one write: no segment waits on another's ACK.
  const out = new Uint8Array(size.length + bytes.length + 2);
  out.set(size);
  out.set(bytes, size.length);
  out.set(CRLF, size.length + bytes.length);
  await writeAll(conn, out);
}

/** Writes all of `bytes`. */
export function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  if (bytes.length === 0) return DONE;
  let writing: Promise<number>;
  try {
    writing = conn.write(bytes);
  } catch (error) {
    return Promise.reject(error);
  }
  return writing.then((n) => n < bytes.length ? writeAll(conn, bytes.subarray(n)) : undefined);
}

const DONE = Promise.resolve();
