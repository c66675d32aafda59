/**
 * Hand-built zstd frames (RFC 8878 §3.1) for hostile-input tests: raw-block
 * frames with or without a content size, and RLE bombs that expand a few
 * bytes per 128 KiB block. Built by hand so they need no compressor and say
 * exactly what they declare.
 *
 * @module
 */

const MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
const MAX_BLOCK = 128 << 10;

/** A window descriptor byte for a window of 2^`log` bytes (10 ≤ log ≤ 41). */
function windowDescriptor(log: number): number {
  return (log - 10) << 3;
}

function blockHeader(last: boolean, type: 0 | 1, size: number): number[] {
  const v = (last ? 1 : 0) | (type << 1) | (size << 3);
  return [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff];
}

/**
 * One raw block holding `data` (≤ 128 KiB). `declare` writes a 4-byte content
 * size field with that value (which may lie); otherwise there is none.
 */
export function rawFrame(data: Uint8Array, declare?: number): Uint8Array {
  const header = declare === undefined
    ? [0x00, windowDescriptor(17)] // no size, window 128 KiB
    : [0x80, windowDescriptor(17), ...u32le(declare)]; // 4-byte content size
  return new Uint8Array([...MAGIC, ...header, ...blockHeader(true, 0, data.length), ...data]);
}

/**
 * `blocks` RLE blocks of 128 KiB each (4 bytes per block on the wire), no
 * content size, a window of 2^`windowLog` bytes: a few KiB that expand to
 * `blocks` × 128 KiB.
 */
export function rleBomb(blocks: number, windowLog = 17): Uint8Array {
  const out = [...MAGIC, 0x00, windowDescriptor(windowLog)];
  for (let i = 0; i < blocks; i++) out.push(...blockHeader(i === blocks - 1, 1, MAX_BLOCK), 0x41);
  return new Uint8Array(out);
}

function u32le(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}
