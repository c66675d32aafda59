/**
 * The request heads the Deno front serves itself (`_http1_serve.ts`): only
 * the plain, unambiguous HTTP/1.1 shape every client of ours sends. A head
 * of any other shape — an upgrade, `Expect`, a transfer coding, HTTP/1.0,
 * a target that is not a path, bytes outside printable ASCII, a field over
 * a limit, anything this parser is not sure of — is not judged here: the
 * connection is relayed from that head on to `Deno.serve`, through the
 * framing that answers 414 and 431 (`_framing.ts`), exactly as before
 * (docs/operating.md#connections-and-request-bodies). So this file decides
 * only "mine, and here is the request" or "not mine". Runtime-free.
 *
 * @module
 */

import { MAX_HEAD_BYTES, MAX_HEADER_FIELDS, MAX_REQUEST_LINE_BYTES } from "./_framing.ts";

/** A head the front serves itself. */
export interface PlainHead {
  readonly method: string;
  /** `http://<host><target>`, as `Deno.serve` builds it. */
  readonly url: string;
  readonly headers: Headers;
  /** The Content-Length (0 without one). */
  readonly length: number;
  /** The client asked to close after this request (`connection: close`). */
  readonly close: boolean;
  /** Index just after the head's blank line. */
  readonly end: number;
}

/** Not a head the front serves: relay the connection from this head on. */
export const NOT_MINE = "not mine";

const LF = 10;
const CR = 13;
const decoder = new TextDecoder();
/** Anything but printable ASCII, tab, CR and LF. */
const UNUSUAL = /[^\t\r\n\x20-\x7e]/;
const REQUEST_LINE = /^(GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH) (\/[\x21-\x7e]*) HTTP\/1\.1$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A host (name, IPv4 or bracketed IPv6) and optional port, nothing a URL parser would change. */
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;
const BREAK = /[\r\n]/;
const DIGITS = /^[0-9]{1,15}$/;

/**
 * Parses the head at `b[from, to)`: null while it is incomplete (and within
 * the limits), {@link NOT_MINE} for any head the front does not serve
 * itself, else the head.
 */
export function parsePlainHead(
  b: Uint8Array,
  from: number,
  to: number,
): PlainHead | typeof NOT_MINE | null {
  const end = headEnd(b, from, to);
  if (end < 0) {
    if (to - from > MAX_HEAD_BYTES) return NOT_MINE;
    const lf = b.indexOf(LF, from);
    if ((lf < 0 || lf >= to ? to : lf) - from > MAX_REQUEST_LINE_BYTES) return NOT_MINE;
    return null;
  }
  if (end - from > MAX_HEAD_BYTES) return NOT_MINE;
  const text = decoder.decode(b.subarray(from, end - 4));
  if (UNUSUAL.test(text)) return NOT_MINE;
  const lines = text.split("\r\n");
  if (lines.length > MAX_HEADER_FIELDS + 1) return NOT_MINE;
  const first = REQUEST_LINE.exec(lines[0]!);
  if (first === null || lines[0]!.length > MAX_REQUEST_LINE_BYTES) return NOT_MINE;
  const method = first[1]!;
  const headers = new Headers();
  let host: string | null = null;
  let length = -1;
  let close = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    // Bare LF inside a line, obs-fold, space before the colon: not ours.
    if (colon <= 0 || BREAK.test(line)) return NOT_MINE;
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return NOT_MINE;
    const value = line.slice(colon + 1).trim();
    switch (name.toLowerCase()) {
      case "host":
        if (host !== null || !HOST.test(value)) return NOT_MINE;
        host = value;
        break;
      case "content-length":
        if (length >= 0 || !DIGITS.test(value)) return NOT_MINE;
        length = Number(value);
        break;
      case "connection": {
        const v = value.toLowerCase();
        if (v.includes("upgrade")) return NOT_MINE;
        if (v.includes("close")) close = true;
        break;
      }
      case "transfer-encoding":
      case "upgrade":
      case "expect":
      case "te":
        return NOT_MINE;
    }
    try {
      headers.append(name, value);
    } catch {
      return NOT_MINE;
    }
  }
  if (host === null) return NOT_MINE;
  if (length < 0) length = 0;
  // A GET or HEAD with a body cannot be a `Request`; the server judges it.
  if (length > 0 && (method === "GET" || method === "HEAD")) return NOT_MINE;
  return { method, url: "http://" + host + first[2]!, headers, length, close, end };
}

/** Index just after the CRLF CRLF ending the head in `b[from, to)`, or -1. */
function headEnd(b: Uint8Array, from: number, to: number): number {
  for (let i = b.indexOf(LF, from); i >= 0 && i + 2 < to; i = b.indexOf(LF, i + 1)) {
    if (b[i + 1] === CR && b[i + 2] === LF) return i + 3;
  }
  return -1;
}
