/**
 * Writing a request (head and body) to a {@link Sink}: small bodies copied
 * behind the head and written in one call, spool files read straight into
 * two alternating buffers (Content-Length), other streams chunked. Writes go
 * out in pieces of at most {@link WRITE_PIECE} bytes, so the sink sees the
 * upload progress (the outgoing rate rule of `client.ts`) even for one large
 * byte array.
 *
 * @module
 */

import type { OutgoingBody } from "../../core/message.ts";
import {
  FileStream,
  readRecentSync,
  RECENT_SPOOL_BYTES,
  type SpoolGate,
} from "../../core/spool.ts";
import { writeAscii } from "./request.ts";

/** One body as an attempt sends it (a factory already called). */
export type OneBody = OutgoingBody;

/** Where a request goes. */
export interface Sink {
  /** Writes all of `bytes` (resolves once the socket took them). */
  send(bytes: Uint8Array): Promise<void>;
  /** True once writing is pointless (the answer is in, or the request was stopped). */
  readonly stopped: boolean;
  /**
   * The writer waits (true) or stops waiting (false) for the body's source: a message delivered
   * while it still arrives. The upload rate rule does not count that time against the peer.
   */
  waiting?(on: boolean): void;
}

/** Bodies up to this size are copied behind the head and written in one call. */
export const COALESCE_BYTES = 64 * 1024;
/** Bytes per read of a spool file (two such buffers per transfer). */
const FILE_CHUNK = 512 * 1024;
/** Largest single write: progress is seen at least this often. */
export const WRITE_PIECE = 128 * 1024;

const ASCII = new TextEncoder();
const CRLF = new Uint8Array([13, 10]);
const LAST_CHUNK = ASCII.encode("0\r\n\r\n");

/** Size of a body, or -1 when unknown (sent chunked). */
export function bodySize(body: OneBody): number {
  if (body instanceof Uint8Array) return body.length;
  if (body instanceof Blob) return body.size;
  if (body instanceof FileStream && body.fileBytes >= 0) return body.prefix.length + body.fileBytes;
  return -1;
}

/** Releases a body that will not be sent. */
export async function discard(body: OneBody): Promise<void> {
  if (body instanceof ReadableStream) await body.cancel().catch(() => {});
}

/** Writes `bytes` in pieces of at most {@link WRITE_PIECE}; false when the sink stopped first. */
async function sendInPieces(sink: Sink, bytes: Uint8Array): Promise<boolean> {
  for (let at = 0; at < bytes.length; at += WRITE_PIECE) {
    if (sink.stopped) return false;
    await sink.send(bytes.subarray(at, Math.min(bytes.length, at + WRITE_PIECE)));
  }
  return true;
}

/** `head` (ASCII) and a small `body` in one new array: one write, one segment. */
export function smallRequest(head: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(head.length + body.length);
  writeAscii(head, out);
  out.set(body, head.length);
  return out;
}

/**
 * Writes `head` and `body` (`size` bytes, or -1: chunked). Resolves true once
 * all is written, false when the sink stopped first; rejects when a write or
 * a read of the body fails.
 */
export async function writeRequest(
  sink: Sink,
  head: string,
  body: OneBody,
  size: number,
): Promise<boolean> {
  if (body instanceof Uint8Array && body.length <= COALESCE_BYTES) {
    await sink.send(smallRequest(head, body));
    return true;
  }
  if (body instanceof FileStream && body.fileBytes >= 0) {
    const first = new Uint8Array(head.length + body.prefix.length);
    writeAscii(head, first);
    first.set(body.prefix, head.length);
    await sink.send(first);
    return await writeFile(sink, body.path, body.fileBytes, body.gate);
  }
  await sink.send(ASCII.encode(head));
  if (body instanceof Uint8Array) return await sendInPieces(sink, body);
  const stream = body instanceof Blob ? body.stream() : body;
  return await writeStream(sink, stream, size < 0);
}

/**
 * Copies `length` bytes of the file at `path` to the sink, reading the next part while the last
 * one is written. With a `gate` the file is still being written: each read waits until the gate
 * releases bytes, and the copy fails with the gate's reason once the message is abandoned (the
 * request is then cut before its body completes).
 */
async function writeFile(
  sink: Sink,
  path: string,
  length: number,
  gate: SpoolGate | null,
): Promise<boolean> {
  // Imported here, not at load: on Deno node:fs loads part of the Node
  // compatibility layer, which only deliveries of spooled messages need.
  const { open } = await import("node:fs/promises");
  const file = await open(path, "r");
  /**
   * Reads the next bytes at `at` into `buf`, as many as are released. Marked handled at once: it
   * may fail (abandoned) while the previous part is still being written, before it is awaited.
   */
  const readAt = (buf: Uint8Array, at: number): Promise<number> => {
    const read = readReleased(buf, at);
    read.catch(() => {});
    return read;
  };
  const readReleased = async (buf: Uint8Array, at: number): Promise<number> => {
    let limit = length;
    if (gate !== null) {
      if (gate.readable < Math.min(at + buf.length, length)) {
        sink.waiting?.(true);
        try {
          if (!await gate.waitBeyond(at, buf.length)) {
            throw new Error("Spool file shorter than the message");
          }
        } finally {
          sink.waiting?.(false);
        }
      }
      limit = Math.min(length, gate.readable);
    }
    const want = Math.min(buf.length, limit - at);
    // Bytes the intake has just written (a delivery keeping up with it): in the page cache.
    const bytesRead = gate !== null && gate.written - at <= RECENT_SPOOL_BYTES
      ? readRecentSync(file.fd, buf, want, at)
      : (await file.read(buf, 0, want, at)).bytesRead;
    gate?.check();
    if (bytesRead === 0) throw new Error("Spool file shorter than the message");
    return bytesRead;
  };
  let reading: Promise<number> | null = null;
  try {
    let spare = new Uint8Array(Math.min(FILE_CHUNK, Math.max(1, length)));
    let current = new Uint8Array(spare.length);
    let position = 0;
    reading = length > 0 ? readAt(current, 0) : null;
    while (reading !== null) {
      const bytesRead = await reading;
      position += bytesRead;
      // Read the next part while this one is being written.
      reading = position < length && !sink.stopped ? readAt(spare, position) : null;
      const sent = await sendInPieces(sink, current.subarray(0, bytesRead));
      [current, spare] = [spare, current];
      if (!sent || (reading === null && position < length)) return false;
    }
    return position === length;
  } finally {
    await reading?.catch(() => {});
    await file.close();
  }
}

/** Copies a stream to the sink, in chunked framing when `chunked`. */
async function writeStream(
  sink: Sink,
  stream: ReadableStream<Uint8Array>,
  chunked: boolean,
): Promise<boolean> {
  const reader = stream.getReader();
  try {
    for (;;) {
      if (sink.stopped) return false;
      const next = await reader.read();
      if (next.done) break;
      if (next.value.length === 0) continue;
      if (chunked) await sink.send(ASCII.encode(`${next.value.length.toString(16)}\r\n`));
      if (!await sendInPieces(sink, next.value)) return false;
      if (chunked) await sink.send(CRLF);
    }
    if (chunked) await sink.send(LAST_CHUNK);
    return true;
  } finally {
    await reader.cancel().catch(() => {});
  }
}
