/**
 * Where each HTTP/1.x request starts and ends in the bytes a client sends,
 * for the Deno front (`deno.ts`), so that it can refuse a request line or a
 * header block over the limit itself, with 414 or 431, before any of it
 * reaches `Deno.serve`. (`Deno.serve` answers a head over its 64 KiB buffer
 * with a bare 400 and closes at once, resetting a client still sending.)
 *
 * A head is held back until it is complete, then passed on whole; a body is
 * passed on as it comes, counted by its Content-Length or its chunk sizes.
 * A malformed chunked body ends what is passed on, so the server sees the
 * end of the stream and answers (400) instead of closing without an answer.
 * Whatever this does not understand for sure (an upgrade, CONNECT, a
 * transfer coding other than `chunked`, conflicting lengths) makes it stop
 * looking: from then on every byte goes through as is and the server
 * behind judges it. Runtime-free: bytes in, bytes out.
 *
 * @module
 */

/** A request line longer than this is refused with 414, bytes. */
export const MAX_REQUEST_LINE_BYTES = 16 * 1024;
/** A head (request line and header fields) longer than this is refused with 431, bytes. */
export const MAX_HEAD_BYTES = 48 * 1024;
/** A head with more header fields than this is refused with 431 (`Deno.serve` takes 128). */
export const MAX_HEADER_FIELDS = 100;
/** A chunk-size line or trailer section longer than this is a malformed body. */
const MAX_CHUNK_LINE_BYTES = 4 * 1024;

const LF = 10;
const CR = 13;

/** What one {@link RequestFraming.push} decided. */
export interface FramingStep {
  /** Bytes to pass on to the server now, in order (views of the input or of held bytes). */
  readonly forward: Uint8Array[];
  /** Set when a request's head broke a limit: answer this and pass nothing more on. */
  readonly refuse: 414 | 431 | null;
  /**
   * Set when a chunked body is malformed: pass nothing more on (the server,
   * seeing the end of the stream, answers the request it has).
   */
  readonly malformed?: true;
}

/** Where in a request the next byte is (fields, not objects: no garbage per chunk). */
type Kind =
  | "head"
  | "fixed"
  | "chunk-size"
  | "chunk-data"
  | "chunk-end"
  | "trailer"
  | "opaque"
  | "refused";

/** Tracks one connection's requests. */
export class RequestFraming {
  #kind: Kind = "head";
  /** Bytes left of a counted body ("fixed") or of a chunk's data. */
  #left = 0;
  /** In "chunk-end": the CR was seen. */
  #seenCr = false;
  /** Bytes of an incomplete head, or of an incomplete chunk-size or trailer line. */
  #held: Uint8Array = new Uint8Array(0);
  #heldUsed = 0;
  /** In the head being read: the request line's length with its CR, once its LF came. */
  #requestLine = -1;

  /** True once it stopped looking (every byte now passes as is). */
  get opaque(): boolean {
    return this.#kind === "opaque";
  }

  /**
   * Takes the next bytes from the client. The views returned must be written
   * before `bytes` is reused.
   */
  push(bytes: Uint8Array): FramingStep {
    // Everything passed on from `bytes` is one range, from 0 to `at` (views
    // cost garbage: a chunked body of small chunks must not make any per
    // chunk); held bytes from an earlier push can only come before it.
    const forward: Uint8Array[] = [];
    const emit = (): Uint8Array[] => {
      if (at > 0) forward.push(at === bytes.length ? bytes : bytes.subarray(0, at));
      return forward;
    };
    let at = 0;
    while (at < bytes.length) {
      switch (this.#kind) {
        case "opaque":
          at = bytes.length;
          return { forward: emit(), refuse: null };
        case "refused":
          return { forward: emit(), refuse: null };
        case "fixed":
        case "chunk-data": {
          const take = Math.min(this.#left, bytes.length - at);
          at += take;
          this.#left -= take;
          if (this.#left === 0) {
            this.#kind = this.#kind === "fixed" ? "head" : "chunk-end";
            this.#seenCr = false;
          }
          break;
        }
        case "chunk-end": {
          // The CRLF after a chunk's data (a bare LF is taken too).
          const b = bytes[at]!;
          if (b === CR && !this.#seenCr) this.#seenCr = true;
          else if (b === LF) this.#kind = "chunk-size";
          else return this.#malformed(emit());
          at++;
          break;
        }
        case "head":
        case "chunk-size":
        case "trailer": {
          const line = this.#line(this.#kind, bytes, at);
          if (line === 414 || line === 431) {
            this.#kind = "refused";
            this.#held = new Uint8Array(0);
            this.#heldUsed = 0;
            return { forward: emit(), refuse: line };
          }
          if (line === "malformed") return this.#malformed(emit());
          if (line === null) return { forward: emit(), refuse: null };
          if (line.held !== null) forward.push(line.held);
          at = line.end;
          break;
        }
      }
    }
    return { forward: emit(), refuse: null };
  }

  /**
   * Looks for the end of the head (a blank line), of a chunk-size line or of
   * the trailer section, starting at `at` after what is held. While it is
   * incomplete: holds the bytes, null. Past a limit: the status to refuse a
   * head with, or "malformed" for a chunk line. Otherwise: moves to the next
   * state and returns the end (exclusive) in `bytes`, with the held bytes
   * that come before it.
   */
  #line(
    kind: "head" | "chunk-size" | "trailer",
    bytes: Uint8Array,
    at: number,
  ): { end: number; held: Uint8Array | null } | 414 | 431 | "malformed" | null {
    const held = this.#held.subarray(0, this.#heldUsed);
    if (kind === "head" && held.length === 0) {
      // Blank lines before a request line are allowed (and ignored).
      let skip = at;
      while (skip < bytes.length && (bytes[skip] === CR || bytes[skip] === LF)) skip++;
      if (skip > at) return { end: skip, held: null };
    }
    const end = kind === "chunk-size"
      ? lineEnd(bytes, at)
      : blankLineEnd(held, bytes, at, kind === "trailer");
    const max = kind === "head" ? MAX_HEAD_BYTES : MAX_CHUNK_LINE_BYTES;
    const length = held.length + (end < 0 ? bytes.length : end) - at;
    if (kind === "head") {
      if (this.#requestLine < 0) {
        const lf = bytes.indexOf(LF, at);
        if (lf >= 0) this.#requestLine = held.length + lf - at;
        else if (held.length + bytes.length - at > MAX_REQUEST_LINE_BYTES) return 414;
      }
      if (this.#requestLine > MAX_REQUEST_LINE_BYTES + 1) return 414;
      if (length > max) return 431;
    } else if (length > max) {
      return "malformed";
    }
    if (end < 0) {
      this.#hold(bytes.subarray(at));
      return null;
    }
    if (kind === "head") {
      const whole = held.length === 0
        ? bytes.subarray(at, end)
        : concat(held, bytes.subarray(at, end));
      this.#requestLine = -1;
      if (countLines(whole) > MAX_HEADER_FIELDS + 2) return 431;
      const next = bodyAfter(whole);
      this.#kind = next.kind;
      this.#left = next.left;
    } else if (kind === "chunk-size") {
      const size = held.length === 0
        ? chunkSize(bytes, at, end)
        : chunkSize(concat(held, bytes.subarray(at, end)), 0, held.length + end - at);
      if (size < 0) return "malformed";
      this.#kind = size === 0 ? "trailer" : "chunk-data";
      this.#left = size;
    } else {
      this.#kind = "head";
    }
    return { end, held: held.length === 0 ? null : this.#takeHeld() };
  }

  /** A malformed body: nothing more is passed on. */
  #malformed(forward: Uint8Array[]): FramingStep {
    this.#kind = "refused";
    this.#held = new Uint8Array(0);
    this.#heldUsed = 0;
    return { forward, refuse: null, malformed: true };
  }

  #hold(bytes: Uint8Array): void {
    const needed = this.#heldUsed + bytes.length;
    if (needed > this.#held.length) {
      const grown = new Uint8Array(Math.max(needed, this.#held.length * 2, 1024));
      grown.set(this.#held.subarray(0, this.#heldUsed));
      this.#held = grown;
    }
    this.#held.set(bytes, this.#heldUsed);
    this.#heldUsed = needed;
  }

  /** The held bytes (a copy: they are about to be passed on), emptied. */
  #takeHeld(): Uint8Array {
    const out = this.#held.slice(0, this.#heldUsed);
    this.#heldUsed = 0;
    if (this.#held.length > 4096) this.#held = new Uint8Array(0);
    return out;
  }
}

/** Lines in a head (the request line and the blank line included). */
function countLines(head: Uint8Array): number {
  let n = 0;
  for (let i = head.indexOf(LF); i >= 0; i = head.indexOf(LF, i + 1)) n++;
  return n;
}

/** Index after the first LF at or after `at` in `bytes`, or -1. */
function lineEnd(bytes: Uint8Array, at: number): number {
  const lf = bytes.indexOf(LF, at);
  return lf < 0 ? -1 : lf + 1;
}

/**
 * Index in `bytes` just after the blank line (LF, optional CR, LF) that ends
 * a block begun with `held`, or -1 if it has not come yet. `lineStart`: the
 * block begins at the start of a line (a trailer section may be empty).
 */
function blankLineEnd(held: Uint8Array, bytes: Uint8Array, at: number, lineStart: boolean): number {
  if (held.length === 0) return findBlankLine(bytes, at, lineStart);
  // The blank line may begin in the last held bytes.
  const tail = held.subarray(Math.max(0, held.length - 3));
  const probe = concat(tail, bytes.subarray(at, at + MAX_HEAD_BYTES + 4));
  const end = findBlankLine(probe, 0, lineStart && tail.length === held.length);
  return end < 0 ? -1 : at + end - tail.length;
}

function findBlankLine(b: Uint8Array, from: number, lineStart: boolean): number {
  if (lineStart) {
    if (b[from] === LF) return from + 1;
    if (b[from] === CR && b[from + 1] === LF) return from + 2;
  }
  for (let i = b.indexOf(LF, from); i >= 0; i = b.indexOf(LF, i + 1)) {
    if (b[i + 1] === LF) return i + 2;
    if (b[i + 1] === CR && b[i + 2] === LF) return i + 3;
  }
  return -1;
}

const OPAQUE = { kind: "opaque", left: 0 } as const;

/**
 * What follows a complete head: its body's framing, or opaque when unsure.
 * Reads the bytes in place, decoding nothing: this runs for every request
 * the front relays.
 */
function bodyAfter(head: Uint8Array): { kind: Kind; left: number } {
  const firstLf = head.indexOf(LF);
  if (startsWith(head, 0, firstLf, CONNECT)) return OPAQUE;
  const lineEnd = head[firstLf - 1] === CR ? firstLf - 1 : firstLf;
  const http11 = endsWith(head, lineEnd, HTTP11);
  let length = -1;
  let chunked = false;
  for (let at = firstLf + 1; at < head.length;) {
    const lf = head.indexOf(LF, at);
    const end = lf < 0 ? head.length : lf;
    const blank = end === at || end - at === 1 && head[at] === CR;
    // A folded line, a line without a colon, or space before the colon: the
    // server refuses these (400); do not guess where such a request ends.
    const colon = head.indexOf(58, at);
    if (
      !blank && (head[at] === 32 || head[at] === 9 || colon < 0 || colon >= end ||
        colon === at || head[colon - 1] === 32 || head[colon - 1] === 9)
    ) {
      return OPAQUE;
    }
    if (startsWith(head, at, end, CONTENT_LENGTH)) {
      const value = digits(head, at + CONTENT_LENGTH.length, end);
      if (value < 0 || length >= 0 && value !== length) return OPAQUE;
      length = value;
    } else if (startsWith(head, at, end, TRANSFER_ENCODING)) {
      if (chunked || !isChunked(head, at + TRANSFER_ENCODING.length, end)) return OPAQUE;
      chunked = true;
    } else if (startsWith(head, at, end, UPGRADE)) {
      return OPAQUE;
    }
    at = end + 1;
  }
  if (chunked) return length < 0 && http11 ? { kind: "chunk-size", left: 0 } : OPAQUE;
  return { kind: length > 0 ? "fixed" : "head", left: Math.max(0, length) };
}

const bytesOf = (text: string) => new TextEncoder().encode(text);
const CONNECT = bytesOf("CONNECT ");
const HTTP11 = bytesOf(" HTTP/1.1");
/** Field names, lower case, with their colon (no space may come before it). */
const CONTENT_LENGTH = bytesOf("content-length:");
const TRANSFER_ENCODING = bytesOf("transfer-encoding:");
const UPGRADE = bytesOf("upgrade:");
const CHUNKED = bytesOf("chunked");

/** `b[from, end)` starts with `prefix`, ASCII letters in any case. */
function startsWith(b: Uint8Array, from: number, end: number, prefix: Uint8Array): boolean {
  if (end - from < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    const c = b[from + i]!;
    const lower = c >= 65 && c <= 90 ? c | 0x20 : c;
    if (lower !== prefix[i]) return false;
  }
  return true;
}

/** `b[0, end)` ends with `suffix` (exact). */
function endsWith(b: Uint8Array, end: number, suffix: Uint8Array): boolean {
  if (end < suffix.length) return false;
  for (let i = 0; i < suffix.length; i++) {
    if (b[end - suffix.length + i] !== suffix[i]) return false;
  }
  return true;
}

/** The `b[from, end)` range without the spaces, tabs and CR around it. */
function trimmed(b: Uint8Array, from: number, end: number): [number, number] {
  while (from < end && (b[from] === 32 || b[from] === 9)) from++;
  while (end > from && (b[end - 1] === 32 || b[end - 1] === 9 || b[end - 1] === CR)) end--;
  return [from, end];
}

/** A field value of 1 to 15 decimal digits, or -1. */
function digits(b: Uint8Array, from: number, end: number): number {
  const [start, stop] = trimmed(b, from, end);
  if (stop === start || stop - start > 15) return -1;
  let n = 0;
  for (let i = start; i < stop; i++) {
    const c = b[i]!;
    if (c < 48 || c > 57) return -1;
    n = n * 10 + c - 48;
  }
  return n;
}

/** The field value is exactly `chunked` (any case). */
function isChunked(b: Uint8Array, from: number, end: number): boolean {
  const [start, stop] = trimmed(b, from, end);
  return stop - start === CHUNKED.length && startsWith(b, start, stop, CHUNKED);
}

/**
 * The size on the chunk-size line `b[from, to)` (hex digits, then optional
 * whitespace and extensions after `;`, then the line end), or -1 when
 * malformed. Reads the bytes in place: no garbage per chunk.
 */
function chunkSize(b: Uint8Array, from: number, to: number): number {
  let size = 0;
  let digits = 0;
  let i = from;
  for (; i < to; i++) {
    const c = b[i]!;
    const v = c >= 48 && c <= 57
      ? c - 48
      : c >= 97 && c <= 102
      ? c - 87
      : c >= 65 && c <= 70
      ? c - 55
      : -1;
    if (v < 0) break;
    if (++digits > 12) return -1;
    size = size * 16 + v;
  }
  if (digits === 0) return -1;
  for (; i < to; i++) {
    const c = b[i]!;
    if (c === 59) return size; // ";": extensions, not looked at
    if (c !== 32 && c !== 9 && c !== CR && c !== LF) return -1;
  }
  return size;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
