/**
 * Collects one incoming body of a declared length: in memory up to the spool
 * threshold, in a temp file above it, hashed either way, and turned into a
 * {@link Message} only when the length and the SHA-512 match.
 *
 * @module
 */

import { bytesEqual } from "../protocol/mod.ts";
import { sha512 } from "../crypto/sha512.ts";
import { ClientError } from "./errors.ts";
import { FileMessage, MemoryMessage, type Message, SharedFile } from "./message.ts";
import { type SpoolDir, SpoolWriter } from "./spool.ts";

/** One body being received. */
export class IncomingBody {
  readonly #length: number;
  readonly #memory: Uint8Array | null;
  readonly #spool: SpoolWriter | null;
  #at = 0;

  private constructor(length: number, spool: SpoolWriter | null) {
    this.#length = length;
    this.#spool = spool;
    this.#memory = spool === null ? new Uint8Array(length) : null;
  }

  /** Starts a body of `length` bytes; spooled when longer than `threshold`. */
  static async start(length: number, threshold: number, dir: SpoolDir): Promise<IncomingBody> {
    return new IncomingBody(length, length > threshold ? await SpoolWriter.create(dir) : null);
  }

  /** Bytes received so far. */
  get received(): number {
    return this.#at;
  }

  /**
   * Appends `chunk` (copied or written before this resolves).
   *
   * @throws {ClientError} `"protocol"` past the declared length
   */
  async push(chunk: Uint8Array): Promise<void> {
    if (this.#at + chunk.length > this.#length) {
      throw new ClientError("protocol", "Body longer than its declared length");
    }
    if (this.#memory !== null) this.#memory.set(chunk, this.#at);
    else await this.#spool!.write(chunk);
    this.#at += chunk.length;
  }

  /**
   * Ends the body and checks it against `expected` (null: no hash to check, e.g. decompressed output).
   *
   * @throws {ClientError} `"protocol"` when short or when the SHA-512 differs
   */
  async finish(topic: Uint8Array, expected: Uint8Array | null): Promise<Message> {
    if (this.#at !== this.#length) {
      await this.discard();
      throw new ClientError("protocol", "Body shorter than its declared length");
    }
    const digest = this.#memory !== null ? sha512(this.#memory) : await this.#spool!.finish();
    if (expected !== null && !bytesEqual(digest, expected)) {
      if (this.#spool !== null) await this.#spool.discard();
      throw new ClientError("protocol", "SHA-512 mismatch: the body is not the announced message");
    }
    return this.#memory !== null
      ? new MemoryMessage(topic, digest, this.#memory)
      : new FileMessage(topic, digest, this.#length, new SharedFile(this.#spool!.path));
  }

  /** Drops whatever was received. */
  async discard(): Promise<void> {
    await this.#spool?.discard();
  }
}
