/**
 * Framing of the stateful (websocket) protocol (docs/protocol/websocket.md#framing):
 * `u16 flags | u16 type | headers | body`, where the headers are either
 * minimal (values only, in a fixed order) or expanded (a count, then named
 * values).
 *
 * @module
 */

import { decodeUtf8, ParseError, Reader } from "../bytes.ts";

/** Flag bit 0: the headers are minimal (values only, in the documented order). */
export const MINIMAL_HEADERS = 1;

/** Longest header value (and name): the u16 length prefix. */
export const MAX_HEADER_BYTES = 0xffff;

/** The header names of one message layout, in minimal-header order. */
export interface HeaderLayout {
  /** Lower-case names, as the expanded form writes them. */
  readonly names: readonly string[];
  /** The same names as ASCII bytes. */
  readonly ascii: readonly Uint8Array[];
}

/** Builds a {@link HeaderLayout} from lower-case ASCII header names. */
export function headerLayout(...names: string[]): HeaderLayout {
  return { names, ascii: names.map((n) => Uint8Array.from(n, (c) => c.charCodeAt(0))) };
}

/**
 * Reads one frame's prefix, then its header values by name: in minimal form
 * each call takes the next value (so callers ask in layout order); in
 * expanded form it looks the name up (names lower-cased, last repeat wins,
 * unknown names ignored).
 */
export class FrameReader {
  /** The message type (not yet checked against any direction). */
  readonly type: number;
  /** True when the headers are minimal. */
  readonly minimal: boolean;
  #frame: Uint8Array;
  #reader: Reader;
  #named: Map<string, Uint8Array> | null = null;

  /**
   * Reads flags and type.
   *
   * @throws {ParseError} when the frame is shorter than 4 bytes or has flag bits other than bit 0
   *   (docs/decisions.md#strictness-the-client-never-notices)
   */
  constructor(frame: Uint8Array) {
    this.#frame = frame;
    this.#reader = new Reader(frame);
    const flags = this.#reader.u16("flags");
    if ((flags & ~MINIMAL_HEADERS) !== 0) {
      throw new ParseError(`Unknown flag bits: 0x${flags.toString(16)}`);
    }
    this.minimal = flags === MINIMAL_HEADERS;
    this.type = this.#reader.u16("type");
  }

  /** The next (minimal) or the named (expanded) header value; missing → ParseError. */
  value(name: string): Uint8Array {
    const v = this.optional(name);
    if (v === undefined) throw new ParseError(`Missing header: ${name}`);
    return v;
  }

  /** Like {@link value}, but an expanded header that is absent is `undefined`. */
  optional(name: string): Uint8Array | undefined {
    if (this.minimal) return this.#reader.lp16(name);
    return this.#expanded().get(name);
  }

  /** Everything after the headers (a view of the frame). Call after the last header. */
  body(): Uint8Array {
    if (!this.minimal) this.#expanded();
    return this.#frame.subarray(this.#reader.offset);
  }

  #expanded(): Map<string, Uint8Array> {
    if (this.#named !== null) return this.#named;
    const r = this.#reader;
    const named = new Map<string, Uint8Array>();
    for (let count = r.u16("header count"); count > 0; count--) {
      const raw = r.lp16("header name");
      for (const b of raw) {
        if (b >= 0x80) throw new ParseError("Invalid header name: not ASCII");
      }
      named.set(decodeUtf8(raw, "header name").toLowerCase(), r.lp16("header value"));
    }
    this.#named = named;
    return named;
  }
}

/**
 * Encodes a frame into one buffer sized up front. `values` follow `layout`'s
 * order and may stop early (the later headers are then absent).
 *
 * @throws {RangeError} when a value exceeds {@link MAX_HEADER_BYTES}
 */
export function encodeFrame(
  type: number,
  minimal: boolean,
  layout: HeaderLayout,
  values: readonly Uint8Array[],
  body: Uint8Array,
): Uint8Array {
  let size = minimal ? 4 : 6;
  for (let i = 0; i < values.length; i++) {
    const len = values[i]!.length;
    if (len > MAX_HEADER_BYTES) {
      throw new RangeError(
        `Header too long: ${layout.names[i]} is ${len} bytes, at most ${MAX_HEADER_BYTES}`,
      );
    }
    size += 2 + len + (minimal ? 0 : 2 + layout.ascii[i]!.length);
  }
  const out = new Uint8Array(size + body.length);
  out[1] = minimal ? MINIMAL_HEADERS : 0;
  out[2] = type >> 8;
  out[3] = type & 0xff;
  let at = 4;
  if (!minimal) {
    out[4] = values.length >> 8;
    out[5] = values.length & 0xff;
    at = 6;
  }
  for (let i = 0; i < values.length; i++) {
    if (!minimal) at = put(out, at, layout.ascii[i]!);
    at = put(out, at, values[i]!);
  }
  out.set(body, at);
  return out;
}

function put(out: Uint8Array, at: number, v: Uint8Array): number {
  out[at] = v.length >> 8;
  out[at + 1] = v.length & 0xff;
  out.set(v, at + 2);
  return at + 2 + v.length;
}
