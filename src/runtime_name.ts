/**
 * Which runtime runs us: a leaf the broadcaster and the runtime adapters both
 * read (the adapters themselves sit above the broadcaster).
 *
 * @module
 */

/** The runtimes we have an adapter for. */
export type RuntimeName = "deno" | "bun" | "node";

/** Which runtime this process is (Bun first: it also defines `process`). */
export function currentRuntime(): RuntimeName {
  if ("Bun" in globalThis) return "bun";
  if ("Deno" in globalThis) return "deno";
  return "node";
}
