/**
 * Opens libzstd with `Deno.dlopen`. The only compression file that touches
 * `Deno.*`. Needs `--allow-ffi`; without it (checked first, so an interactive
 * terminal never prompts) loading reports why instead of throwing.
 *
 * @module
 */

import { type CType, type LibZstd, type LibZstdSymbols, SYMBOLS } from "./_symbols.ts";
import { libraryCandidates, type Opened } from "./_library.ts";

const DENO_TYPES: Record<CType, Deno.NativeType | "void"> = {
  ptr: "pointer",
  buf: "buffer",
  size: "usize",
  i32: "i32",
  u32: "u32",
  u64: "u64",
  void: "void",
};

function denoSymbols(): Deno.ForeignLibraryInterface {
  const out: Deno.ForeignLibraryInterface = {};
  for (const [name, fn] of Object.entries(SYMBOLS)) {
    out[name] = {
      parameters: fn.parameters.map((t) => DENO_TYPES[t] as Deno.NativeType),
      result: DENO_TYPES[fn.result],
    };
  }
  return out;
}

/** `LONELYPSS_LIBZSTD` when readable without a prompt. */
function envLibraryPath(): string | undefined {
  const desc = { name: "env", variable: "LONELYPSS_LIBZSTD" } as const;
  if (Deno.permissions.querySync(desc).state !== "granted") return undefined;
  return Deno.env.get("LONELYPSS_LIBZSTD") || undefined;
}

/** Opens the first libzstd that loads; the reason for the last failure otherwise. */
export function openLibZstdDeno(libraryPath?: string): Opened {
  const explicit = libraryPath ?? envLibraryPath();
  let reason = "no candidate library name";
  for (const path of libraryCandidates(explicit, Deno.build.os)) {
    const state = Deno.permissions.querySync({ name: "ffi", path }).state;
    if (state !== "granted") {
      return { reason: "the ffi permission is not granted (run with --allow-ffi)" };
    }
    let lib: Deno.DynamicLibrary<Deno.ForeignLibraryInterface>;
    try {
      lib = Deno.dlopen(path, denoSymbols());
    } catch (e) {
      reason = `${path}: ${e instanceof Error ? e.message : String(e)}`;
      continue;
    }
    return { lib: wrap(lib) };
  }
  return { reason };
}

function wrap(lib: Deno.DynamicLibrary<Deno.ForeignLibraryInterface>): LibZstd {
  return {
    symbols: lib.symbols as unknown as LibZstdSymbols,
    nullPtr: null,
    isNull: (p) => p === null,
    cString: (p) => Deno.UnsafePointerView.getCString(p as Deno.PointerObject),
    via: "Deno FFI",
    close: () => lib.close(),
  };
}
