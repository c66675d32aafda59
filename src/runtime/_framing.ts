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

type State =
  | { kind: "head" }
  | { kind: "fixed"; left: number }
  | { kind: "chunk-size" }
  | { kind: "chunk-data"; left: number }
  | { kind: "chunk-end"; seen: number }
  | { kind: "trailer" }
  | { kind: "opaque" }
  | { kind: "refused" };

/** Tracks one connection's requests. */
export class RequestFraming {
  #state: State = { kind: "head" };
  /** Bytes of an incomplete head, or of an incomplete chunk-size or trailer line. */
  #held: Uint8Array = new Uint8Array(0);
  #heldUsed = 0;
  /** In the head being read: the request line's length with its CR, once its LF came. */
  #requestLine = -1;

  /** True once it stopped looking (every byte now passes as is). */
  get opaque(): boolean {
    return this.#state.kind === "opaque";
  }

  /**
   * Takes the next bytes from the client. The views returned must be written
   * before `bytes` is reused.
   */
  push(bytes: Uint8Array): FramingStep {
    const forward: Uint8Array[] = [];
    let at = 0;
    while (at < bytes.length) {
      const state = this.#state;
      switch (state.kind) {
        case "opaque":
          forward.push(bytes.subarray(at));
          return { forward, refuse: null };
        case "refused":
          return { forward, refuse: null };
        case "fixed": {
          const take = Math.min(state.left, bytes.length - at);
          forward.push(bytes.subarray(at, at + take));
          at += take;
          state.left -= take;
          if (state.left === 0) this.#state = { kind: "head" };
          break;
        }
        case "chunk-data": {
          const take = Math.min(state.left, bytes.length - at);
          forward.push(bytes.subarray(at, at + take));
          at += take;
          state.left -= take;
          if (state.left === 0) this.#state = { kind: "chunk-end", seen: 0 };
          break;
        }
        case "chunk-end": {
          // The CRLF after a chunk's data (a bare LF is taken too).
          const b = bytes[at]!;
          if (b === CR && state.seen === 0) state.seen = 1;
          else if (b === LF) this.#state = { kind: "chunk-size" };
          else return this.#malformed(forward);
          forward.push(bytes.subarray(at, at + 1));
          at++;
          break;
        }
        case "head":
        case "chunk-size":
        case "trailer": {
          const line = this.#line(state.kind, bytes, at);
          if (line === 414 || line === 431) {
            this.#state = { kind: "refused" };
            this.#held = new Uint8Array(0);
            this.#heldUsed = 0;
            return { forward, refuse: line };
          }
          if (line === "malformed") return this.#malformed(forward);
          if (line === null) return { forward, refuse: null };
          if (line.held !== null) forward.push(line.held);
          forward.push(bytes.subarray(at, line.end));
          at = line.end;
          break;
        }
      }
    }
    return { forward, refuse: null };
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
    const whole = held.length === 0
      ? bytes.subarray(at, end)
      : concat(held, bytes.subarray(at, end));
    if (kind === "head") {
      this.#requestLine = -1;
      if (countLines(whole) > MAX_HEADER_FIELDS + 2) return 431;
      this.#state = bodyAfter(whole);
    } else if (kind === "chunk-size") {
      const size = chunkSize(whole);
      if (size === null) return "malformed";
      this.#state = size === 0 ? { kind: "trailer" } : { kind: "chunk-data", left: size };
    } else {
      this.#state = { kind: "head" };
    }
    return { end, held: held.length === 0 ? null : this.#takeHeld() };
  }

  /** A malformed body: nothing more is passed on. */
  #malformed(forward: Uint8Array[]): FramingStep {
    this.#state = { kind: "refused" };
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

const decoder = new TextDecoder("latin1");

/** What follows a complete head: its body's framing, or opaque when unsure. */
function bodyAfter(head: Uint8Array): State {
  const lines = decoder.decode(head).split("\n").map((l) => l.replace(/\r$/, ""));
  const requestLine = lines[0] ?? "";
  const method = requestLine.slice(0, requestLine.indexOf(" "));
  if (method === "CONNECT") return { kind: "opaque" };
  const lengths: string[] = [];
  const codings: string[] = [];
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    // A folded line continues a field in a way not worth following.
    if (line[0] === " " || line[0] === "\t") return { kind: "opaque" };
    const colon = line.indexOf(":");
    if (colon <= 0) return { kind: "opaque" };
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "content-length") lengths.push(value);
    else if (name === "transfer-encoding") codings.push(value.toLowerCase());
    else if (name === "upgrade") return { kind: "opaque" };
  }
  if (codings.length > 0) {
    if (lengths.length > 0 || codings.length > 1 || codings[0] !== "chunked") {
      return { kind: "opaque" };
    }
    return requestLine.endsWith("HTTP/1.1") ? { kind: "chunk-size" } : { kind: "opaque" };
  }
  if (lengths.length === 0) return { kind: "head" };
  const first = lengths[0]!;
  if (!/^\d{1,15}$/.test(first) || lengths.some((l) => l !== first)) return { kind: "opaque" };
  const left = Number(first);
  return left === 0 ? { kind: "head" } : { kind: "fixed", left };
}

/** A chunk-size line's size (extensions ignored), or null when malformed. */
function chunkSize(line: Uint8Array): number | null {
  const text = decoder.decode(line).replace(/\r?\n$/, "");
  const hex = text.split(";", 1)[0]!.trim();
  if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) return null;
  return parseInt(hex, 16);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
