/**
 * The one zstd interface the websocket session talks to, whatever backend
 * (libzstd through FFI on Deno and Bun, `node:zlib` on Node) sits behind it.
 *
 * Every frame written follows the reference's wire parameters
 * (docs/protocol/zstd.md#frames): the given level, no checksum, no content-size
 * field, no dictionary id in the header, one frame per message. Every decoder
 * accepts frames with or without a content size and enforces an output limit.
 *
 * @module
 */

/**
 * A dictionary prepared once for repeated use (libzstd: a DDict and a CDict
 * per level, built on first use). Free it with {@link ZstdDictionary.close}
 * when its compressor id goes away; a finalizer frees it as a backup.
 * Closing while a stream still uses it defers the free until that stream ends.
 */
export interface ZstdDictionary extends Disposable {
  /** The dictionary bytes as loaded (a copy: later changes to the input do not matter). */
  readonly bytes: Uint8Array;
  /** The id in a trained dictionary's header; 0 for raw-content dictionaries. */
  readonly id: number;
  /** Frees the native state; later use throws a {@link ZstdError} of kind `"closed"`. */
  close(): void;
}

/** How to compress: the level and, for compressor ids ≥ 2, the dictionary. */
export interface CompressOptions {
  /** zstd level, as announced for the compressor (the reference uses 3 for id 1). */
  readonly level: number;
  /** The compressor's dictionary, when it has one. */
  readonly dictionary?: ZstdDictionary | undefined;
}

/** How to decompress, and the limits that keep a hostile frame harmless. */
export interface DecompressOptions {
  /** Most bytes the frame may decompress to; past it a {@link ZstdError} `"too-large"`. */
  readonly maxOutputBytes: number;
  /**
   * Largest window the frame may declare, in bytes (`decompression_max_window_size`);
   * 0 keeps libzstd's default limit (128 MiB), as the reference does. `node:zlib` can
   * only limit by a power of two: it uses the largest one not above this.
   */
  readonly maxWindowBytes: number;
  /** The dictionary the compressor id names (the frame carries no dictionary id). */
  readonly dictionary?: ZstdDictionary | undefined;
}

/** Options of a streaming compressor. */
export interface CompressStreamOptions extends CompressOptions {
  /**
   * The total input size when known in advance (the reference always knows it). It
   * sizes the window to the input, as a one-shot {@link Zstd.compress} does, so a
   * message of one block (≤ 128 KiB) gives the one-shot's bytes; larger ones may be
   * split into blocks differently. It is never written into the frame. Pushing a
   * different total fails at {@link ZstdStreamCompressor.finish}.
   */
  readonly pledgedSize?: number | undefined;
}

/**
 * One frame compressed piece by piece with bounded memory: each call resolves
 * to the compressed output that became ready (often none until a 128 KiB block
 * fills). Asynchronous because `node:zlib` only streams asynchronously; the
 * libzstd backend does the work synchronously inside the call. One call at a time.
 */
export interface ZstdStreamCompressor extends Disposable {
  /** Compresses `chunk`; resolves to the output produced so far (fresh arrays, yours to keep). */
  push(chunk: Uint8Array): Promise<Uint8Array[]>;
  /** Ends the frame and resolves to the rest of it; then the compressor is closed. */
  finish(): Promise<Uint8Array[]>;
  /** Frees the native state (idempotent); called on failure, by `finish` and by `using`. */
  close(): void;
}

/**
 * One frame decompressed piece by piece. The output limit is checked while
 * decoding: a frame that expands past it fails before more than the limit plus
 * one buffer (libzstd: 1 byte; `node:zlib`: one 16 KiB chunk) has been produced.
 */
export interface ZstdStreamDecompressor extends Disposable {
  /** Decompresses `chunk`; resolves to the output it produced (fresh arrays, yours to keep). */
  push(chunk: Uint8Array): Promise<Uint8Array[]>;
  /**
   * Checks that the frame is complete (else a {@link ZstdError} `"truncated"`) and
   * resolves to any last output; then the decompressor is closed.
   */
  finish(): Promise<Uint8Array[]>;
  /** Uncompressed bytes produced so far. */
  readonly outputBytes: number;
  /** Frees the native state (idempotent); called on failure, by `finish` and by `using`. */
  close(): void;
}

/** A usable zstd backend. */
export interface Zstd {
  /** Which backend this is, for logs: `"libzstd 1.5.4 (Deno FFI)"`, `"node:zlib (Node 24.21.0)"`. */
  readonly name: string;
  /** Whether {@link Zstd.train} exists (libzstd through FFI only). */
  readonly canTrain: boolean;
  /** Compresses one message into one frame with the reference's parameters. */
  compress(data: Uint8Array, opts: CompressOptions): Uint8Array;
  /**
   * Decompresses one frame (with or without a content size).
   *
   * @throws {ZstdError} past a limit, on a corrupt or truncated frame, trailing bytes,
   *   or the wrong dictionary
   */
  decompress(frame: Uint8Array, opts: DecompressOptions): Uint8Array;
  /** Starts a streaming compressor for one frame. */
  compressStream(opts: CompressStreamOptions): ZstdStreamCompressor;
  /** Starts a streaming decompressor for one frame. */
  decompressStream(opts: DecompressOptions): ZstdStreamDecompressor;
  /**
   * Prepares a dictionary (trained, with the zstd dictionary magic, or raw
   * content) for {@link CompressOptions.dictionary} and {@link DecompressOptions.dictionary}.
   *
   * @throws {ZstdError} `"dictionary"` when libzstd rejects it
   */
  loadDictionary(bytes: Uint8Array): ZstdDictionary;
  /**
   * Trains a dictionary of at most `dictBytes` bytes from samples
   * (`ZDICT_trainFromBuffer`). CPU-heavy and synchronous: call it through
   * `trainInWorker`, never on the thread that serves requests.
   */
  train?(samples: readonly Uint8Array[], dictBytes: number): Uint8Array;
  /**
   * Ends the backend: later calls throw a `"closed"` {@link ZstdError}; the shared
   * contexts are freed and the library unloaded once its dictionaries and streams are
   * closed (or collected) too.
   */
  close(): void;
}

/** Why no backend is usable: one line for the log (compression is then not offered). */
export interface ZstdUnavailable {
  /** For example `"Cannot load libzstd: the ffi permission is not granted (run with --allow-ffi)"`. */
  readonly unavailable: string;
}

/** Where to look for libzstd. */
export interface LoadZstdOptions {
  /**
   * Path (or file name for the system's search) of the libzstd shared library;
   * defaults to the environment variable `LONELYPSS_LIBZSTD`, then the usual names.
   * Ignored by the `node:zlib` backend.
   */
  readonly libraryPath?: string | undefined;
}
