/**
 * The request side of our HTTP/1.1 client: where a url points (parsed once
 * per distinct url and cached) and the request head as bytes. Pure.
 *
 * @module
 */

import type { ConnectTarget } from "./socket.ts";

/** A url reduced to what a request needs. */
export interface Target extends ConnectTarget {
  /** Pool key: scheme, host and port. */
  readonly origin: string;
  /** `POST <path?query> HTTP/1.1` and the Host header, CRLF-terminated. */
  readonly start: string;
}

/** Distinct urls remembered; past this the cache starts over. */
const CACHE_SIZE = 4096;
const cache = new Map<string, Target | string>();

/**
 * The target of `url`, or why it cannot be one (the failure reason).
 * The fragment is dropped, as every HTTP client does.
 */
export function parseTarget(url: string): Target | string {
  const hit = cache.get(url);
  if (hit !== undefined) return hit;
  const result = parseUncached(url);
  if (cache.size >= CACHE_SIZE) cache.clear();
  cache.set(url, result);
  return result;
}

function parseUncached(url: string): Target | string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "Invalid URL";
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return `Unsupported URL scheme: ${parsed.protocol}`;
  }
  // fetch refuses these too; credentials never go into a request line.
  if (parsed.username !== "" || parsed.password !== "") return "URL with credentials";
  const tls = parsed.protocol === "https:";
  const port = parsed.port === "" ? (tls ? 443 : 80) : Number(parsed.port);
  const bracketed = parsed.hostname.startsWith("[");
  const hostname = bracketed ? parsed.hostname.slice(1, -1) : parsed.hostname;
  const path = `${parsed.pathname || "/"}${parsed.search}`;
  return {
    hostname,
    port,
    tls,
    origin: `${parsed.protocol}//${parsed.host}`,
    start: `POST ${path} HTTP/1.1\r\nhost: ${parsed.host}\r\n`,
  };
}

/** Header names we set ourselves; a caller's copy is dropped. */
const FRAMING = new Set(["host", "content-length", "transfer-encoding", "connection"]);
/** A header name token (RFC 9110 §5.6.2). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Visible ASCII, space and tab: nothing that could end a line. */
const FIELD_VALUE = /^[\t\x20-\x7e]*$/;

/**
 * The request head: `target.start`, the caller's headers, then
 * Content-Length (`length` ≥ 0) or chunked framing (`length` < 0).
 * Returns a string (ASCII only) or, for an unsendable header, the reason.
 */
export function requestHead(
  target: Target,
  headers: Readonly<Record<string, string>>,
  length: number,
): string | { readonly invalid: string } {
  let head = target.start;
  for (const name in headers) {
    const value = headers[name]!;
    if (!validName(name) || !FIELD_VALUE.test(value)) {
      return { invalid: `Invalid header: ${name}` };
    }
    if (FRAMING.has(name) || FRAMING.has(name.toLowerCase())) continue;
    head += `${name}: ${value}\r\n`;
  }
  return head +
    (length >= 0 ? `content-length: ${length}\r\n\r\n` : "transfer-encoding: chunked\r\n\r\n");
}

/** Names seen valid (our callers use a handful). */
const validNames = new Set<string>();

function validName(name: string): boolean {
  if (validNames.has(name)) return true;
  if (!TOKEN.test(name)) return false;
  if (validNames.size < 64) validNames.add(name);
  return true;
}

/** Writes ASCII `text` into `out` from 0 (callers checked it is ASCII); returns its length. */
export function writeAscii(text: string, out: Uint8Array): number {
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return text.length;
}
