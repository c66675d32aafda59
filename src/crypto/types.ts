/**
 * What the broadcaster needs from SHA-512: one-shot digests, HMAC under a
 * fixed key, and incremental digests of large messages that may hash on
 * another thread while the caller keeps reading.
 *
 * @module
 */

/** An incremental SHA-512. */
export interface Sha512Stream {
  /**
   * Adds `chunk`. When it returns a promise, the bytes are being hashed
   * elsewhere: the caller must not change `chunk`, nor add more, until it
   * resolves. Otherwise the chunk was consumed before returning.
   */
  update(chunk: Uint8Array): void | Promise<void>;
  /** The 64-byte digest; the stream is then finished. */
  digest(): Uint8Array;
  /** Releases the stream without a digest (an aborted message). Idempotent. */
  dispose(): void;
}

/** One SHA-512 implementation. */
export interface Sha512Backend {
  /** Names it, for logs and the bench. */
  readonly name: string;
  /** SHA-512 of `bytes`. */
  digest(bytes: Uint8Array): Uint8Array;
  /**
   * A stream; `offThread` asks for one whose updates hash on another thread
   * (large messages), where the backend can.
   */
  stream(offThread: boolean): Sha512Stream;
  /** HMAC-SHA512 under `key` (at most 128 bytes), as a function of the message. */
  hmac(key: Uint8Array): (message: Uint8Array) => Uint8Array;
}
