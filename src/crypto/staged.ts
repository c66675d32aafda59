/**
 * SHA-512 of a large message arriving in chunks of any size: the chunks are
 * gathered into 1 MiB blocks, and each full block is hashed on another thread
 * where the backend can (libcrypto in Deno) while the next block fills. Two
 * blocks alternate: one filling, one being hashed.
 *
 * @module
 */

import { sha512Stream } from "./sha512.ts";
import type { Sha512Stream } from "./types.ts";

/** Bytes hashed per call (two such blocks are held). */
export const BLOCK_BYTES = 1024 * 1024;

/** An incremental SHA-512 for large messages (at most `length` bytes, when known). */
export class StagedSha512 {
  readonly #hash: Sha512Stream;
  #filling: Uint8Array;
  #spare: Uint8Array;
  #used = 0;
  /** The previous block's hash when it runs elsewhere; its buffer is busy until it ends. */
  #hashing: void | Promise<void> = undefined;

  /** Blocks are smaller than {@link BLOCK_BYTES} for a message known to be smaller. */
  constructor(length = Infinity) {
    this.#hash = sha512Stream(true);
    const size = Math.min(BLOCK_BYTES, Math.max(1, length));
    this.#filling = new Uint8Array(size);
    this.#spare = new Uint8Array(size);
  }

  /** Takes a copy of `chunk` (which the caller may reuse once this resolves). */
  async update(chunk: Uint8Array): Promise<void> {
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(chunk.length - at, this.#filling.length - this.#used);
      this.#filling.set(chunk.subarray(at, at + take), this.#used);
      this.#used += take;
      at += take;
      if (this.#used === this.#filling.length) await this.#hashBlock();
    }
  }

  /** Hashes what is left; the digest. */
  async digest(): Promise<Uint8Array> {
    if (this.#used > 0) await this.#hashBlock();
    await this.#hashing;
    return this.#hash.digest();
  }

  /** Stops (no digest). */
  async dispose(): Promise<void> {
    this.#hash.dispose();
    try {
      await this.#hashing;
    } catch {
      // A hash that failed: nothing more to report.
    }
  }

  /** Starts hashing the filled block once the previous block's hash is done. */
  async #hashBlock(): Promise<void> {
    const block = this.#filling.subarray(0, this.#used);
    await this.#hashing;
    this.#hashing = this.#hash.update(block);
    // The spare's hash has ended (awaited just above): it can fill now.
    [this.#filling, this.#spare] = [this.#spare, this.#filling];
    this.#used = 0;
  }
}
