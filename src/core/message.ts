/**
 * A verified notify message as both transports and the fan-out hold it.
 *
 * @module
 */

/**
 * A request body: bytes or a Blob (sent with Content-Length) or a stream
 * (sent chunked).
 */
export type OutgoingBody = Uint8Array | Blob | ReadableStream<Uint8Array>;

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
  /**
   * Bytes `[start, end)` of the message (a websocket part); never more than
   * asked. With `into` (exactly `end - start` bytes) they are read straight
   * into it, and it is returned: no intermediate buffer.
   */
  read(start: number, end: number, into?: Uint8Array): Promise<Uint8Array>;
  /**
   * A spooled message's parts read through one open file for a whole delivery (close the reader
   * when done), instead of an open per {@link read}. Absent for messages held in memory.
   */
  parts?(): PartReader;
  /** True when the bytes live in memory (they count against queue limits). */
  readonly inMemory: boolean;
  /**
   * True once a message delivered while it arrived was abandoned (it failed its SHA-512, or its
   * body was cut): what its deliveries could not deliver is not a missed message.
   */
  readonly abandoned?: boolean;
  /**
   * Keeps the message readable after its owner's {@link dispose}, for a
   * delivery that outlives the request (a websocket queue). Call the returned
   * function once when done (it resolves once a spool file that nobody
   * holds any more is deleted); the file goes when the owner and every
   * retainer are done.
   */
  retain(): () => Promise<void>;
  /** The owner is done with it (deletes the spool file once nobody retains it). Idempotent. */
  dispose(): Promise<void>;
}

/** Parts of one message read one after another (see {@link HeldMessage.parts}). */
export interface PartReader {
  /** Bytes `[start, end)` read into `into` (exactly `end - start` bytes), which is returned. */
  read(start: number, end: number, into: Uint8Array): Promise<Uint8Array>;
  /** Done reading: closes the file. Idempotent; never throws. */
  close(): Promise<void>;
}

/** A verified notify message as the fan-out sends it. */
export interface OutgoingMessage {
  /** Topic bytes. */
  readonly topic: Uint8Array;
  /** SHA-512 of the message. */
  readonly sha512: Uint8Array;
  /** The message as the intake holds it (never copied per subscriber). */
  readonly message: HeldMessage;
}
