/**
 * Dictionary training with `ZDICT_trainFromBuffer` (fastCover, libzstd's
 * defaults: the same ratio as python-zstandard's `train_dictionary` on our
 * data; docs/compression.md#the-zstd-layer). Synchronous and CPU-heavy: run it in a worker.
 *
 * @module
 */

import { ZstdError } from "./errors.ts";
import { check } from "./_native.ts";
import { flattenSamples } from "./_samples.ts";
import type { LibZstd } from "./_symbols.ts";

/** libzstd refuses dictionaries smaller than this (`ZDICT_DICTSIZE_MIN`). */
export const MIN_DICTIONARY_BYTES = 256;

/**
 * Trains a dictionary of at most `dictBytes` bytes from `samples`.
 *
 * @throws {ZstdError} `"training"` when libzstd cannot (too few or too small samples)
 */
export function trainDictionary(
  lib: LibZstd,
  samples: readonly Uint8Array[],
  dictBytes: number,
): Uint8Array {
  if (!Number.isSafeInteger(dictBytes) || dictBytes < MIN_DICTIONARY_BYTES) {
    throw new RangeError(`A zstd dictionary needs at least ${MIN_DICTIONARY_BYTES} bytes`);
  }
  const { flat, sizes } = flattenSamples(samples);
  if (flat.length === 0) {
    throw new ZstdError("training", "Cannot train a zstd dictionary: no sample bytes");
  }
  // size_t[]: 64-bit platforms only (the same assumption as the size_t positions)
  const sizeT = BigUint64Array.from(sizes, BigInt);
  const dict = new Uint8Array(dictBytes);
  const n = check(
    lib,
    lib.symbols.ZDICT_trainFromBuffer(
      dict,
      dictBytes,
      flat,
      new Uint8Array(sizeT.buffer),
      sizes.length,
    ),
    "Cannot train a zstd dictionary",
    "training",
  );
  return dict.slice(0, n);
}
