/**
 * Shared plumbing of the libzstd backend: error checking, parameter numbers,
 * the `size_t` positions the `*_simpleArgs` calls update, and a small pool of
 * contexts so streams do not allocate a fresh workspace each time.
 *
 * @module
 */

import { kindOfZstdCode, ZstdError, type ZstdErrorKind } from "./errors.ts";
import { isZstdError, type LibZstd, type Ptr, type SizeResult } from "./_symbols.ts";

/** `ZSTD_cParameter` and `ZSTD_EndDirective` values (zstd.h, stable API). */
export const ZSTD = {
  c_compressionLevel: 100,
  c_contentSizeFlag: 200,
  c_checksumFlag: 201,
  c_dictIDFlag: 202,
  e_continue: 0,
  e_end: 2,
  reset_session_only: 1,
  reset_session_and_parameters: 3,
} as const;

/** Output buffer size for streaming: one full block (128 KiB) and its headers. */
export const STREAM_BUFFER_BYTES: number = (128 << 10) + 512;

/**
 * Throws a {@link ZstdError} when `r` is a libzstd error code, else returns it.
 * `kind` overrides the kind derived from the code.
 */
export function check(lib: LibZstd, r: SizeResult, what: string, kind?: ZstdErrorKind): number {
  if (!isZstdError(r)) return Number(r);
  const name = lib.cString(lib.symbols.ZSTD_getErrorName(r));
  throw new ZstdError(kind ?? kindOfZstdCode(lib.symbols.ZSTD_getErrorCode(r)), `${what}: ${name}`);
}

/**
 * Sets the reference's frame parameters (docs/protocol/zstd.md#frames) on a fresh or reset context:
 * the level, no content size, no checksum, no dictionary id; and the CDict.
 */
export function setFrameParams(lib: LibZstd, c: Ptr, level: number, cdict?: Ptr): void {
  const s = lib.symbols;
  check(lib, s.ZSTD_CCtx_setParameter(c, ZSTD.c_compressionLevel, level), "Invalid level");
  s.ZSTD_CCtx_setParameter(c, ZSTD.c_contentSizeFlag, 0);
  s.ZSTD_CCtx_setParameter(c, ZSTD.c_checksumFlag, 0);
  s.ZSTD_CCtx_setParameter(c, ZSTD.c_dictIDFlag, 0);
  if (cdict !== undefined) check(lib, s.ZSTD_CCtx_refCDict(c, cdict), "Dictionary");
}

/** Sets the window limit (0 keeps libzstd's default) and the DDict on a fresh or reset context. */
export function setDecodeParams(lib: LibZstd, d: Ptr, window: number, ddict?: Ptr): void {
  const s = lib.symbols;
  if (window > 0) check(lib, s.ZSTD_DCtx_setMaxWindowSize(d, window), "Invalid window limit");
  if (ddict !== undefined) check(lib, s.ZSTD_DCtx_refDDict(d, ddict), "Dictionary");
}

/** Two `size_t` cells (output and input position) for the `*_simpleArgs` calls. */
export class Positions {
  readonly #cells = new ArrayBuffer(16);
  readonly #u32 = new Uint32Array(this.#cells);
  /** The output position cell, passed as `size_t* dstPos`. */
  readonly dst: Uint8Array = new Uint8Array(this.#cells, 0, 8);
  /** The input position cell, passed as `size_t* srcPos`. */
  readonly src: Uint8Array = new Uint8Array(this.#cells, 8, 8);

  /** Sets both positions (little-endian 64-bit cells, as on every platform we run on). */
  set(dst: number, src: number): void {
    this.#u32[0] = dst % 2 ** 32;
    this.#u32[1] = Math.floor(dst / 2 ** 32);
    this.#u32[2] = src % 2 ** 32;
    this.#u32[3] = Math.floor(src / 2 ** 32);
  }

  /** The output position. */
  get dstPos(): number {
    return this.#u32[0]! + this.#u32[1]! * 2 ** 32;
  }

  /** The input position. */
  get srcPos(): number {
    return this.#u32[2]! + this.#u32[3]! * 2 ** 32;
  }
}

const POOL_SIZE = 4;

/** Idle compression and decompression contexts, reset, for the next stream. */
export class ContextPool {
  readonly #lib: LibZstd;
  readonly #idleC: Ptr[] = [];
  readonly #idleD: Ptr[] = [];

  /** A pool over `lib`. */
  constructor(lib: LibZstd) {
    this.#lib = lib;
  }

  /** An idle or new `ZSTD_CCtx`, with default parameters. */
  takeC(): Ptr {
    return this.#idleC.pop() ?? this.#created(this.#lib.symbols.ZSTD_createCCtx());
  }

  /** An idle or new `ZSTD_DCtx`, with default parameters and no dictionary. */
  takeD(): Ptr {
    return this.#idleD.pop() ?? this.#created(this.#lib.symbols.ZSTD_createDCtx());
  }

  /** Resets `cctx` and keeps it, or frees it when the pool is full. */
  giveC(cctx: Ptr): void {
    const s = this.#lib.symbols;
    // The reset also drops the dictionary reference: a pooled context must not
    // hold a CDict that its dictionary may free.
    if (this.#idleC.length < POOL_SIZE) {
      s.ZSTD_CCtx_reset(cctx, ZSTD.reset_session_and_parameters);
      this.#idleC.push(cctx);
    } else s.ZSTD_freeCCtx(cctx);
  }

  /** Resets `dctx` and keeps it, or frees it when the pool is full. */
  giveD(dctx: Ptr): void {
    const s = this.#lib.symbols;
    if (this.#idleD.length < POOL_SIZE) {
      s.ZSTD_DCtx_reset(dctx, ZSTD.reset_session_and_parameters);
      this.#idleD.push(dctx);
    } else s.ZSTD_freeDCtx(dctx);
  }

  /** Frees every idle context. */
  close(): void {
    for (const c of this.#idleC.splice(0)) this.#lib.symbols.ZSTD_freeCCtx(c);
    for (const d of this.#idleD.splice(0)) this.#lib.symbols.ZSTD_freeDCtx(d);
  }

  #created(p: Ptr): Ptr {
    if (this.#lib.isNull(p)) {
      throw new ZstdError("failed", "Cannot create a zstd context: out of memory");
    }
    return p;
  }
}
