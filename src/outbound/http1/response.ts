/**
 * An incremental HTTP/1.1 response parser for the one answer we read per
 * request: status line, the three headers that frame the body
 * (Content-Length, Transfer-Encoding, Connection), and the body itself,
 * keeping at most `cap` bytes of it. Pure: bytes in, state out.
 *
 * @module
 */

/** A response the client must not trust (it closes the connection). */
export class MalformedResponseError extends Error {
  /** Says what was wrong. */
  constructor(message: string) {
    super(message);
    this.name = "MalformedResponseError";
  }
}

/** Longest response head (status line and headers) accepted, bytes. */
export const MAX_HEAD_BYTES = 64 * 1024;

/** Longest chunk-size line (with extensions) or trailer line accepted, bytes. */
const MAX_LINE_BYTES = 4 * 1024;

/** Where {@link ResponseParser.feed} left off. */
export type FeedState =
  /** More bytes are needed. */
  | "more"
  /** The response is complete. */
  | "done"
  /** `cap` body bytes are kept and more follow: the caller stops reading. */
  | "full";

/** Parser phases (plain numbers: Node runs this file with types stripped, enums unsupported). */
const Phase = {
  Head: 0,
  Fixed: 1,
  ChunkSize: 2,
  ChunkData: 3,
  ChunkDataEnd: 4,
  Trailer: 5,
  UntilClose: 6,
  Done: 7,
} as const;

/** The headers that frame a response, by name length. */
const FRAMING_NAMES = new Map([
  [14, "content-length"],
  [17, "transfer-encoding"],
  [10, "connection"],
]);

/** The status of a status line `HTTP/1.x NNN[ reason]` in `b[0, end)`. */
function statusOf(b: Uint8Array, end: number): number {
  const ok = end >= 12 && b[0] === 0x48 && b[1] === 0x54 && b[2] === 0x54 && b[3] === 0x50 &&
    b[4] === 0x2f && b[5] === 0x31 && b[6] === 0x2e && (b[7] === 0x30 || b[7] === 0x31) &&
    b[8] === 0x20 && isDigit(b[9]!) && isDigit(b[10]!) && isDigit(b[11]!) &&
    (end === 12 || b[12] === 0x20 || b[12] === 0x09);
  if (!ok) throw new MalformedResponseError("Invalid status line");
  return (b[9]! - 0x30) * 100 + (b[10]! - 0x30) * 10 + (b[11]! - 0x30);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** End of the line that `lf` (an LF index, or -1) terminates, without its CR. */
function lineEnd(b: Uint8Array, start: number, lf: number): number {
  const end = lf < 0 ? b.length : lf;
  return end > start && b[end - 1] === 13 ? end - 1 : end;
}

/** Whether `b` at `at` holds `lower` (a lowercase ASCII name) in any case. */
function sameLowercase(b: Uint8Array, at: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    const c = b[at + i]!;
    if ((c >= 0x41 && c <= 0x5a ? c + 32 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** `b[start, end)` as a string, one character per byte. */
function latin1(b: Uint8Array, start: number, end: number): string {
  let out = "";
  for (let i = start; i < end; i++) out += String.fromCharCode(b[i]!);
  return out;
}

/** Parses one response; make a new one per request. */
export class ResponseParser {
  readonly #cap: number;
  #phase: number = Phase.Head;
  #head: Uint8Array | null = null;
  #headUsed = 0;
  #line = "";
  #remaining = 0;
  #body: Uint8Array | null = null;
  #kept = 0;
  /** Any byte of a response (an interim 1xx included) has arrived. */
  sawBytes = false;
  /** Status of the final response (0 until its head is parsed). */
  status = 0;
  /** The head of the final response is parsed. */
  headDone = false;
  /** The connection may carry another request after this response. */
  keepAlive = false;
  /** Bytes that followed the end of the response (none for a well-behaved server). */
  trailing = 0;

  /** Keeps at most `cap` body bytes. */
  constructor(cap: number) {
    this.#cap = Math.max(0, cap);
  }

  /** The body bytes kept. */
  get body(): Uint8Array {
    return this.#body === null ? new Uint8Array(0) : this.#body.subarray(0, this.#kept);
  }

  /**
   * Takes the next bytes (not kept beyond the call).
   *
   * @throws {MalformedResponseError} on anything that is not a valid response
   */
  feed(chunk: Uint8Array): FeedState {
    if (chunk.length > 0) this.sawBytes = true;
    let at = 0;
    while (at < chunk.length) {
      switch (this.#phase) {
        case Phase.Head:
          at = this.#feedHead(chunk, at);
          break;
        case Phase.Fixed:
          at = this.#feedCounted(chunk, at, Phase.Done);
          break;
        case Phase.UntilClose:
          this.#keep(chunk, at, chunk.length - at);
          at = chunk.length;
          break;
        case Phase.ChunkSize:
        case Phase.ChunkDataEnd:
        case Phase.Trailer:
          at = this.#feedLine(chunk, at);
          break;
        case Phase.ChunkData:
          at = this.#feedCounted(chunk, at, Phase.ChunkDataEnd);
          break;
        case Phase.Done:
          this.trailing += chunk.length - at;
          this.keepAlive = false;
          return "done";
      }
      if (this.#phase === Phase.Done) {
        this.trailing += chunk.length - at;
        if (this.trailing > 0) this.keepAlive = false;
        return "done";
      }
      if (this.headDone && this.#kept >= this.#cap) {
        this.keepAlive = false;
        return "full";
      }
    }
    return "more";
  }

  /**
   * The peer closed the connection: completes a body that runs until the
   * close; anything else unfinished is an error.
   *
   * @throws {MalformedResponseError} when the response was cut short
   */
  end(): "done" {
    if (this.#phase === Phase.UntilClose || this.#phase === Phase.Done) {
      this.#phase = Phase.Done;
      return "done";
    }
    throw new MalformedResponseError(
      this.headDone ? "Response body cut short" : "Connection closed before the response head",
    );
  }

  /**
   * Takes body bytes counted by `#remaining` (a Content-Length body, or one
   * chunk's data); once it reaches 0 the phase becomes `then`. Returns where
   * reading stopped.
   */
  #feedCounted(chunk: Uint8Array, at: number, then: number): number {
    const n = Math.min(this.#remaining, chunk.length - at);
    this.#keep(chunk, at, n);
    this.#remaining -= n;
    if (this.#remaining === 0) this.#phase = then;
    return at + n;
  }

  #keep(chunk: Uint8Array, at: number, n: number): void {
    const take = Math.min(n, this.#cap - this.#kept);
    if (take <= 0) return;
    if (this.#body === null || this.#kept + take > this.#body.length) {
      const size = Math.min(this.#cap, Math.max(this.#kept + take, this.#expected()));
      const grown = new Uint8Array(size);
      if (this.#body !== null) grown.set(this.#body.subarray(0, this.#kept));
      this.#body = grown;
    }
    this.#body.set(chunk.subarray(at, at + take), this.#kept);
    this.#kept += take;
  }

  /** A size hint for the body buffer: the declared length, else something small. */
  #expected(): number {
    return this.#phase === Phase.Fixed ? this.#kept + this.#remaining : this.#kept * 2 + 256;
  }

  /** Collects head bytes; parses the head once its blank line is in. */
  #feedHead(chunk: Uint8Array, at: number): number {
    if (this.#headUsed === 0) {
      // Fast path: the whole head in this chunk, nothing held.
      const end = headEnd(chunk, at, at);
      if (end >= 0) {
        this.#parseHeadBytes(chunk.subarray(at, end));
        return end;
      }
      this.#appendHead(chunk.subarray(at));
      return chunk.length;
    }
    const before = this.#headUsed;
    const all = this.#appendHead(chunk.subarray(at));
    // The terminating LF is new: nothing held had one.
    const end = headEnd(all, before, 0);
    if (end < 0) return chunk.length;
    const head = all.subarray(0, end);
    this.#head = null;
    this.#headUsed = 0;
    this.#parseHeadBytes(head);
    return at + (end - before);
  }

  /** Appends to the held head bytes; returns them all. */
  #appendHead(bytes: Uint8Array): Uint8Array {
    const need = this.#headUsed + bytes.length;
    if (need > MAX_HEAD_BYTES) throw new MalformedResponseError("Response head too long");
    if (this.#head === null || need > this.#head.length) {
      const grown = new Uint8Array(Math.min(MAX_HEAD_BYTES, Math.max(1024, need * 2)));
      if (this.#head !== null) grown.set(this.#head.subarray(0, this.#headUsed));
      this.#head = grown;
    }
    this.#head.set(bytes, this.#headUsed);
    this.#headUsed = need;
    return this.#head.subarray(0, need);
  }

  /**
   * Parses a head from its bytes. Only the three framing headers are turned
   * into strings; other lines are checked for shape and skipped.
   */
  #parseHeadBytes(head: Uint8Array): void {
    if (head.length > MAX_HEAD_BYTES) throw new MalformedResponseError("Response head too long");
    let eol = head.indexOf(10);
    const status = statusOf(head, lineEnd(head, 0, eol));
    const http10 = head[7] === 0x30;
    let length = -1;
    let chunked = false;
    let otherCoding = false;
    let close = http10;
    for (let start = eol + 1; start < head.length; start = eol + 1) {
      eol = head.indexOf(10, start);
      if (eol < 0) eol = head.length;
      const end = lineEnd(head, start, eol);
      if (end === start) continue;
      const colon = head.indexOf(58, start);
      if (colon <= start || colon >= end || head[start] === 32 || head[start] === 9) {
        throw new MalformedResponseError("Invalid header line");
      }
      const name = FRAMING_NAMES.get(colon - start);
      if (name === undefined || !sameLowercase(head, start, name)) continue;
      const value = latin1(head, colon + 1, end);
      if (name === "content-length") {
        // Repeated values (also "5, 5") must agree.
        for (const part of value.split(",")) {
          const v = part.trim();
          if (!/^\d{1,15}$/.test(v)) throw new MalformedResponseError("Invalid Content-Length");
          const n = Number(v);
          if (length >= 0 && n !== length) {
            throw new MalformedResponseError("Conflicting Content-Length");
          }
          length = n;
        }
      } else if (name === "transfer-encoding") {
        const codings = value.split(",").map((c) => c.trim().toLowerCase());
        chunked = codings.at(-1) === "chunked";
        otherCoding = !chunked;
      } else {
        const tokens = value.toLowerCase();
        if (/(^|,)\s*close\s*(,|$)/.test(tokens)) close = true;
        else if (http10 && /(^|,)\s*keep-alive\s*(,|$)/.test(tokens)) close = false;
      }
    }
    if (status >= 100 && status < 200) {
      // An interim answer (100 Continue, 103 Early Hints): the real one follows.
      if (status === 101) throw new MalformedResponseError("Unexpected protocol switch");
      return;
    }
    this.status = status;
    this.headDone = true;
    this.keepAlive = !close;
    if (status === 204 || status === 304) {
      this.#phase = Phase.Done;
    } else if (chunked) {
      this.#phase = Phase.ChunkSize;
    } else if (otherCoding) {
      this.#phase = Phase.UntilClose;
      this.keepAlive = false;
    } else if (length >= 0) {
      this.#remaining = length;
      this.#phase = length === 0 ? Phase.Done : Phase.Fixed;
    } else {
      this.#phase = Phase.UntilClose;
      this.keepAlive = false;
    }
  }

  /** Reads one CRLF-terminated line of the chunked framing. */
  #feedLine(chunk: Uint8Array, at: number): number {
    const lf = chunk.indexOf(10, at);
    const stop = lf < 0 ? chunk.length : lf;
    if (this.#line.length + (stop - at) > MAX_LINE_BYTES) {
      throw new MalformedResponseError("Chunked framing line too long");
    }
    this.#line += latin1(chunk, at, stop);
    if (lf < 0) return chunk.length;
    const line = this.#line.endsWith("\r") ? this.#line.slice(0, -1) : this.#line;
    this.#line = "";
    switch (this.#phase) {
      case Phase.ChunkSize: {
        const size = line.split(";", 1)[0]!.trim();
        if (!/^[0-9a-fA-F]{1,12}$/.test(size)) {
          throw new MalformedResponseError("Invalid chunk size");
        }
        this.#remaining = parseInt(size, 16);
        this.#phase = this.#remaining === 0 ? Phase.Trailer : Phase.ChunkData;
        break;
      }
      case Phase.ChunkDataEnd:
        if (line !== "") throw new MalformedResponseError("Missing CRLF after chunk");
        this.#phase = Phase.ChunkSize;
        break;
      default:
        // Trailer fields are skipped; the empty line ends the response.
        if (line === "") this.#phase = Phase.Done;
    }
    return lf + 1;
  }
}

/**
 * Index just past the blank line that ends a head in `b`, looking for its LF
 * from `from` and never before `start`; -1 when it is not there yet.
 */
function headEnd(b: Uint8Array, from: number, start: number): number {
  for (let i = b.indexOf(10, from); i >= 0; i = b.indexOf(10, i + 1)) {
    if (i - 1 >= start && b[i - 1] === 10) return i + 1;
    if (i - 2 >= start && b[i - 1] === 13 && b[i - 2] === 10) return i + 1;
  }
  return -1;
}
