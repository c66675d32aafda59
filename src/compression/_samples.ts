/**
 * Training samples as one buffer and a list of lengths: the shape
 * `ZDICT_trainFromBuffer` takes and the one the training worker receives
 * (two transferable buffers instead of thousands of small arrays).
 *
 * @module
 */

/** Samples back to back, with each one's length. */
export interface FlatSamples {
  /** All samples, concatenated. */
  readonly flat: Uint8Array;
  /** Each sample's length, in order. */
  readonly sizes: Uint32Array;
}

/**
 * Copies `samples` into one buffer.
 *
 * @throws {RangeError} when they add up to more than `maxBytes`
 */
export function flattenSamples(samples: readonly Uint8Array[], maxBytes = Infinity): FlatSamples {
  let total = 0;
  for (const s of samples) total += s.length;
  if (total > maxBytes) throw new RangeError(`Training samples exceed ${maxBytes} bytes: ${total}`);
  const flat = new Uint8Array(total);
  const sizes = new Uint32Array(samples.length);
  let at = 0;
  samples.forEach((s, i) => {
    flat.set(s, at);
    at += s.length;
    sizes[i] = s.length;
  });
  return { flat, sizes };
}

/** The samples again, as views into `flat`. */
export function splitSamples({ flat, sizes }: FlatSamples): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const size of sizes) {
    out.push(flat.subarray(at, at + size));
    at += size;
  }
  return out;
}
