/**
 * The libzstd functions we bind, described once for both FFIs (Deno's
 * `Deno.dlopen` and Bun's `bun:ffi` map these abstract types to their own),
 * and the typed view of the bound functions the backend uses.
 *
 * Only stable API plus the two `*_simpleArgs` streaming calls (exported since
 * libzstd 1.4.0), which take plain buffers and `size_t*` positions: no struct
 * ever holds a pointer into JavaScript memory.
 *
 * @module
 */

/** Abstract C types: `ptr` an opaque handle, `buf` a JS byte buffer, `size` a `size_t`. */
export type CType = "ptr" | "buf" | "size" | "i32" | "u32" | "u64" | "void";

/** One C function: parameter types and result type. */
export interface CFunction {
  /** Parameter types in order. */
  readonly parameters: readonly CType[];
  /** Result type. */
  readonly result: CType;
}

/** Every symbol we need, by name. */
export const SYMBOLS = {
  ZSTD_versionNumber: { parameters: [], result: "u32" },
  ZSTD_getErrorCode: { parameters: ["size"], result: "i32" },
  ZSTD_getErrorName: { parameters: ["size"], result: "ptr" },
  ZSTD_createCCtx: { parameters: [], result: "ptr" },
  ZSTD_freeCCtx: { parameters: ["ptr"], result: "size" },
  ZSTD_CCtx_setParameter: { parameters: ["ptr", "i32", "i32"], result: "size" },
  ZSTD_CCtx_setPledgedSrcSize: { parameters: ["ptr", "u64"], result: "size" },
  ZSTD_CCtx_reset: { parameters: ["ptr", "i32"], result: "size" },
  ZSTD_CCtx_refCDict: { parameters: ["ptr", "ptr"], result: "size" },
  ZSTD_compress2: { parameters: ["ptr", "buf", "size", "buf", "size"], result: "size" },
  ZSTD_compressStream2_simpleArgs: {
    parameters: ["ptr", "buf", "size", "buf", "buf", "size", "buf", "i32"],
    result: "size",
  },
  ZSTD_createDCtx: { parameters: [], result: "ptr" },
  ZSTD_freeDCtx: { parameters: ["ptr"], result: "size" },
  ZSTD_DCtx_setMaxWindowSize: { parameters: ["ptr", "size"], result: "size" },
  ZSTD_DCtx_refDDict: { parameters: ["ptr", "ptr"], result: "size" },
  ZSTD_DCtx_reset: { parameters: ["ptr", "i32"], result: "size" },
  ZSTD_decompressStream_simpleArgs: {
    parameters: ["ptr", "buf", "size", "buf", "buf", "size", "buf"],
    result: "size",
  },
  ZSTD_createCDict: { parameters: ["buf", "size", "i32"], result: "ptr" },
  ZSTD_freeCDict: { parameters: ["ptr"], result: "size" },
  ZSTD_createDDict: { parameters: ["buf", "size"], result: "ptr" },
  ZSTD_freeDDict: { parameters: ["ptr"], result: "size" },
  ZDICT_trainFromBuffer: { parameters: ["buf", "size", "buf", "buf", "u32"], result: "size" },
} as const satisfies Record<string, CFunction>;

/** An opaque native pointer (Deno: a pointer object or null; Bun: a number, 0 for NULL). */
export type Ptr = unknown;

/**
 * A `size_t` result: a bigint on Deno, a number or (above 2^53) a bigint on
 * Bun. libzstd's error codes are `(size_t)-code`, far above 2^53.
 */
export type SizeResult = number | bigint;

/** The bound functions, typed for the backend (both FFIs produce this shape). */
export interface LibZstdSymbols {
  ZSTD_versionNumber(): number;
  ZSTD_getErrorCode(code: SizeResult): number;
  ZSTD_getErrorName(code: SizeResult): Ptr;
  ZSTD_createCCtx(): Ptr;
  ZSTD_freeCCtx(cctx: Ptr): SizeResult;
  ZSTD_CCtx_setParameter(cctx: Ptr, param: number, value: number): SizeResult;
  ZSTD_CCtx_setPledgedSrcSize(cctx: Ptr, size: number | bigint): SizeResult;
  ZSTD_CCtx_reset(cctx: Ptr, how: number): SizeResult;
  ZSTD_CCtx_refCDict(cctx: Ptr, cdict: Ptr): SizeResult;
  ZSTD_compress2(cctx: Ptr, dst: Uint8Array, cap: number, src: Uint8Array, n: number): SizeResult;
  ZSTD_compressStream2_simpleArgs(
    cctx: Ptr,
    dst: Uint8Array,
    cap: number,
    dstPos: Uint8Array,
    src: Uint8Array,
    n: number,
    srcPos: Uint8Array,
    end: number,
  ): SizeResult;
  ZSTD_createDCtx(): Ptr;
  ZSTD_freeDCtx(dctx: Ptr): SizeResult;
  ZSTD_DCtx_setMaxWindowSize(dctx: Ptr, bytes: number): SizeResult;
  ZSTD_DCtx_refDDict(dctx: Ptr, ddict: Ptr): SizeResult;
  ZSTD_DCtx_reset(dctx: Ptr, how: number): SizeResult;
  ZSTD_decompressStream_simpleArgs(
    dctx: Ptr,
    dst: Uint8Array,
    cap: number,
    dstPos: Uint8Array,
    src: Uint8Array,
    n: number,
    srcPos: Uint8Array,
  ): SizeResult;
  ZSTD_createCDict(dict: Uint8Array, n: number, level: number): Ptr;
  ZSTD_freeCDict(cdict: Ptr): SizeResult;
  ZSTD_createDDict(dict: Uint8Array, n: number): Ptr;
  ZSTD_freeDDict(ddict: Ptr): SizeResult;
  ZDICT_trainFromBuffer(
    dst: Uint8Array,
    cap: number,
    samples: Uint8Array,
    sizes: Uint8Array,
    count: number,
  ): SizeResult;
}

/** What a runtime's FFI file hands to the backend. */
export interface LibZstd {
  /** The bound functions. */
  readonly symbols: LibZstdSymbols;
  /** The NULL pointer in this FFI. */
  readonly nullPtr: Ptr;
  /** Whether `p` is NULL. */
  isNull(p: Ptr): boolean;
  /** Reads a NUL-terminated C string. */
  cString(p: Ptr): string;
  /** For names: `"Deno FFI"`, `"Bun FFI"`. */
  readonly via: string;
  /** Unloads the library (only once nothing uses it). */
  close(): void;
}

const MAX_SIZE = BigInt(Number.MAX_SAFE_INTEGER);

/** Whether a `size_t` result is one of libzstd's error codes. */
export function isZstdError(r: SizeResult): boolean {
  return typeof r === "bigint" ? r > MAX_SIZE : r > Number.MAX_SAFE_INTEGER;
}
