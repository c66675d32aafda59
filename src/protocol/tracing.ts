/**
 * The "simple" tracing format that RESPONSE_NOTIFY must carry
 * (docs/protocol/http.md#tracing): `u8 truncated`, `u16 N`, N × (`lp16 name`,
 * `lp16 extra JSON`, `f64 at`), `u64 receivedAtNs`, `u64 sentAtNs`.
 *
 * The official client crashes on empty tracing or zero entries, so the notify
 * route must always send at least one entry.
 *
 * @module
 */

import { ParseError, Reader, Writer } from "./bytes.ts";

/** One trace entry. */
export interface TraceEntry {
  /** Entry name, e.g. `no_more_subscribers` (ASCII in practice). */
  name: string;
  /** Extra data as JSON text, e.g. `{}`. */
  extra: string;
  /** When it happened, epoch seconds (written as a big-endian f64). */
  at: number;
}

/** Decoded simple tracing. */
export interface SimpleTracing {
  /** True when entries were dropped to fit 65 535 bytes. */
  truncated: boolean;
  /** The entries kept. */
  entries: TraceEntry[];
  /** Epoch nanoseconds when the request arrived. */
  receivedAtNs: bigint;
  /** Epoch nanoseconds when the response was built. */
  sentAtNs: bigint;
}

/** The reference drops the entry that makes the buffer reach this many bytes. */
const TRUNCATE_AT = 0x10000 - 17;

/**
 * Encodes simple tracing. Applies the reference's truncation rule: an entry
 * after which the buffer would reach 65 519 bytes is dropped with every later
 * one, the flag is set and the count lowered, so the result is ≤ 65 534 bytes.
 * Lengths are UTF-8 byte counts (the reference counts characters, equal for
 * the ASCII it writes).
 *
 * @throws {RangeError} when a timestamp does not fit a u64
 */
export function encodeSimpleTracing(
  entries: readonly TraceEntry[],
  receivedAtNs: bigint,
  sentAtNs: bigint,
): Uint8Array {
  let kept = 0;
  let size = 3;
  for (const e of entries) {
    const next = size + 4 + utf8Length(e.name) + utf8Length(e.extra) + 8;
    if (next >= TRUNCATE_AT) break;
    kept++;
    size = next;
  }
  const w = new Writer(size + 16).u8(kept < entries.length ? 1 : 0).u16(kept);
  for (let i = 0; i < kept; i++) {
    const e = entries[i]!;
    w.lp16(e.name).lp16(e.extra).f64(e.at);
  }
  return w.u64(receivedAtNs).u64(sentAtNs).finish();
}

/** UTF-8 length of `text`, without encoding it. */
function utf8Length(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      // A surrogate pair: 4 bytes for 2 units.
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2;
        i++;
      } else n += 2;
    } else n += 2;
  }
  return n;
}

/**
 * Decodes simple tracing. The flag must be 0 or 1, names and extras strict
 * UTF-8, and nothing may follow the two timestamps.
 */
export function parseSimpleTracing(b: Uint8Array): SimpleTracing {
  const r = new Reader(b);
  const flag = r.u8("truncated flag");
  if (flag > 1) throw new ParseError(`Invalid truncated flag: ${flag}`);
  const entries: TraceEntry[] = [];
  for (let n = r.u16("entry count"); n > 0; n--) {
    const name = r.lp16Text("trace name");
    const extra = r.lp16Text("trace extra");
    entries.push({ name, extra, at: r.f64("trace time") });
  }
  const receivedAtNs = r.u64("request received time");
  const sentAtNs = r.u64("response sent time");
  r.end();
  return { truncated: flag === 1, entries, receivedAtNs, sentAtNs };
}
