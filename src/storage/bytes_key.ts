/**
 * A Map key for bytes.
 *
 * @module
 */

/** One UTF-16 code unit per byte: a cheap, collision-free Map key for bytes. */
export function binaryKey(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return s;
}
