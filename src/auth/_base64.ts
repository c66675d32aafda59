/**
 * Small, strict base64 helpers for the auth code. Runtime decoders (`atob`,
 * `Buffer.from(…, "base64")`) silently skip junk characters and whitespace,
 * which is exactly the leniency we do not want when parsing authorization
 * text or secrets.
 *
 * @module
 */

const STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Each alphabet's value per ASCII code, -1 for characters outside it. */
const STD_VALUES = valuesOf(STD);
const URL_VALUES = valuesOf(URL);

function valuesOf(abc: string): Int8Array {
  const values = new Int8Array(128).fill(-1);
  for (let i = 0; i < abc.length; i++) values[abc.charCodeAt(i)] = i;
  return values;
}

/** Encodes `bytes` with the standard or url-safe alphabet, padded or not. */
export function encodeBase64(bytes: Uint8Array, urlSafe: boolean, pad: boolean): string {
  const abc = urlSafe ? URL : STD;
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += abc[n >> 18]! + abc[(n >> 12) & 63]! + abc[(n >> 6) & 63]! + abc[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += abc[n >> 18]! + abc[(n >> 12) & 63]! + (pad ? "==" : "");
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += abc[n >> 18]! + abc[(n >> 12) & 63]! + abc[(n >> 6) & 63]! + (pad ? "=" : "");
  }
  return out;
}

/**
 * Decodes base64 text that must encode exactly `length` bytes, with the
 * given alphabet and optional (but, if present, complete) padding. Returns
 * null for anything else: wrong alphabet, whitespace, wrong length, or
 * non-zero unused trailing bits (a non-canonical spelling).
 */
export function decodeBase64Exact(
  text: string,
  urlSafe: boolean,
  length: number,
): Uint8Array | null {
  const chars = Math.ceil((length * 4) / 3);
  const padLen = (4 - (chars % 4)) % 4;
  let body = text;
  if (text.length === chars + padLen && padLen > 0 && text.endsWith("=".repeat(padLen))) {
    body = text.slice(0, chars);
  }
  if (body.length !== chars) return null;
  const values = urlSafe ? URL_VALUES : STD_VALUES;
  const out = new Uint8Array(length);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    const v = c < 128 ? values[c]! : -1;
    if (v < 0) return null;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (o < length) out[o++] = (acc >> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) return null;
  return out;
}
