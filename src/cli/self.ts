/**
 * How the operator invoked us, so `setup` can print the exact next command
 * (`deno run -A …/cli.ts serve`, `bun …`, `node …`, or the compiled binary).
 *
 * @module
 */

import { basename, isAbsolute, relative } from "node:path";
import process from "node:process";

const INTERPRETERS: Record<string, string> = {
  deno: "deno run -A",
  bun: "bun",
  node: "node",
};

/** The command line that runs this CLI again, as typed from `cwd`. */
export function selfCommand(cwd: string): string {
  const exe = basename(process.execPath).replace(/\.exe$/i, "");
  const interpreter = INTERPRETERS[exe];
  const script = process.argv[1];
  if (interpreter !== undefined && script !== undefined && !script.startsWith("/$bunfs")) {
    return `${interpreter} ${shortPath(cwd, script)}`;
  }
  return shortPath(cwd, process.execPath);
}

function shortPath(cwd: string, path: string): string {
  if (!isAbsolute(path)) return path;
  const rel = relative(cwd, path);
  if (rel.startsWith("..")) return path;
  return rel.includes("/") ? rel : `./${rel}`;
}
