/**
 * A spool file read while it is still being written: the building block for delivering a large
 * notify while its body still arrives (docs/decisions.md#delivered-while-it-arrives). The
 * writer reports each append with {@link GrowingSpool.wrote}; readers wait for more bytes on a
 * promise that every append, verification and abort settles, so nothing polls.
 *
 * Until {@link GrowingSpool.verify} is called, readers stop `holdBack` bytes short of the end, so
 * no reader can ever hand out a complete message whose SHA-512 has not been checked. After
 * {@link GrowingSpool.abort}, every reader fails with the abort's reason (which cuts an HTTP
 * request body mid-way, the way a network failure would).
 *
 * Each reader has its own descriptor and position and reads on demand (a pull stream with no
 * queue), so a slow reader holds no memory and never delays the writer or the other readers:
 * the file, not a buffer, is what grows.
 *
 * @module
 */

import {
  FileStream,
  readFileRange,
  readRangeRecentSync,
  RECENT_SPOOL_BYTES,
  type SpoolGate,
} from "./spool.ts";

/**
 * Why a message being delivered while it arrived was abandoned (its SHA-512 did not match, the
 * body was cut, the spool failed): every delivery still reading it fails with this.
 */
export class MessageAbandoned extends Error {
  /** `reason` says why (it is what the notifier's 400 says). */
  constructor(reason: string) {
    super(`Message abandoned: ${reason}`);
    this.name = "MessageAbandoned";
  }
}

/** Where a growing spool stands. */
export type GrowingState = "growing" | "verified" | "aborted";

/**
 * The shared view of one spool file being written: how many bytes are in it, and whether the
 * whole message was verified or abandoned.
 */
export class GrowingSpool implements SpoolGate {
  /** The file. */
  readonly path: string;
  /** The message's announced length. */
  readonly total: number;
  /** Bytes kept from readers until the digest matches (at least 1 when `total > 0`). */
  readonly holdBack: number;
  #written = 0;
  #state: GrowingState = "growing";
  #reason: MessageAbandoned | null = null;
  #wake: PromiseWithResolvers<void> = Promise.withResolvers();

  /** A view of `path`, which will hold `total` bytes; readers stay `holdBack` short until verified. */
  constructor(path: string, total: number, holdBack = 64 * 1024) {
    this.path = path;
    this.total = total;
    this.holdBack = total === 0 ? 0 : Math.min(total, Math.max(1, holdBack));
  }

  /** Where it stands. */
  get state(): GrowingState {
    return this.#state;
  }

  /** Bytes written so far. */
  get written(): number {
    return this.#written;
  }

  /** How many bytes from the start a reader may hand out now. */
  get readable(): number {
    if (this.#state === "verified") return this.#written;
    return Math.max(0, Math.min(this.#written, this.total - this.holdBack));
  }

  /** The writer appended `bytes` bytes (already in the file): wakes every waiting reader. */
  wrote(bytes: number): void {
    if (this.#state !== "growing" || bytes === 0) return;
    this.#written += bytes;
    this.#notify();
  }

  /** The whole body is written and its SHA-512 matched: readers may read to the end. */
  verify(): void {
    if (this.#state !== "growing") return;
    this.#state = "verified";
    this.#notify();
  }

  /** The message is abandoned (hash mismatch, short body, spool failure): every reader fails. */
  abort(reason: MessageAbandoned): void {
    if (this.#state !== "growing") return;
    this.#state = "aborted";
    this.#reason = reason;
    this.#notify();
  }

  /**
   * Resolves true once more than `position` bytes are readable: at least `atLeast` more, or all
   * that can be before {@link verify} (the held-back end), or the rest once verified. Resolves
   * false when there is nothing more to read; rejects with the reason once aborted.
   */
  async waitBeyond(position: number, atLeast = 1): Promise<boolean> {
    const target = Math.min(position + Math.max(1, atLeast), this.total - this.holdBack);
    for (;;) {
      if (this.#state === "aborted") throw this.#reason!;
      const readable = this.readable;
      if (this.#state === "verified") return readable > position;
      if (readable > position && readable >= target) return true;
      await this.#wake.promise;
    }
  }

  /** Throws the abort's reason once aborted. */
  check(): void {
    if (this.#state === "aborted") throw this.#reason!;
  }

  /**
   * A byte stream of `prefix` then the file from its start, which ends only after
   * {@link verify} and fails after {@link abort}: a {@link FileStream} with this as its gate,
   * so the HTTP client sends it with Content-Length straight from the file.
   */
  stream(prefix: Uint8Array = new Uint8Array(0)): FileStream {
    return new FileStream(prefix, this.path, this.total, this);
  }

  /**
   * Bytes `[start, end)` (a websocket part), once they are readable: the part holding the last
   * bytes waits for {@link verify}. Rejects with the reason once aborted.
   */
  async read(start: number, end: number, into?: Uint8Array): Promise<Uint8Array> {
    end = Math.min(end, this.total);
    while (this.readable < end) {
      if (!await this.waitBeyond(this.readable)) throw new Error("Spool file shorter than written");
    }
    // A part the intake has just written is in the page cache: read at once.
    const bytes = this.#written - start <= RECENT_SPOOL_BYTES
      ? readRangeRecentSync(this.path, start, end, into)
      : await readFileRange(this.path, start, end, into);
    this.check();
    return bytes;
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = Promise.withResolvers();
    wake.resolve();
  }
}
