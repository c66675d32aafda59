/**
 * The two synchronous file reads done at startup (the open-files limit, a
 * database file's identity), through `Deno.*` on Deno and `node:fs` elsewhere:
 * on Deno, importing `node:fs` loads part of the Node compatibility layer
 * (several MiB of resident memory) for nothing `Deno.*` cannot do.
 *
 * @module
 */

import { currentRuntime } from "./runtime_name.ts";

interface NodeFs {
  readFileSync(path: string, encoding: "utf8"): string;
  statSync(
    path: string,
    options: { bigint: true; throwIfNoEntry: false },
  ): { dev: bigint; ino: bigint } | undefined;
}

/** `node:fs`, synchronously (Node ≥ 22.3 and Bun have `process.getBuiltinModule`). */
function nodeFs(): NodeFs {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  if (typeof p?.getBuiltinModule !== "function") {
    throw new Error("process.getBuiltinModule is missing: Node 22.3 or later is required");
  }
  return p.getBuiltinModule("node:fs") as NodeFs;
}

/** The whole file as UTF-8 text. @throws whatever the runtime throws (missing, denied) */
export function readTextFileSync(path: string): string {
  if (currentRuntime() === "deno") return Deno.readTextFileSync(path);
  return nodeFs().readFileSync(path, "utf8");
}

/** Device and inode of `path`, or null when it does not exist. */
export function fileIdentity(path: string): { dev: bigint; ino: bigint } | null {
  if (currentRuntime() !== "deno") {
    return nodeFs().statSync(path, { bigint: true, throwIfNoEntry: false }) ?? null;
  }
  let st: Deno.FileInfo;
  try {
    st = Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  return { dev: BigInt(st.dev), ino: BigInt(st.ino ?? 0) };
}
