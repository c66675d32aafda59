/**
 * Opens libzstd with `bun:ffi`. The only compression file that touches Bun;
 * its types are declared structurally here (no @types package), and the
 * module is imported through a computed specifier so Deno never resolves it.
 *
 * @module
 */

import { type CType, type LibZstd, type LibZstdSymbols, SYMBOLS } from "./_symbols.ts";
import { libraryCandidates, type Opened } from "./_library.ts";

interface BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: Record<string, unknown>; close(): void };
  CString: new (ptr: number) => { toString(): string };
}

// Byte buffers go as "ptr": bun:ffi passes a TypedArray's data pointer for it.
const BUN_TYPES: Record<CType, string> = {
  ptr: "ptr",
  buf: "ptr",
  size: "u64_fast",
  i32: "i32",
  u32: "u32",
  u64: "u64",
  void: "void",
};

function bunSymbols(): Record<string, { args: string[]; returns: string }> {
  const out: Record<string, { args: string[]; returns: string }> = {};
  for (const [name, fn] of Object.entries(SYMBOLS)) {
    out[name] = { args: fn.parameters.map((t) => BUN_TYPES[t]), returns: BUN_TYPES[fn.result] };
  }
  return out;
}

/** Opens the first libzstd that loads; the reason for the last failure otherwise. */
export async function openLibZstdBun(libraryPath?: string): Promise<Opened> {
  const specifier = "bun:" + "ffi";
  const ffi = await import(specifier) as BunFfi;
  const env = (globalThis as unknown as { process: { env: Record<string, string | undefined> } })
    .process.env;
  const os = (globalThis as unknown as { process: { platform: string } }).process.platform;
  const explicit = libraryPath ?? (env.LONELYPSS_LIBZSTD || undefined);
  let reason = "no candidate library name";
  for (const path of libraryCandidates(explicit, os === "win32" ? "windows" : os)) {
    try {
      const lib = ffi.dlopen(path, bunSymbols());
      return {
        lib: {
          symbols: lib.symbols as unknown as LibZstdSymbols,
          nullPtr: null,
          isNull: (p) => p === null || p === 0,
          cString: (p) => new ffi.CString(p as number).toString(),
          via: "Bun FFI",
          close: () => lib.close(),
        } satisfies LibZstd,
      };
    } catch (e) {
      reason = `${path}: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  return { reason };
}
