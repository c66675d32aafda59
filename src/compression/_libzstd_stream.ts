/**
 * Streaming compression and decompression of one frame over libzstd's
 * `*_simpleArgs` calls, with one 128 KiB output buffer per stream. The
 * decoder caps each call's output at what the limit still allows, so a bomb
 * stops after at most limit + 1 bytes.
 *
 * @module
 */

import { closed, tooLarge, trailingBytes, truncated } from "./errors.ts";
import type { LibDictionary } from "./_libzstd_dict.ts";
import type { Lifetime } from "./_lifetime.ts";
import { check, type ContextPool, Positions, STREAM_BUFFER_BYTES, ZSTD } from "./_native.ts";
import type { LibZstd, Ptr } from "./_symbols.ts";
import type { ZstdStreamCompressor, ZstdStreamDecompressor } from "./types.ts";

/** Settings a backend resolved for one stream. */
export interface StreamSetup {
  /** The library. */
  readonly lib: LibZstd;
  /** Where contexts come from and go back to. */
  readonly pool: ContextPool;
  /** The backend's users; the stream is one until it closes. */
  readonly lifetime: Lifetime;
  /** The leased dictionary, released when the stream closes. */
  readonly dictionary: LibDictionary | undefined;
}

/** What a stream holds natively, and how to hand it back. */
interface Held {
  readonly setup: StreamSetup;
  readonly ctx: Ptr;
  readonly giveBack: (pool: ContextPool, ctx: Ptr) => void;
}

function handBack(held: Held): void {
  held.giveBack(held.setup.pool, held.ctx);
  held.setup.dictionary?.release();
  held.setup.lifetime.leave();
}

// A stream dropped without close() still returns its context and its lease.
const finalizer = new FinalizationRegistry<Held>(handBack);

abstract class Stream implements Disposable {
  protected readonly lib: LibZstd;
  protected readonly pos = new Positions();
  protected readonly out = new Uint8Array(STREAM_BUFFER_BYTES);
  #held: Held | undefined;
  #failure: unknown;

  /** `giveBack` must not refer to the stream, or the finalizer could never run. */
  constructor(setup: StreamSetup, ctx: Ptr, giveBack: Held["giveBack"]) {
    this.lib = setup.lib;
    this.#held = { setup, ctx, giveBack };
    finalizer.register(this, this.#held, this);
  }

  protected ctx(): Ptr {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#held === undefined) throw closed("stream");
    return this.#held.ctx;
  }

  /**
   * Runs `step` now (libzstd is synchronous) and settles with its result; a
   * failure closes the stream (its context is mid-frame) and repeats on later calls.
   */
  protected guarded<T>(step: () => T): Promise<T> {
    try {
      return Promise.resolve(step());
    } catch (e) {
      this.#failure ??= e;
      this.close();
      return Promise.reject(e);
    }
  }

  close(): void {
    if (this.#held === undefined) return;
    finalizer.unregister(this);
    handBack(this.#held);
    this.#held = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** A {@link ZstdStreamCompressor} over a `ZSTD_CCtx`. */
export class LibStreamCompressor extends Stream implements ZstdStreamCompressor {
  /** Takes a context configured by the backend. */
  constructor(setup: StreamSetup, cctx: Ptr) {
    super(setup, cctx, (pool, c) => pool.giveC(c));
  }

  push(chunk: Uint8Array): Promise<Uint8Array[]> {
    return this.guarded(() => this.#run(chunk, ZSTD.e_continue));
  }

  finish(): Promise<Uint8Array[]> {
    return this.guarded(() => {
      const rest = this.#run(new Uint8Array(0), ZSTD.e_end);
      this.close();
      return rest;
    });
  }

  #run(chunk: Uint8Array, end: number): Uint8Array[] {
    const cctx = this.ctx();
    const produced: Uint8Array[] = [];
    const { out, pos } = this;
    pos.set(0, 0);
    for (;;) {
      const r = check(
        this.lib,
        this.lib.symbols.ZSTD_compressStream2_simpleArgs(
          cctx,
          out,
          out.length,
          pos.dst,
          chunk,
          chunk.length,
          pos.src,
          end,
        ),
        "Zstd compression failed",
      );
      if (pos.dstPos > 0) produced.push(out.slice(0, pos.dstPos));
      // e_continue: done once the input is taken (libzstd keeps partial blocks);
      // e_end: done when nothing is left to flush.
      if (end === ZSTD.e_end ? r === 0 : pos.srcPos === chunk.length) return produced;
      pos.set(0, pos.srcPos);
    }
  }
}

/** A {@link ZstdStreamDecompressor} over a `ZSTD_DCtx`. */
export class LibStreamDecompressor extends Stream implements ZstdStreamDecompressor {
  readonly #limit: number;
  #total = 0;
  #ended = false;

  /** Takes a context configured by the backend; `limit` is `maxOutputBytes`. */
  constructor(setup: StreamSetup, dctx: Ptr, limit: number) {
    super(setup, dctx, (pool, c) => pool.giveD(c));
    this.#limit = limit;
  }

  get outputBytes(): number {
    return this.#total;
  }

  push(chunk: Uint8Array): Promise<Uint8Array[]> {
    return this.guarded(() => this.#run(chunk));
  }

  finish(): Promise<Uint8Array[]> {
    return this.guarded(() => {
      this.ctx();
      if (!this.#ended) throw truncated();
      this.close();
      return [];
    });
  }

  #run(chunk: Uint8Array): Uint8Array[] {
    const dctx = this.ctx();
    const produced: Uint8Array[] = [];
    if (chunk.length === 0) return produced;
    if (this.#ended) throw trailingBytes();
    const { out, pos } = this;
    pos.set(0, 0);
    for (;;) {
      // Never let one call produce more than the limit allows (+1 to detect passing it).
      const cap = Math.min(out.length, this.#limit - this.#total + 1);
      const r = check(
        this.lib,
        this.lib.symbols.ZSTD_decompressStream_simpleArgs(
          dctx,
          out,
          cap,
          pos.dst,
          chunk,
          chunk.length,
          pos.src,
        ),
        "Invalid zstd frame",
      );
      this.#total += pos.dstPos;
      if (this.#total > this.#limit) throw tooLarge(this.#limit);
      if (pos.dstPos > 0) produced.push(out.slice(0, pos.dstPos));
      if (r === 0) {
        this.#ended = true;
        if (pos.srcPos < chunk.length) throw trailingBytes();
        return produced;
      }
      // Input used up and room left in the output: libzstd needs the next chunk.
      if (pos.srcPos === chunk.length && pos.dstPos < cap) return produced;
      pos.set(0, pos.srcPos);
    }
  }
}
