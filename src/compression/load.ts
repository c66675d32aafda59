/**
 * Picks the zstd backend for the running runtime and loads only that one:
 * libzstd through `Deno.dlopen` on Deno, through `bun:ffi` on Bun, `node:zlib`
 * on Node. When none is usable it says why in one line instead of throwing, so
 * the broadcaster can run without compression and log the reason.
 *
 * @module
 */

import type { Opened } from "./_library.ts";
import type { LoadZstdOptions, Zstd, ZstdUnavailable } from "./types.ts";

/**
 * Loads the backend of the current runtime.
 *
 * @example Compress and decompress one message
 * ```ts
 * import { loadZstd } from "./load.ts";
 *
 * const zstd = await loadZstd();
 * if ("unavailable" in zstd) throw new Error(zstd.unavailable);
 * const frame = zstd.compress(new TextEncoder().encode("hello hello hello"), { level: 3 });
 * const back = zstd.decompress(frame, { maxOutputBytes: 1024, maxWindowBytes: 8 << 20 });
 * console.log(new TextDecoder().decode(back)); // "hello hello hello"
 * zstd.close();
 * ```
 */
export async function loadZstd(opts: LoadZstdOptions = {}): Promise<Zstd | ZstdUnavailable> {
  try {
    if ("Bun" in globalThis) {
      const { openLibZstdBun } = await import("./_ffi_bun.ts");
      return await fromLibrary(await openLibZstdBun(opts.libraryPath));
    }
    if ("Deno" in globalThis) {
      const { openLibZstdDeno } = await import("./_ffi_deno.ts");
      return await fromLibrary(openLibZstdDeno(opts.libraryPath));
    }
    const { nodeZlibBackend } = await import("./_node_zlib.ts");
    return await nodeZlibBackend();
  } catch (e) {
    return { unavailable: `Cannot load zstd: ${e instanceof Error ? e.message : String(e)}` };
  }
}

async function fromLibrary(opened: Opened): Promise<Zstd | ZstdUnavailable> {
  if ("reason" in opened) return { unavailable: `Cannot load libzstd: ${opened.reason}` };
  const { libzstdBackend } = await import("./_libzstd.ts");
  return libzstdBackend(opened.lib);
}
