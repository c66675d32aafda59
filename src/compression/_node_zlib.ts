/**
 * The {@link Zstd} backend over Node's built-in `node:zlib` zstd (Node ≥ 24;
 * Node 22.15+ has it experimentally). No FFI and no permissions; no training.
 * It writes the same bytes as libzstd and the reference (same frame
 * parameters, the input size pledged), but re-digests a dictionary on every
 * call: small dictionary messages are several times slower than through FFI.
 * Never used on Deno, whose `node:zlib` silently ignores dictionaries.
 *
 * @module
 */

import { closed, tooLarge, trailingBytes, ZstdError } from "./errors.ts";
import { declaredContentSize, dictionaryId, FrameEnd } from "./_frame.ts";
import { asZstdError, NodeStream, type NodeZlib, plain, zlibParams } from "./_node_stream.ts";
import type {
  CompressOptions,
  CompressStreamOptions,
  DecompressOptions,
  Zstd,
  ZstdDictionary,
} from "./types.ts";

/** A dictionary for `node:zlib`: only the bytes, handed to every call. */
class NodeDictionary implements ZstdDictionary {
  readonly bytes: Uint8Array;
  readonly id: number;
  #closed = false;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes.slice();
    this.id = dictionaryId(this.bytes);
  }

  use(): Uint8Array {
    if (this.#closed) throw closed("dictionary");
    return this.bytes;
  }

  close(): void {
    this.#closed = true;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function dictOf(d: ZstdDictionary | undefined): { dictionary?: Uint8Array } {
  if (d === undefined) return {};
  if (!(d instanceof NodeDictionary)) {
    throw new TypeError("The dictionary was loaded by another zstd backend");
  }
  return { dictionary: d.use() };
}

/** Loads `node:zlib` and checks it has zstd. */
export async function nodeZlibBackend(): Promise<Zstd> {
  const zlib = await import("node:zlib") as unknown as NodeZlib;
  if (typeof zlib.zstdCompressSync !== "function") {
    throw new Error("node:zlib has no zstd (needs Node 22.15 or newer)");
  }
  const version = (globalThis as unknown as { process: { version: string } }).process.version;
  let isClosed = false;
  const open = () => {
    if (isClosed) throw closed("backend");
  };

  function compressOptions(opts: CompressOptions, pledgedSize?: number) {
    return {
      params: zlibParams(zlib.constants, { level: opts.level }),
      ...(pledgedSize === undefined ? {} : { pledgedSrcSize: pledgedSize }),
      ...dictOf(opts.dictionary),
    };
  }

  function decompressOptions(opts: DecompressOptions) {
    return {
      params: zlibParams(zlib.constants, { maxWindowBytes: opts.maxWindowBytes }),
      ...dictOf(opts.dictionary),
    };
  }

  return {
    name: `node:zlib (Node ${version.replace(/^v/, "")})`,
    canTrain: false,
    compress(data, opts) {
      open();
      // Sync calls compress in one ZSTD_e_end step, which pledges the input size itself.
      return wrap(() => plain(zlib.zstdCompressSync(data, compressOptions(opts))));
    },
    decompress(frame, opts) {
      open();
      const limit = opts.maxOutputBytes;
      const declared = declaredContentSize(frame);
      if (declared !== undefined && declared > limit) throw tooLarge(limit);
      const end = new FrameEnd().feed(frame);
      if (end >= 0 && end < frame.length) throw trailingBytes();
      // node:zlib needs maxOutputLength ≥ 1; 0 is checked below instead.
      const options = { ...decompressOptions(opts), maxOutputLength: Math.max(limit, 1) };
      const out = wrap(() => plain(zlib.zstdDecompressSync(frame, options)), limit);
      if (out.length > limit) throw tooLarge(limit);
      return out;
    },
    compressStream(opts: CompressStreamOptions) {
      open();
      const t = zlib.createZstdCompress(compressOptions(opts, opts.pledgedSize));
      return new NodeStream(t, Infinity);
    },
    decompressStream(opts) {
      open();
      const t = zlib.createZstdDecompress(decompressOptions(opts));
      return new NodeStream(t, opts.maxOutputBytes, new FrameEnd());
    },
    loadDictionary: (bytes) => new NodeDictionary(bytes),
    close() {
      isClosed = true;
    },
  };
}

function wrap(call: () => Uint8Array, limit?: number): Uint8Array {
  try {
    return call();
  } catch (e) {
    if (e instanceof ZstdError || e instanceof TypeError) throw e;
    throw asZstdError(e, limit);
  }
}
