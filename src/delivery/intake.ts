/**
 * Takes a notify message off the request stream (stateless-http.md §7.2
 * step 3): exact length (u64, bigint), incremental SHA-512, memory or a spool
 * file depending on the announced length. Nothing is ever concatenated.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { bytesEqual } from "../protocol/bytes.ts";
import { type ChunkReader, readChunk, UNREADABLE_BODY } from "./chunks.ts";
import { fileStream, SpoolFile } from "./spool.ts";

/**
 * A request body: bytes or a Blob (sent with Content-Length) or a stream
 * (sent chunked).
 */
export type OutgoingBody = Uint8Array | Blob | ReadableStream<Uint8Array>;

/**
 * Messages up to this size are sent as one fresh byte array per subscriber:
 * copying them costs less than assembling a Blob from parts per request.
 */
export const SMALL_MESSAGE_BYTES = 64 * 1024;

/** A verified message, ready to be sent to any number of subscribers. */
export interface HeldMessage {
  /** Message length M. */
  readonly length: bigint;
  /**
   * A fresh body: `prefix` then the message. Small messages: one byte array
   * (a copy per call). Larger ones in memory: a Blob sharing the message
   * bytes (no copy per call). Spooled: a stream reading the file
   * (its own descriptor per call, closed when the stream ends or is
   * cancelled). A stream, because Deno's `openAsBlob` reads the whole file
   * into memory and `fetch` sends any stream chunked, with no Content-Length.
   */
  withPrefix(prefix: Uint8Array): OutgoingBody;
  /** Deletes the spool file, if any. Idempotent; never throws. */
  dispose(): Promise<void>;
}

/** Outcome of {@link takeMessage}. */
export type Intake =
  | { readonly ok: true; readonly message: HeldMessage }
  | { readonly ok: false; readonly reason: string };

/** Where large messages go. */
export interface IntakeLimits {
  /** Messages announcing at most this many bytes stay in memory. */
  readonly spoolThresholdBytes: number;
  /** Directory for spool files. */
  readonly spoolDir: string;
}

/**
 * Reads exactly `length` message bytes: `first` (bytes that came with the
 * header) then the rest of `reader`. Stops reading as soon as the body is
 * longer than announced. On failure nothing is left on disk; on success the
 * caller must call `dispose` (in a finally). A throwing stream (client abort)
 * also leaves nothing behind.
 */
export async function takeMessage(
  reader: ChunkReader,
  first: readonly Uint8Array[],
  length: bigint,
  claimedSha512: Uint8Array,
  limits: IntakeLimits,
): Promise<Intake> {
  const hash = createHash("sha512");
  const inMemory = length <= BigInt(limits.spoolThresholdBytes);
  const chunks: Uint8Array[] = [];
  const spool = inMemory ? null : await SpoolFile.create(limits.spoolDir);
  let kept = false;
  try {
    let received = 0n;
    const accept = async (chunk: Uint8Array): Promise<boolean> => {
      if (chunk.length === 0) return true;
      received += BigInt(chunk.length);
      if (received > length) return false;
      hash.update(chunk);
      if (spool === null) chunks.push(chunk);
      else await spool.write(chunk);
      return true;
    };
    for (const chunk of first) {
      if (!await accept(chunk)) return { ok: false, reason: "Body longer than announced" };
    }
    for (;;) {
      const next = await readChunk(reader);
      if (next === null) return { ok: false, reason: UNREADABLE_BODY };
      if (next.done) break;
      if (!await accept(next.value)) return { ok: false, reason: "Body longer than announced" };
    }
    if (received < length) return { ok: false, reason: "Body shorter than announced" };
    if (!bytesEqual(new Uint8Array(hash.digest()), claimedSha512)) {
      return { ok: false, reason: "Message SHA-512 does not match" };
    }
    if (spool === null && length <= SMALL_MESSAGE_BYTES) {
      const bytes = concat(chunks, Number(length));
      kept = true;
      return {
        ok: true,
        message: {
          length,
          withPrefix: (prefix) => {
            const body = new Uint8Array(prefix.length + bytes.length);
            body.set(prefix);
            body.set(bytes, prefix.length);
            return body;
          },
          dispose: () => Promise.resolve(),
        },
      };
    }
    if (spool === null) {
      // One copy into the Blob; subscribers' Blobs then reference it.
      const blob = new Blob(chunks as Uint8Array<ArrayBuffer>[]);
      chunks.length = 0;
      kept = true;
      return {
        ok: true,
        message: {
          length,
          withPrefix: (prefix) => new Blob([prefix as Uint8Array<ArrayBuffer>, blob]),
          dispose: () => Promise.resolve(),
        },
      };
    }
    await spool.close();
    kept = true;
    return {
      ok: true,
      message: {
        length,
        withPrefix: (prefix) => fileStream(prefix, spool.path),
        dispose: () => spool.remove(),
      },
    };
  } finally {
    if (!kept) await spool?.remove();
  }
}

function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]!.length === length) return chunks[0]!;
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
