/**
 * Serves a broadcaster on whichever runtime runs us (Deno, Bun or Node),
 * loading only that runtime's adapter: each adapter touches APIs the others
 * lack, so they are imported lazily.
 *
 * @example
 * ```ts
 * import { createBroadcaster } from "../../mod.ts";
 * import { serve } from "./mod.ts";
 *
 * const broadcaster = await createBroadcaster();
 * const server = await serve(broadcaster, { hostname: "127.0.0.1", port: 0 });
 * console.log(server.addr.port > 0); // true
 * await server.shutdown(0);
 * ```
 *
 * @module
 */

import type { Broadcaster } from "../../mod.ts";
import type { RunningServer, ServeOptions } from "./types.ts";

export { AddressInUseError, type RunningServer, type ServeOptions } from "./types.ts";

/** The runtimes we have an adapter for. */
export type RuntimeName = "deno" | "bun" | "node";

/** Which runtime this process is (Bun first: it also defines `process`). */
export function currentRuntime(): RuntimeName {
  if ("Bun" in globalThis) return "bun";
  if ("Deno" in globalThis) return "deno";
  return "node";
}

/**
 * Starts listening with the current runtime's server.
 *
 * @throws {AddressInUseError} when the port is taken
 */
export async function serve(
  broadcaster: Broadcaster,
  options: ServeOptions = {},
): Promise<RunningServer> {
  switch (currentRuntime()) {
    case "deno": {
      const { serveWithDeno } = await import("./deno.ts");
      return serveWithDeno(broadcaster, options);
    }
    case "bun": {
      const { serveWithBun } = await import("./bun.ts");
      return serveWithBun(broadcaster, options);
    }
    case "node": {
      const { serveWithNode } = await import("./node.ts");
      return await serveWithNode(broadcaster, options);
    }
  }
}
