/**
 * The one error type of the compression layer, with a kind the websocket
 * session can act on (a hostile or broken frame closes the connection; a
 * closed dictionary is a programming error).
 *
 * @module
 */

/**
 * What went wrong:
 * - `"too-large"`: the output would pass `maxOutputBytes`;
 * - `"window-too-large"`: the frame declares a window above `maxWindowBytes`;
 * - `"corrupt"`: not a zstd frame, damaged, or trailing bytes after the frame;
 * - `"truncated"`: the input ended inside the frame;
 * - `"dictionary"`: the dictionary is unusable or not the one the frame needs;
 * - `"training"`: training failed (too few or too small samples, …);
 * - `"closed"`: the dictionary, stream or backend was already closed;
 * - `"failed"`: anything else libzstd reports (a bug, out of memory).
 */
export type ZstdErrorKind =
  | "too-large"
  | "window-too-large"
  | "corrupt"
  | "truncated"
  | "dictionary"
  | "training"
  | "closed"
  | "failed";

/** A compression or decompression failure, with a {@link ZstdErrorKind}. */
export class ZstdError extends Error {
  /** What went wrong. */
  readonly kind: ZstdErrorKind;

  /** Builds an error of `kind`; `message` says what, capitalised, no trailing period. */
  constructor(kind: ZstdErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ZstdError";
    this.kind = kind;
  }
}

// ZSTD_ErrorCode values (zstd_errors.h, stable since 1.3): the ones a decoder
// of untrusted input can hit, by kind.
const CORRUPT_CODES = new Set([10, 12, 14, 20, 22, 24, 44, 46, 48]);
const WINDOW_TOO_LARGE = 16;
const DICTIONARY_CODES = new Set([30, 32, 34]);

/** The kind for a libzstd error code (`ZSTD_getErrorCode`). */
export function kindOfZstdCode(code: number): ZstdErrorKind {
  if (code === WINDOW_TOO_LARGE) return "window-too-large";
  if (CORRUPT_CODES.has(code)) return "corrupt";
  if (DICTIONARY_CODES.has(code)) return "dictionary";
  return "failed";
}

/** Thrown when the output passes the limit. */
export function tooLarge(limit: number): ZstdError {
  return new ZstdError("too-large", `Zstd frame decompresses to more than ${limit} bytes`);
}

/** Thrown when the input ends inside the frame. */
export function truncated(): ZstdError {
  return new ZstdError("truncated", "Zstd frame is truncated: the input ended inside it");
}

/** Thrown when bytes follow the end of the (single) frame. */
export function trailingBytes(): ZstdError {
  return new ZstdError("corrupt", "Zstd frame is followed by trailing bytes");
}

/** Thrown on use after close. */
export function closed(what: string): ZstdError {
  return new ZstdError("closed", `The zstd ${what} is closed`);
}
