/**
 * The {@link Zstd} backend over libzstd, shared by Deno and Bun (their FFI
 * files only open the library). One-shot calls reuse one compression and one
 * decompression context, set only when the level, dictionary or window limit
 * changes; streams take contexts from a small pool.
 *
 * @module
 */

import { closed, tooLarge, trailingBytes, truncated } from "./errors.ts";
import { declaredContentSize } from "./_frame.ts";
import { LibDictionary } from "./_libzstd_dict.ts";
import { LibStreamCompressor, LibStreamDecompressor } from "./_libzstd_stream.ts";
import { check, ContextPool, Lifetime, Positions, ZSTD } from "./_native.ts";
import { trainDictionary } from "./_libzstd_train.ts";
import { isZstdError, type LibZstd, type Ptr } from "./_symbols.ts";
import type {
  CompressOptions,
  CompressStreamOptions,
  DecompressOptions,
  Zstd,
  ZstdDictionary,
} from "./types.ts";

/** Scratch output kept between one-shot compressions (larger outputs get their own buffer). */
const SCRATCH_MAX = 1 << 20;
/** First output guess for a frame without content size, as a multiple of its length. */
const GROWTH_GUESS = 8;

/** libzstd's `ZSTD_COMPRESSBOUND`: the largest frame `n` bytes can become. */
export function compressBound(n: number): number {
  const small = n < 128 << 10 ? ((128 << 10) - n) / 2048 : 0;
  return n + Math.floor(n / 256) + Math.floor(small);
}

function asLib(d: ZstdDictionary | undefined): LibDictionary | undefined {
  if (d === undefined || d instanceof LibDictionary) return d;
  throw new TypeError("The dictionary was loaded by another zstd backend");
}

/** Builds the libzstd backend over an opened library. */
export function libzstdBackend(lib: LibZstd): Zstd {
  const s = lib.symbols;
  const v = s.ZSTD_versionNumber();
  const name = `libzstd ${Math.floor(v / 10000)}.${Math.floor(v / 100) % 100}.${
    v % 100
  } (${lib.via})`;
  const pool = new ContextPool(lib);
  const pos = new Positions();
  let scratch = new Uint8Array(4096);
  // The shared one-shot contexts and what they are currently set to.
  let cctx: Ptr | undefined;
  let cLevel: number | undefined;
  let cDict: Ptr = lib.nullPtr;
  let dctx: Ptr | undefined;
  let dWindow = 0;
  let dDict: Ptr = lib.nullPtr;
  const lifetime = new Lifetime(() => {
    if (cctx !== undefined) s.ZSTD_freeCCtx(cctx);
    if (dctx !== undefined) s.ZSTD_freeDCtx(dctx);
    pool.close();
    lib.close();
  });

  /**
   * A configured context for a new stream, which becomes a user of the
   * library until it closes; on failure the context goes back to the pool.
   */
  function streamContext(
    kind: "C" | "D",
    dictionary: LibDictionary | undefined,
    configure: (ctx: Ptr) => void,
  ): Ptr {
    lifetime.enter();
    const ctx = kind === "C" ? pool.takeC() : pool.takeD();
    try {
      configure(ctx);
      dictionary?.lease();
      return ctx;
    } catch (e) {
      if (kind === "C") pool.giveC(ctx);
      else pool.giveD(ctx);
      lifetime.leave();
      throw e;
    }
  }

  /** Sets the reference's frame parameters (§10.4) on a fresh or reset context. */
  function frameParams(c: Ptr, level: number, dict: LibDictionary | undefined): void {
    check(lib, s.ZSTD_CCtx_setParameter(c, ZSTD.c_compressionLevel, level), "Invalid level");
    s.ZSTD_CCtx_setParameter(c, ZSTD.c_contentSizeFlag, 0);
    s.ZSTD_CCtx_setParameter(c, ZSTD.c_checksumFlag, 0);
    s.ZSTD_CCtx_setParameter(c, ZSTD.c_dictIDFlag, 0);
    if (dict !== undefined) check(lib, s.ZSTD_CCtx_refCDict(c, dict.cdict(level)), "Dictionary");
  }

  function decodeParams(d: Ptr, window: number, dict: LibDictionary | undefined): void {
    if (window > 0) check(lib, s.ZSTD_DCtx_setMaxWindowSize(d, window), "Invalid window limit");
    if (dict !== undefined) check(lib, s.ZSTD_DCtx_refDDict(d, dict.ddict()), "Dictionary");
  }

  function sharedC(level: number, dict: LibDictionary | undefined): Ptr {
    if (lifetime.closing) throw closed("backend");
    if (cctx === undefined) {
      cctx = pool.takeC();
      frameParams(cctx, level, undefined);
      cLevel = level;
    }
    const want = dict?.cdict(level) ?? lib.nullPtr;
    if (want !== cDict) check(lib, s.ZSTD_CCtx_refCDict(cctx, want), "Dictionary");
    cDict = want;
    if (level !== cLevel) {
      check(lib, s.ZSTD_CCtx_setParameter(cctx, ZSTD.c_compressionLevel, level), "Invalid level");
      cLevel = level;
    }
    return cctx;
  }

  function sharedD(window: number, dict: LibDictionary | undefined): Ptr {
    if (lifetime.closing) throw closed("backend");
    if (dctx === undefined) dctx = pool.takeD();
    // A failed frame leaves the context mid-frame, where parameters cannot change.
    else s.ZSTD_DCtx_reset(dctx, ZSTD.reset_session_only);
    const want = dict?.ddict() ?? lib.nullPtr;
    if (window !== dWindow) {
      // 0 restores libzstd's default limit, as a fresh context has
      if (window === 0) s.ZSTD_DCtx_reset(dctx, ZSTD.reset_session_and_parameters);
      decodeParams(dctx, window, undefined);
      dWindow = window;
      dDict = lib.nullPtr;
    }
    if (want !== dDict) check(lib, s.ZSTD_DCtx_refDDict(dctx, want), "Dictionary");
    dDict = want;
    return dctx;
  }

  function compress(data: Uint8Array, opts: CompressOptions): Uint8Array {
    const c = sharedC(opts.level, asLib(opts.dictionary));
    const bound = compressBound(data.length);
    if (scratch.length < bound && bound <= SCRATCH_MAX) scratch = new Uint8Array(bound);
    const dst = scratch.length >= bound ? scratch : new Uint8Array(bound);
    const r = s.ZSTD_compress2(c, dst, dst.length, data, data.length);
    // A failure may leave the context mid-frame, where parameters cannot change.
    if (isZstdError(r)) s.ZSTD_CCtx_reset(c, ZSTD.reset_session_only);
    const n = check(lib, r, "Zstd compression failed");
    // A private buffer is kept as is unless most of it would be wasted.
    return dst === scratch || n < dst.length / 2 ? dst.slice(0, n) : dst.subarray(0, n);
  }

  function decompress(frame: Uint8Array, opts: DecompressOptions): Uint8Array {
    const limit = opts.maxOutputBytes;
    const declared = declaredContentSize(frame);
    if (declared !== undefined && declared > limit) throw tooLarge(limit);
    const d = sharedD(opts.maxWindowBytes, asLib(opts.dictionary));
    let out = new Uint8Array(
      Math.min(limit + 1, declared ?? Math.max(frame.length * GROWTH_GUESS, 16384)),
    );
    pos.set(0, 0);
    for (;;) {
      const r = check(
        lib,
        s.ZSTD_decompressStream_simpleArgs(
          d,
          out,
          out.length,
          pos.dst,
          frame,
          frame.length,
          pos.src,
        ),
        "Invalid zstd frame",
      );
      const { dstPos, srcPos } = pos;
      if (dstPos > limit) throw tooLarge(limit);
      if (r === 0) {
        if (srcPos < frame.length) throw trailingBytes();
        return dstPos === out.length ? out : out.slice(0, dstPos);
      }
      if (dstPos < out.length) {
        if (srcPos === frame.length) throw truncated();
      } else {
        const grown = new Uint8Array(Math.min(limit + 1, out.length * 2));
        grown.set(out);
        out = grown;
      }
      pos.set(dstPos, srcPos);
    }
  }

  return {
    name,
    canTrain: true,
    compress,
    decompress,
    compressStream(opts: CompressStreamOptions) {
      const dictionary = asLib(opts.dictionary);
      const setup = { lib, pool, lifetime, dictionary };
      const c = streamContext("C", dictionary, (ctx) => {
        frameParams(ctx, opts.level, dictionary);
        if (opts.pledgedSize !== undefined) {
          check(lib, s.ZSTD_CCtx_setPledgedSrcSize(ctx, opts.pledgedSize), "Invalid pledged size");
        }
      });
      return new LibStreamCompressor(setup, c);
    },
    decompressStream(opts: DecompressOptions) {
      const dictionary = asLib(opts.dictionary);
      const setup = { lib, pool, lifetime, dictionary };
      const d = streamContext("D", dictionary, (ctx) => {
        decodeParams(ctx, opts.maxWindowBytes, dictionary);
      });
      return new LibStreamDecompressor(setup, d, opts.maxOutputBytes);
    },
    loadDictionary: (bytes) => new LibDictionary(lib, lifetime, bytes),
    train(samples, dictBytes) {
      if (lifetime.closing) throw closed("backend");
      return trainDictionary(lib, samples, dictBytes);
    },
    close: () => lifetime.close(),
  };
}
