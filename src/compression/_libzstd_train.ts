/**
 * Dictionary training with `ZDICT_trainFromBuffer` (fastCover, libzstd's
 * defaults: the same ratio as python-zstandard's `train_dictionary` on our
 * data, zstd-options.md). Synchronous and CPU-heavy: run it in a worker.
 *
 * @module
 */

import { ZstdError } from "./errors.ts";
import { check } from "./_native.ts";
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
  let total = 0;
  for (const sample of samples) total += sample.length;
  const flat = new Uint8Array(total);
  // size_t[]: 64-bit platforms only (the same assumption as the size_t positions)
  const sizes = new BigUint64Array(samples.length);
  let at = 0;
  samples.forEach((sample, i) => {
    flat.set(sample, at);
    at += sample.length;
    sizes[i] = BigInt(sample.length);
  });
  if (samples.length === 0 || total === 0) {
    throw new ZstdError("training", "Cannot train a zstd dictionary: no sample bytes");
  }
  const dict = new Uint8Array(dictBytes);
  const n = check(
    lib,
    lib.symbols.ZDICT_trainFromBuffer(
      dict,
      dictBytes,
      flat,
      new Uint8Array(sizes.buffer),
      samples.length,
    ),
    "Cannot train a zstd dictionary",
    "training",
  );
  return dict.slice(0, n);
}
