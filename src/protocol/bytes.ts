/**
 * Byte-level building blocks shared by every codec: a bounds-checked reader
 * that fails with {@link ParseError}, a growable writer, and strict UTF-8.
 *
 * All integers on the wire are unsigned big-endian.
 *
 * @module
 */

/** The only error a parser throws; routes turn it into 400 with its message. */
export class ParseError extends Error {
  /** Creates a parse error whose message is safe to show to the peer. */
  constructor(message: string) {
    super(message);
    this.name = "ParseError";
  }
}

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const UTF8 = new TextEncoder();

/**
 * Decodes strict UTF-8 (overlongs, surrogates and code points above U+10FFFF
 * rejected; a leading BOM kept, as Python does).
 *
 * @throws {ParseError} when `bytes` is not valid UTF-8
 */
export function decodeUtf8(bytes: Uint8Array, field: string): string {
  // Short ASCII (urls, most topics): one character per byte, no runtime call.
  if (bytes.length <= ASCII_FAST_PATH) {
    let ascii = true;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i]! > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  }
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    throw new ParseError(`Invalid UTF-8 in ${field}`);
  }
}

/** Returns true when `bytes` is valid UTF-8. */
export function isUtf8(bytes: Uint8Array): boolean {
  try {
    STRICT_UTF8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Encodes a string as UTF-8. */
export function encodeUtf8(text: string): Uint8Array {
  if (text.length <= ASCII_FAST_PATH && isAscii(text)) {
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
    return out;
  }
  return UTF8.encode(text);
}

/**
 * Strings up to this long are checked for ASCII and copied byte by byte:
 * cheaper than a call into the runtime's encoder (an op in Deno), and most
 * strings we encode (trace names, authorization values) are short ASCII.
 */
const ASCII_FAST_PATH = 256;

/** Whether every UTF-16 unit of `text` is below 0x80 (so its UTF-8 is one byte per unit). */
function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** A cursor over a byte array; every read checks bounds. */
export class Reader {
  #bytes: Uint8Array;
  #view: DataView;
  #offset = 0;

  /** Reads from `bytes`, starting at offset 0. */
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes consumed so far. */
  get offset(): number {
    return this.#offset;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  #need(n: number, field: string): void {
    if (this.remaining < n) throw new ParseError(`Truncated body: missing ${field}`);
  }

  /** Reads a u8. */
  u8(field: string): number {
    this.#need(1, field);
    return this.#view.getUint8(this.#offset++);
  }

  /** Reads a big-endian u16. */
  u16(field: string): number {
    this.#need(2, field);
    const v = this.#view.getUint16(this.#offset);
    this.#offset += 2;
    return v;
  }

  /** Reads a big-endian u32. */
  u32(field: string): number {
    this.#need(4, field);
    const v = this.#view.getUint32(this.#offset);
    this.#offset += 4;
    return v;
  }

  /** Reads a big-endian u64 as a bigint. */
  u64(field: string): bigint {
    this.#need(8, field);
    const v = this.#view.getBigUint64(this.#offset);
    this.#offset += 8;
    return v;
  }

  /** Reads a big-endian IEEE-754 double. */
  f64(field: string): number {
    this.#need(8, field);
    const v = this.#view.getFloat64(this.#offset);
    this.#offset += 8;
    return v;
  }

  /** Reads `n` bytes (a view, not a copy). */
  bytes(n: number, field: string): Uint8Array {
    this.#need(n, field);
    const v = this.#bytes.subarray(this.#offset, this.#offset + n);
    this.#offset += n;
    return v;
  }

  /** Reads `lp16`: a u16 length then that many bytes. */
  lp16(field: string): Uint8Array {
    return this.bytes(this.u16(field), field);
  }

  /** Reads `lp8`: a u8 length then that many bytes. */
  lp8(field: string): Uint8Array {
    return this.bytes(this.u8(field), field);
  }

  /** Reads `lp16` and decodes it as strict UTF-8. */
  lp16Text(field: string): string {
    return decodeUtf8(this.lp16(field), field);
  }

  /** Reads `lp16` UTF-8 where length 0 means "absent" (recovery urls, authorization). */
  lp16OptionalText(field: string): string | null {
    const b = this.lp16(field);
    return b.length === 0 ? null : decodeUtf8(b, field);
  }

  /** @throws {ParseError} when bytes are left after the last field */
  end(): void {
    if (this.remaining !== 0) {
      throw new ParseError(`Unexpected ${this.remaining} trailing byte(s) after the message`);
    }
  }
}

const SCRATCH = new Uint8Array(8);
const SCRATCH_VIEW = new DataView(SCRATCH.buffer);

/** A growable big-endian writer. Length prefixes are checked, never truncated. */
export class Writer {
  #buf: Uint8Array;
  #len = 0;

  /** Starts with room for `capacity` bytes (it grows as needed). */
  constructor(capacity = 64) {
    // Integers are written byte by byte: no DataView per message.
    this.#buf = new Uint8Array(capacity);
  }

  #reserve(n: number): number {
    const at = this.#len;
    const need = at + n;
    if (need > this.#buf.length) {
      const next = new Uint8Array(Math.max(need, this.#buf.length * 2));
      next.set(this.#buf.subarray(0, at));
      this.#buf = next;
    }
    this.#len = need;
    return at;
  }

  /** Writes a u8. */
  u8(v: number): this {
    const value = checkUint(v, 0xff, "u8");
    // Reserve first: it may replace #buf, which must be read afterwards.
    const at = this.#reserve(1);
    this.#buf[at] = value;
    return this;
  }

  /** Writes a big-endian u16. */
  u16(v: number): this {
    const value = checkUint(v, 0xffff, "u16");
    const at = this.#reserve(2);
    const buf = this.#buf;
    buf[at] = value >>> 8;
    buf[at + 1] = value & 0xff;
    return this;
  }

  /** Writes a big-endian u32. */
  u32(v: number): this {
    const value = checkUint(v, 0xffffffff, "u32");
    const at = this.#reserve(4);
    const buf = this.#buf;
    buf[at] = value >>> 24;
    buf[at + 1] = (value >>> 16) & 0xff;
    buf[at + 2] = (value >>> 8) & 0xff;
    buf[at + 3] = value & 0xff;
    return this;
  }

  /** Writes a big-endian u64. */
  u64(v: bigint | number): this {
    const b = BigInt(v);
    if (b < 0n || b > 0xffffffffffffffffn) throw new RangeError(`Value out of range for u64: ${b}`);
    const high = Number(b >> 32n);
    const low = Number(b & 0xffffffffn);
    return this.u32(high).u32(low);
  }

  /** Writes a big-endian IEEE-754 double. */
  f64(v: number): this {
    SCRATCH_VIEW.setFloat64(0, v);
    return this.bytes(SCRATCH);
  }

  /** Writes raw bytes. */
  bytes(b: Uint8Array): this {
    const at = this.#reserve(b.length);
    this.#buf.set(b, at);
    return this;
  }

  /** Writes `lp16(b)`; strings are UTF-8 encoded. */
  lp16(b: Uint8Array | string): this {
    if (typeof b === "string" && b.length <= ASCII_FAST_PATH && isAscii(b)) {
      return this.u16(b.length).#ascii(b);
    }
    const bytes = typeof b === "string" ? UTF8.encode(b) : b;
    return this.u16(bytes.length).bytes(bytes);
  }

  /** Writes `lp8(b)`. */
  lp8(b: Uint8Array | string): this {
    if (typeof b === "string" && b.length <= ASCII_FAST_PATH && isAscii(b)) {
      return this.u8(b.length).#ascii(b);
    }
    const bytes = typeof b === "string" ? UTF8.encode(b) : b;
    return this.u8(bytes.length).bytes(bytes);
  }

  /** Writes an ASCII string's bytes (no intermediate array). */
  #ascii(text: string): this {
    const at = this.#reserve(text.length);
    const buf = this.#buf;
    for (let i = 0; i < text.length; i++) buf[at + i] = text.charCodeAt(i);
    return this;
  }

  /** Writes an optional text as `lp16`, absent as length 0. */
  lp16Optional(text: string | null | undefined): this {
    return this.lp16(text ?? "");
  }

  /** The bytes written so far (a view of the internal buffer). */
  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }
}

function checkUint(v: number, max: number, kind: string): number {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new RangeError(`Value out of range for ${kind}: ${v}`);
  }
  return v;
}

/** Lower-case hex of `bytes` (tests, logs). */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** Parses lower- or upper-case hex. */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new ParseError("Invalid hex");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Bytewise comparison (memcmp order, shorter prefix first). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Byte equality (not constant time; use auth helpers for secrets). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compareBytes(a, b) === 0;
}

/**
 * Runs `read` over `b` and maps "ran out of bytes" to null. Valid only for
 * layouts with no field-level validation, where truncation is the sole error.
 */
export function parseIncrementally<T>(b: Uint8Array, read: (r: Reader) => T): T | null {
  try {
    return read(new Reader(b));
  } catch (e) {
    if (e instanceof ParseError) return null;
    throw e;
  }
}

/**
 * `parts` back to back in one buffer of `length` bytes (their total): the one part itself, not a
 * copy, when there is only one.
 */
export function concatParts(parts: readonly Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1 && parts[0]!.length === length) return parts[0]!;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
