/**
 * The {@link Zstd} backend over libzstd, shared by Deno and Bun (their FFI
 * files only open the library): one-shot calls through {@link OneShot},
 * streams with contexts from a small pool, dictionaries, training, and the
 * lifetime that unloads the library after the last user.
 *
 * @module
 */

import { LibDictionary } from "./_libzstd_dict.ts";
import { OneShot } from "./_libzstd_oneshot.ts";
import { LibStreamCompressor, LibStreamDecompressor } from "./_libzstd_stream.ts";
import { Lifetime } from "./_lifetime.ts";
import { check, ContextPool, setDecodeParams, setFrameParams } from "./_native.ts";
import { trainDictionary } from "./_libzstd_train.ts";
import type { LibZstd, Ptr } from "./_symbols.ts";
import type {
  CompressOptions,
  CompressStreamOptions,
  DecompressOptions,
  Zstd,
  ZstdDictionary,
} from "./types.ts";

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
  const oneShot = new OneShot(lib, pool);
  const lifetime = new Lifetime("backend", () => {
    oneShot.close();
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

  return {
    name,
    canTrain: true,
    compress(data: Uint8Array, opts: CompressOptions) {
      lifetime.checkOpen();
      const cdict = asLib(opts.dictionary)?.cdict(opts.level) ?? lib.nullPtr;
      return oneShot.compress(data, opts.level, cdict);
    },
    decompress(frame: Uint8Array, opts: DecompressOptions) {
      lifetime.checkOpen();
      const ddict = asLib(opts.dictionary)?.ddict() ?? lib.nullPtr;
      return oneShot.decompress(frame, opts.maxOutputBytes, opts.maxWindowBytes, ddict);
    },
    compressStream(opts: CompressStreamOptions) {
      const dictionary = asLib(opts.dictionary);
      const setup = { lib, pool, lifetime, dictionary };
      const c = streamContext("C", dictionary, (ctx) => {
        setFrameParams(lib, ctx, opts.level, dictionary?.cdict(opts.level));
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
        setDecodeParams(lib, ctx, opts.maxWindowBytes, dictionary?.ddict());
      });
      return new LibStreamDecompressor(setup, d, opts.maxOutputBytes);
    },
    loadDictionary: (bytes) => new LibDictionary(lib, lifetime, bytes),
    train(samples, dictBytes) {
      lifetime.checkOpen();
      return trainDictionary(lib, samples, dictBytes);
    },
    close: () => lifetime.close(),
  };
}
