/**
 * The structural `node:zlib` types we use, its errors mapped to
 * {@link ZstdError} kinds, and a stream adapter: a zlib Transform in flowing
 * mode whose output is collected per pushed chunk. Outputs arrive through
 * `data` events before the write callback fires, so each `push` resolves to
 * exactly the output its chunk produced.
 *
 * @module
 */

import { closed, kindOfZstdCode, tooLarge, trailingBytes, truncated, ZstdError } from "./errors.ts";
import type { FrameEnd } from "./_frame.ts";
import type { ZstdStreamCompressor, ZstdStreamDecompressor } from "./types.ts";

/** The part of a zlib Transform stream we use. */
export interface NodeTransform {
  write(chunk: Uint8Array, cb: (err?: Error | null) => void): boolean;
  end(): void;
  destroy(err?: Error): void;
  on(event: "data", fn: (chunk: Uint8Array) => void): void;
  on(event: "error", fn: (err: Error) => void): void;
  on(event: "end" | "close", fn: () => void): void;
  off(event: "end" | "close", fn: () => void): void;
}

/** Options of the zlib zstd functions. */
export interface NodeZstdOptions {
  params: Record<number, number>;
  dictionary?: Uint8Array;
  pledgedSrcSize?: number;
  maxOutputLength?: number;
}

/** The part of `node:zlib` we use. */
export interface NodeZlib {
  zstdCompressSync(data: Uint8Array, opts: NodeZstdOptions): Uint8Array;
  zstdDecompressSync(data: Uint8Array, opts: NodeZstdOptions): Uint8Array;
  createZstdCompress(opts: NodeZstdOptions): NodeTransform;
  createZstdDecompress(opts: NodeZstdOptions): NodeTransform;
  constants: Record<string, number>;
}

/** A Buffer as a plain Uint8Array over the same memory (what every backend returns). */
export function plain(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** zlib params for the reference's frame (docs/protocol/zstd.md#frames), or for a window limit. */
export function zlibParams(
  c: Record<string, number>,
  o: { level: number } | { maxWindowBytes: number },
): Record<number, number> {
  if ("level" in o) {
    return {
      [c.ZSTD_c_compressionLevel!]: o.level,
      [c.ZSTD_c_checksumFlag!]: 0,
      [c.ZSTD_c_contentSizeFlag!]: 0,
      [c.ZSTD_c_dictIDFlag!]: 0,
    };
  }
  if (o.maxWindowBytes === 0) return {};
  // Only a log2 limit exists here: the largest power of two not above the limit,
  // within libzstd's bounds (ZSTD_WINDOWLOG_ABSOLUTEMIN 10, ZSTD_WINDOWLOG_MAX_64 31).
  const log = Math.min(31, Math.max(10, Math.floor(Math.log2(o.maxWindowBytes))));
  return { [c.ZSTD_d_windowLogMax!]: log };
}

/** A `node:zlib` error as a {@link ZstdError}; `limit` names the output limit if any. */
export function asZstdError(e: unknown, limit?: number): ZstdError {
  const err = e as { code?: unknown; errno?: unknown; message?: unknown };
  const message = typeof err.message === "string" ? err.message : String(e);
  if (err.code === "ERR_BUFFER_TOO_LARGE" && limit !== undefined) return tooLarge(limit);
  if (err.code === "Z_BUF_ERROR") return truncated();
  if (typeof err.code === "string" && err.code.startsWith("ZSTD_error_")) {
    const kind = kindOfZstdCode(typeof err.errno === "number" ? err.errno : -1);
    return new ZstdError(kind, `Invalid zstd frame: ${message}`, { cause: e });
  }
  return new ZstdError("failed", `Zstd failed: ${message}`, { cause: e });
}

/** A zlib zstd Transform behind both stream interfaces. */
export class NodeStream implements ZstdStreamCompressor, ZstdStreamDecompressor {
  readonly #t: NodeTransform;
  readonly #frameEnd: FrameEnd | undefined;
  #got: Uint8Array[] = [];
  #error: ZstdError | undefined;
  #total = 0;
  #closed = false;

  /**
   * Wraps `t`; output past `limit` bytes destroys it with a `"too-large"` error.
   * A decompressor gets `frameEnd` to refuse bytes after the frame.
   */
  constructor(t: NodeTransform, limit: number, frameEnd?: FrameEnd) {
    this.#t = t;
    this.#frameEnd = frameEnd;
    t.on("data", (chunk) => {
      this.#total += chunk.length;
      if (this.#total > limit) this.#fail(tooLarge(limit));
      else this.#got.push(plain(chunk));
    });
    t.on("error", (e) => {
      this.#error ??= e instanceof ZstdError ? e : asZstdError(e);
    });
  }

  /** Uncompressed (or compressed) bytes produced so far. */
  get outputBytes(): number {
    return this.#total;
  }

  async push(chunk: Uint8Array): Promise<Uint8Array[]> {
    this.#open();
    const end = this.#frameEnd?.feed(chunk) ?? -1;
    if (end >= 0 && end < chunk.length) {
      this.#fail(trailingBytes());
      return this.#take();
    }
    await this.#settle((done) => this.#t.write(chunk, done));
    return this.#take();
  }

  async finish(): Promise<Uint8Array[]> {
    this.#open();
    await this.#settle((done) => {
      this.#t.on("end", done);
      this.#t.end();
    });
    this.close();
    return this.#take();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#t.destroy();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #fail(e: ZstdError): void {
    this.#error ??= e;
    this.#t.destroy(e);
  }

  /** Waits for `start`'s callback or the stream closing, whichever comes first. */
  #settle(start: (done: () => void) => void): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.#t.off("close", done);
        resolve();
      };
      this.#t.on("close", done);
      start(done);
    });
  }

  #take(): Uint8Array[] {
    if (this.#error !== undefined) {
      this.close();
      throw this.#error;
    }
    const got = this.#got;
    this.#got = [];
    return got;
  }

  #open(): void {
    if (this.#closed) throw this.#error ?? closed("stream");
  }
}
