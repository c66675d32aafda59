/**
 * The little the notify intake needs from a body: chunks, one at a time.
 *
 * @module
 */

/** Anything that hands out chunks like a stream reader (`ReadableStreamDefaultReader` fits). */
export interface ChunkReader {
  /** The next chunk, or `done` at the end. */
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
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
