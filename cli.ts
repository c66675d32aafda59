/**
 * The `lonelypss` command line: `setup` writes secrets and a configuration
 * file, `serve` runs a broadcaster. Runs on Deno, Bun and Node ≥ 24.
 *
 * @example
 * ```sh
 * deno run -A cli.ts setup
 * deno run -A cli.ts serve
 * ```
 *
 * @module
 */

import "./src/crypto/defer.ts"; // first: see its doc
import { main } from "./src/cli/main.ts";

export { main };
export type { Io } from "./src/cli/io.ts";
export type { Palette } from "./src/cli/colours.ts";

// Deno, Bun and Node ≥ 24.2 set import.meta.main; older Nodes compare paths.
// On Deno, Deno.args and Deno.exit: `process` would load part of its Node layer.
const meta = import.meta as ImportMeta & { main?: boolean };
if ("Deno" in globalThis && !("Bun" in globalThis)) {
  if (meta.main) Deno.exit(await main(Deno.args));
} else {
  const process = (await import("node:process")).default;
  const isMain = meta.main ??
    process.argv[1] === (await import("node:url")).fileURLToPath(import.meta.url);
  if (isMain) process.exit(await main(process.argv.slice(2)));
}
