/**
 * The little the notify intake needs from a body: chunks, one at a time.
 *
 * @module
 */

/** Anything that hands out chunks like a stream reader (`ReadableStreamDefaultReader` fits). */
export interface ChunkReader {
  /** The next chunk, or `done` at the end. */
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  /**
   * From now on, read into one buffer again and again: a chunk is then valid
   * only until the next `read`. For consumers that copy every chunk at once
   * (a message going to a spool file); absent where it cannot be done.
   */
  reuseBuffers?(): void;
}

/** Size of the fresh buffers a {@link ByobChunkReader} reads into (about one chunk's worth). */
const FRESH_BYTES = 64 * 1024;
/** Size of the one buffer it reuses. */
const REUSED_BYTES = 256 * 1024;

/**
 * A reader of a byte stream that reads into buffers it provides (BYOB),
 * fresh ones until {@link ChunkReader.reuseBuffers} is called, then one reused.
 * Reading a 1 GiB notify into one buffer kept our peak RSS at the idle level
 * plus a few MiB; with the default reader every 64 KiB chunk is a new
 * ArrayBuffer, and garbage grew it by ~70 MiB before a GC came.
 */
export class ByobChunkReader implements ChunkReader {
  readonly #reader: ReadableStreamBYOBReader;
  #recycled: Uint8Array | null = null;
  #reuse = false;

  private constructor(reader: ReadableStreamBYOBReader) {
    this.#reader = reader;
  }

  /** A BYOB reader of `body`, or null when it is not a byte stream (some runtimes). */
  static of(body: ReadableStream<Uint8Array>): ByobChunkReader | null {
    try {
      return new ByobChunkReader(body.getReader({ mode: "byob" }));
    } catch {
      return null;
    }
  }

  async read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    const target = !this.#reuse
      ? new Uint8Array(FRESH_BYTES)
      : this.#recycled !== null && this.#recycled.buffer.byteLength === REUSED_BYTES
      ? new Uint8Array(this.#recycled.buffer)
      : new Uint8Array(REUSED_BYTES);
    const next = await this.#reader.read(target);
    if (next.done) return END;
    // The read took over the buffer: the view it returned is the way back to it.
    this.#recycled = next.value;
    return next as ReadableStreamReadResult<Uint8Array>;
  }

  reuseBuffers(): void {
    this.#reuse = true;
  }

  /** Stops the body (see ReadableStreamBYOBReader.cancel). */
  cancel(reason?: unknown): Promise<void> {
    return this.#reader.cancel(reason);
  }

  /** Releases the stream's lock. */
  releaseLock(): void {
    this.#reader.releaseLock();
  }
}

const END: ReadableStreamReadResult<Uint8Array> = { done: true } as ReadableStreamReadDoneResult<
  Uint8Array
>;

/** A reader over bytes already in memory (one chunk, then the end). */
export function bytesReader(bytes: Uint8Array): ChunkReader {
  let given = bytes.length === 0;
  return {
    read() {
      if (given) return Promise.resolve(END);
      given = true;
      return Promise.resolve({ done: false, value: bytes });
    },
  };
}

/** Why a body read failed, as a 400 reason. */
export const UNREADABLE_BODY = "Request body could not be read (the client went away?)";

/**
 * Reads the next chunk; `null` when the body itself fails (the client
 * disconnected, a broken chunked encoding). Such a failure is the peer's doing
 * and ends the request with 400, never an unhandled error.
 */
export async function readChunk(
  reader: ChunkReader,
): Promise<ReadableStreamReadResult<Uint8Array> | null> {
  try {
    return await reader.read();
  } catch {
    return null;
  }
}
