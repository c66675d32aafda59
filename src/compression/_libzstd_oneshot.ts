/**
 * One-shot compression and decompression for the libzstd backend: one shared
 * context each, whose level, dictionary and window limit are set only when
 * they change, and scratch output buffers reused between calls, so a small
 * message costs two or three FFI calls and one exact-size copy.
 *
 * @module
 */

import { tooLarge, trailingBytes, truncated } from "./errors.ts";
import { declaredContentSize } from "./_frame.ts";
import {
  check,
  type ContextPool,
  Positions,
  setDecodeParams,
  setFrameParams,
  ZSTD,
} from "./_native.ts";
import { isZstdError, type LibZstd, type Ptr } from "./_symbols.ts";

/** Outputs up to this size go through a kept scratch buffer; larger ones get their own. */
const SCRATCH_BYTES = 128 << 10;

/** libzstd's `ZSTD_COMPRESSBOUND`: the largest frame `n` bytes can become. */
export function compressBound(n: number): number {
  const small = n < 128 << 10 ? ((128 << 10) - n) / 2048 : 0;
  return n + Math.floor(n / 256) + Math.floor(small);
}

/** The shared one-shot contexts of a backend. */
export class OneShot {
  readonly #lib: LibZstd;
  readonly #pool: ContextPool;
  readonly #pos = new Positions();
  readonly #scratch = new Uint8Array(SCRATCH_BYTES);
  #cctx: Ptr | undefined;
  #cLevel = 0;
  #cDict: Ptr;
  #dctx: Ptr | undefined;
  #dWindow = 0;
  #dDict: Ptr;

  /** Contexts come from (and go back to) `pool`. */
  constructor(lib: LibZstd, pool: ContextPool) {
    this.#lib = lib;
    this.#pool = pool;
    this.#cDict = lib.nullPtr;
    this.#dDict = lib.nullPtr;
  }

  /** One frame with the reference's parameters; `cdict` (prepared for `level`) or NULL. */
  compress(data: Uint8Array, level: number, cdict: Ptr): Uint8Array {
    const s = this.#lib.symbols;
    const c = this.#compressor(level, cdict);
    const bound = compressBound(data.length);
    const dst = bound <= this.#scratch.length ? this.#scratch : new Uint8Array(bound);
    const r = s.ZSTD_compress2(c, dst, dst.length, data, data.length);
    // A failure may leave the context mid-frame, where parameters cannot change.
    if (isZstdError(r)) s.ZSTD_CCtx_reset(c, ZSTD.reset_session_only);
    const n = check(this.#lib, r, "Zstd compression failed");
    // A private buffer is kept as is unless most of it would be wasted.
    return dst === this.#scratch || n < dst.length / 2 ? dst.slice(0, n) : dst.subarray(0, n);
  }

  /**
   * Decodes one frame into at most `limit` bytes; `ddict` or NULL. Output goes
   * to the scratch buffer (or, for a declared size larger than that, a buffer
   * of that size); each time it fills, its bytes are set aside and decoding
   * goes on into it again, so a large frame costs one extra copy, not a
   * series of doubling reallocations.
   */
  decompress(frame: Uint8Array, limit: number, window: number, ddict: Ptr): Uint8Array {
    const declared = declaredContentSize(frame);
    if (declared !== undefined && declared > limit) throw tooLarge(limit);
    const d = this.#decompressor(window, ddict);
    const scratch = this.#scratch;
    let out = declared !== undefined && declared > scratch.length
      ? new Uint8Array(declared)
      : scratch;
    const parts: Uint8Array[] = [];
    let produced = 0; // bytes set aside in parts
    const pos = this.#pos;
    pos.set(0, 0);
    for (;;) {
      // Room for one byte past the limit tells "too large" from "exactly the limit".
      const cap = Math.min(out.length, limit + 1 - produced);
      const r = check(
        this.#lib,
        this.#lib.symbols.ZSTD_decompressStream_simpleArgs(
          d,
          out,
          cap,
          pos.dst,
          frame,
          frame.length,
          pos.src,
        ),
        "Invalid zstd frame",
      );
      const { dstPos, srcPos } = pos;
      if (produced + dstPos > limit) throw tooLarge(limit);
      if (r === 0) {
        if (srcPos < frame.length) throw trailingBytes();
        if (parts.length === 0 && out !== scratch && dstPos === out.length) return out;
        parts.push(out.subarray(0, dstPos));
        return joined(parts, produced + dstPos);
      }
      if (dstPos < cap) {
        if (srcPos === frame.length) throw truncated();
        pos.set(dstPos, srcPos);
      } else {
        parts.push(out === scratch ? out.slice(0, dstPos) : out.subarray(0, dstPos));
        produced += dstPos;
        out = scratch;
        pos.set(0, srcPos);
      }
    }
  }

  /** Frees the shared contexts. */
  close(): void {
    if (this.#cctx !== undefined) this.#lib.symbols.ZSTD_freeCCtx(this.#cctx);
    if (this.#dctx !== undefined) this.#lib.symbols.ZSTD_freeDCtx(this.#dctx);
    this.#cctx = this.#dctx = undefined;
  }

  #compressor(level: number, cdict: Ptr): Ptr {
    const s = this.#lib.symbols;
    if (this.#cctx === undefined) {
      this.#cctx = this.#pool.takeC();
      setFrameParams(this.#lib, this.#cctx, level);
      this.#cLevel = level;
    }
    if (cdict !== this.#cDict) {
      check(this.#lib, s.ZSTD_CCtx_refCDict(this.#cctx, cdict), "Dictionary");
    }
    this.#cDict = cdict;
    if (level !== this.#cLevel) {
      const r = s.ZSTD_CCtx_setParameter(this.#cctx, ZSTD.c_compressionLevel, level);
      check(this.#lib, r, "Invalid level");
      this.#cLevel = level;
    }
    return this.#cctx;
  }

  #decompressor(window: number, ddict: Ptr): Ptr {
    const s = this.#lib.symbols;
    if (this.#dctx === undefined) this.#dctx = this.#pool.takeD();
    // A failed frame leaves the context mid-frame, where parameters cannot change.
    else s.ZSTD_DCtx_reset(this.#dctx, ZSTD.reset_session_only);
    if (window !== this.#dWindow) {
      // 0 restores libzstd's default limit, as a fresh context has; that also drops the DDict
      if (window === 0) s.ZSTD_DCtx_reset(this.#dctx, ZSTD.reset_session_and_parameters);
      setDecodeParams(this.#lib, this.#dctx, window);
      this.#dWindow = window;
      this.#dDict = this.#lib.nullPtr;
    }
    if (ddict !== this.#dDict) {
      check(this.#lib, s.ZSTD_DCtx_refDDict(this.#dctx, ddict), "Dictionary");
    }
    this.#dDict = ddict;
    return this.#dctx;
  }
}

/** `parts` (adding up to `n` bytes) in one new array. */
function joined(parts: Uint8Array[], n: number): Uint8Array {
  if (parts.length === 1) return parts[0]!.slice();
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
