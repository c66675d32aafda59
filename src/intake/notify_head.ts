/**
 * Reads the notify header (docs/protocol/http.md#notify) from the start of a
 * streamed body, holding at most {@link MAX_NOTIFY_HEADER_BYTES} bytes.
 *
 * @module
 */

import {
  MAX_NOTIFY_HEADER_BYTES,
  type NotifyHeader,
  ParseError,
  parseNotifyHeader,
} from "../protocol/mod.ts";
import { type ChunkReader, readChunk, UNREADABLE_BODY } from "./chunks.ts";

/** A parsed header plus the message bytes that arrived with it. */
export type NotifyHead = Head<NotifyHeader>;

/**
 * Reads chunks until the header parses. Bytes of a chunk beyond the largest
 * possible header are never copied; they are handed back in `rest`.
 */
export function readNotifyHead(reader: ChunkReader): Promise<NotifyHead> {
  return readHead(reader, parseNotifyHeader, MAX_NOTIFY_HEADER_BYTES, "notify");
}

/**
 * {@link readNotifyHead} of a body already whole in memory (a small request body read at once):
 * the same outcomes, without a reader or an await. `rest` is empty or one view into `body`.
 */
export function notifyHeadOf(body: Uint8Array): NotifyHead {
  const parsed = parseOrFail(
    parseNotifyHeader,
    body.length > MAX_NOTIFY_HEADER_BYTES ? body.subarray(0, MAX_NOTIFY_HEADER_BYTES) : body,
  );
  if (parsed === null) {
    return body.length >= MAX_NOTIFY_HEADER_BYTES
      ? { ok: false, reason: "The notify header is longer than possible" }
      : { ok: false, reason: "Truncated body: incomplete notify header" };
  }
  if ("reason" in parsed) return parsed;
  const { header, headerLength } = parsed;
  const rest = body.subarray(headerLength);
  return { ok: true, header, headerLength, rest: rest.length > 0 ? [rest] : [] };
}

/** A parsed header of any body that starts with one, its length, and the bytes after it. */
export type Head<T> =
  | {
    readonly ok: true;
    readonly header: T;
    /** Bytes the header took at the start of the body. */
    readonly headerLength: number;
    readonly rest: Uint8Array[];
  }
  | { readonly ok: false; readonly reason: string };

/**
 * Reads chunks until `parse` (null while too short, {@link ParseError} when
 * malformed) accepts the bytes, holding at most `max` bytes.
 */
export async function readHead<T>(
  reader: ChunkReader,
  parse: (b: Uint8Array) => { header: T; headerLength: number } | null,
  max: number,
  what: string,
): Promise<Head<T>> {
  let buf: Uint8Array | null = null;
  let used = 0;
  for (;;) {
    const next = await readChunk(reader);
    if (next === null) return { ok: false, reason: UNREADABLE_BODY };
    if (next.done) return { ok: false, reason: `Truncated body: incomplete ${what} header` };
    const value = next.value;
    if (buf === null) {
      // Usually the first chunk holds the whole header: parse it in place.
      const whole = parseOrFail(parse, value.subarray(0, max));
      if (whole === null) buf = new Uint8Array(4096);
      else if ("reason" in whole) return whole;
      else {
        const { header, headerLength } = whole;
        const rest = value.subarray(headerLength);
        return { ok: true, header, headerLength, rest: rest.length > 0 ? [rest] : [] };
      }
    }
    const take = Math.min(value.length, max - used);
    if (used + take > buf.length) {
      const next = new Uint8Array(Math.min(max, (used + take) * 2));
      next.set(buf.subarray(0, used));
      buf = next;
    }
    buf.set(value.subarray(0, take), used);
    used += take;
    const parsed = parseOrFail(parse, buf.subarray(0, used));
    if (parsed !== null && "reason" in parsed) return parsed;
    if (parsed !== null) {
      const rest = [buf.subarray(parsed.headerLength, used), value.subarray(take)]
        .filter((b) => b.length > 0);
      return { ok: true, header: parsed.header, headerLength: parsed.headerLength, rest };
    }
    if (used >= max) return { ok: false, reason: `The ${what} header is longer than possible` };
  }
}

/** `parse(b)`, with a {@link ParseError} turned into a failure. */
function parseOrFail<T>(
  parse: (b: Uint8Array) => { header: T; headerLength: number } | null,
  b: Uint8Array,
): { header: T; headerLength: number } | { ok: false; reason: string } | null {
  try {
    return parse(b);
  } catch (error) {
    if (error instanceof ParseError) return { ok: false, reason: error.message };
    throw error;
  }
}
