/**
 * What we took from `node:` modules on every runtime, done without them where
 * the runtime has its own: on Deno, importing any `node:` module (even
 * `node:path`) or touching `process` loads part of the Node compatibility
 * layer, 3 to 7 MiB resident before any of our code runs. Node and Bun get
 * their own built-ins through `process.getBuiltinModule` (Node ≥ 22.3, Bun).
 *
 * @module
 */

import { currentRuntime } from "./runtime_name.ts";

/** A `node:` built-in, synchronously, on Node and Bun (never called on Deno). */
export function nodeBuiltin<T>(id: string): T {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  if (typeof p?.getBuiltinModule !== "function") {
    throw new Error("process.getBuiltinModule is missing: Node 22.3 or later is required");
  }
  return p.getBuiltinModule(id) as T;
}

/**
 * The directory for temporary files, as `os.tmpdir()` answers it: `TMPDIR`,
 * `TMP` or `TEMP` (where the environment may be read), else `/tmp`, without a
 * trailing slash. Windows asks `node:os`.
 */
export function tmpdir(): string {
  if (currentRuntime() !== "deno" || Deno.build.os === "windows") {
    return nodeBuiltin<{ tmpdir(): string }>("node:os").tmpdir();
  }
  for (const variable of ["TMPDIR", "TMP", "TEMP"]) {
    if (Deno.permissions.querySync({ name: "env", variable }).state !== "granted") continue;
    const value = Deno.env.get(variable);
    if (value !== undefined && value !== "") {
      return value.length > 1 && value.endsWith("/") ? value.slice(0, -1) : value;
    }
  }
  return "/tmp";
}

/** `dir` and a file `name` (no separators in it) joined with one `/`. */
export function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") || dir.endsWith("\\") ? dir + name : `${dir}/${name}`;
}

interface Base64Bytes {
  toBase64(): string;
}

const nativeBase64 = typeof (Uint8Array.prototype as Partial<Base64Bytes>).toBase64 === "function";

/** Standard padded base64 of `bytes` (`Uint8Array.prototype.toBase64` where it exists). */
export function toBase64(bytes: Uint8Array): string {
  if (nativeBase64) return (bytes as unknown as Base64Bytes).toBase64();
  return nodeBuffer().from(bytes.buffer, bytes.byteOffset, bytes.length).toString("base64");
}

/**
 * The bytes of standard base64 `text`, which the caller has checked is
 * canonical (decoders differ on anything else).
 */
export function fromCheckedBase64(text: string): Uint8Array {
  const from = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array }).fromBase64;
  if (typeof from === "function") return from(text);
  return new Uint8Array(nodeBuffer().from(text, "base64"));
}

interface NodeBuffer {
  from(buffer: ArrayBufferLike, offset: number, length: number): { toString(enc: string): string };
  from(text: string, encoding: string): Uint8Array;
}

function nodeBuffer(): NodeBuffer {
  return (globalThis as unknown as { Buffer: NodeBuffer }).Buffer;
}

/** The working directory. */
export function cwd(): string {
  if (currentRuntime() === "deno") return Deno.cwd();
  return nodeBuiltin<{ cwd(): string }>("node:process").cwd();
}

/** A whole file as UTF-8 text. @throws whatever the runtime throws (missing, denied) */
export async function readTextFile(path: string): Promise<string> {
  if (currentRuntime() === "deno") return await Deno.readTextFile(path);
  const fs = nodeBuiltin<{ readFile(p: string, enc: "utf8"): Promise<string> }>("node:fs/promises");
  return await fs.readFile(path, "utf8");
}

/** A whole file's bytes. @throws whatever the runtime throws (missing, denied) */
export async function readBytesFile(path: string): Promise<Uint8Array> {
  if (currentRuntime() === "deno") return await Deno.readFile(path);
  const fs = nodeBuiltin<{ readFile(p: string): Promise<Uint8Array> }>("node:fs/promises");
  return new Uint8Array(await fs.readFile(path));
}

/** Whether `path` exists (and can be looked at). */
export async function pathExists(path: string): Promise<boolean> {
  if (currentRuntime() === "deno") return await Deno.stat(path).then(() => true, () => false);
  const fs = nodeBuiltin<{ access(p: string): Promise<void> }>("node:fs/promises");
  return await fs.access(path).then(() => true, () => false);
}

interface PathModule {
  isAbsolute(p: string): boolean;
  dirname(p: string): string;
  join(...parts: string[]): string;
}

/**
 * `node:path`'s `isAbsolute`, `dirname` and `join`: POSIX rules written out
 * on Deno (but on Windows), `node:path` itself elsewhere.
 */
export const paths: PathModule = {
  isAbsolute: (p) => posix() ? p.startsWith("/") : nodePath().isAbsolute(p),
  dirname: (p) => posix() ? posixDirname(p) : nodePath().dirname(p),
  join: (...parts) =>
    posix() ? posixNormalize(parts.filter((x) => x !== "").join("/")) : nodePath().join(...parts),
};

function posix(): boolean {
  return currentRuntime() === "deno" && Deno.build.os !== "windows";
}

function nodePath(): PathModule {
  return nodeBuiltin<PathModule>("node:path");
}

/** `path.posix.dirname`, step for step. */
function posixDirname(p: string): string {
  if (p === "") return ".";
  const hasRoot = p[0] === "/";
  let end = -1;
  let matchedSlash = true;
  for (let i = p.length - 1; i >= 1; --i) {
    if (p[i] === "/") {
      if (!matchedSlash) {
        end = i;
        break;
      }
    } else {
      matchedSlash = false;
    }
  }
  if (end === -1) return hasRoot ? "/" : ".";
  if (hasRoot && end === 1) return "//";
  return p.slice(0, end);
}

/** `path.posix.normalize`: `.` and `..` resolved, repeated slashes collapsed. */
function posixNormalize(p: string): string {
  if (p === "") return ".";
  const absolute = p.startsWith("/");
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === ".." && out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else if (part !== ".." || !absolute) out.push(part);
  }
  const body = out.join("/");
  const tail = p.endsWith("/") && body !== "" ? "/" : "";
  return absolute
    ? `/${body}${tail}`
    : body === ""
    ? "." + (p.endsWith("/") ? "/" : "")
    : body + tail;
}
