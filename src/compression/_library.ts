/**
 * Where libzstd usually lives, per operating system, and what opening it
 * yields. Runtime-free: each FFI file asks for the candidates and tries them.
 *
 * @module
 */

import type { LibZstd } from "./_symbols.ts";

/** The opened library, or one line saying why not. */
export type Opened = { readonly lib: LibZstd } | { readonly reason: string };

/**
 * Library names to try in order: only `explicit` when given (a wrong path must
 * fail, not silently fall back), else the system's usual names.
 */
export function libraryCandidates(explicit: string | undefined, os: string): string[] {
  if (explicit !== undefined) return [explicit];
  switch (os) {
    case "darwin":
      return [
        "libzstd.1.dylib",
        "/opt/homebrew/lib/libzstd.1.dylib",
        "/usr/local/lib/libzstd.1.dylib",
      ];
    case "windows":
      return ["zstd.dll", "libzstd.dll"];
    default:
      return ["libzstd.so.1", "libzstd.so"];
  }
}
