/**
 * The CLI's view of its process: output, environment, working directory.
 * Built from `node:process` so the CLI runs unchanged on Deno, Bun and Node.
 *
 * @module
 */

import { nodeBuiltin } from "../portable.ts";
import { currentRuntime } from "../runtime_name.ts";
import { type Palette, palette, useColour } from "./colours.ts";

/** Where the CLI reads and writes. */
export interface Io {
  /** Writes one line to stdout. */
  out(line: string): void;
  /** Writes one line to stderr. */
  err(line: string): void;
  /** Environment variables. */
  readonly env: Record<string, string | undefined>;
  /** Working directory (setup writes here, serve looks for lonelypss.json here). */
  readonly cwd: string;
  /** Colours for stdout. */
  readonly outColour: Palette;
  /** Colours for stderr. */
  readonly errColour: Palette;
}

/** The real process. */
export function processIo(): Io {
  // Deno's own API where it has one: `process` loads part of its Node layer.
  if (currentRuntime() === "deno") {
    const env = Deno.env.toObject();
    return {
      out: (line) => console.log(line),
      err: (line) => console.error(line),
      env,
      cwd: Deno.cwd(),
      outColour: palette(useColour(Deno.stdout.isTerminal(), env)),
      errColour: palette(useColour(Deno.stderr.isTerminal(), env)),
    };
  }
  const process = nodeBuiltin<NodeProcess>("node:process");
  const env = process.env;
  return {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    env,
    cwd: process.cwd(),
    outColour: palette(useColour(process.stdout.isTTY, env)),
    errColour: palette(useColour(process.stderr.isTTY, env)),
  };
}

interface NodeProcess {
  env: Record<string, string | undefined>;
  cwd(): string;
  stdout: { isTTY?: boolean };
  stderr: { isTTY?: boolean };
}
