/**
 * zstd for the websocket protocol (docs/protocol/zstd.md): one interface,
 * {@link Zstd}, over libzstd through FFI (Deno, Bun) or `node:zlib` (Node),
 * writing the reference's frames byte for byte; dictionaries; streaming with
 * output limits; and dictionary training in a worker.
 *
 * @example Load the backend, compress with a trained dictionary, decompress
 * ```ts
 * import { loadZstd, trainInWorker } from "./mod.ts";
 *
 * const zstd = await loadZstd();
 * if ("unavailable" in zstd) throw new Error(zstd.unavailable); // e.g. no --allow-ffi
 * const enc = new TextEncoder();
 * const samples = Array.from(
 *   { length: 2000 },
 *   (_, i) => enc.encode(JSON.stringify({ op: "invalidate", key: `user:${i}`, version: i * 7 })),
 * );
 * using dictionary = zstd.loadDictionary(await trainInWorker(samples, 16384, { timeoutMs: 30_000 }));
 * const frame = zstd.compress(samples[42]!, { level: 3, dictionary });
 * const plain = zstd.decompress(frame, { maxOutputBytes: 16384, maxWindowBytes: 8 << 20, dictionary });
 * console.log(new TextDecoder().decode(plain)); // {"op":"invalidate","key":"user:42","version":294}
 * zstd.close();
 * ```
 *
 * @module
 */

export { ZstdError, type ZstdErrorKind } from "./errors.ts";
export { loadZstd } from "./load.ts";
export {
  DEFAULT_MAX_TRAINING_INPUT_BYTES,
  trainInWorker,
  type TrainInWorkerOptions,
} from "./train.ts";
export type {
  CompressOptions,
  CompressStreamOptions,
  DecompressOptions,
  LoadZstdOptions,
  Zstd,
  ZstdDictionary,
  ZstdStreamCompressor,
  ZstdStreamDecompressor,
  ZstdUnavailable,
} from "./types.ts";
