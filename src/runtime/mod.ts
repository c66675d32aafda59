/**
 * Serves a broadcaster: `serve` on whichever runtime runs us (Deno, Bun or
 * Node), loading only that runtime's adapter, or one runtime's entry point
 * directly. To embed the broadcaster in your own server: on Deno
 * `broadcaster.handle(req)` needs nothing more; on Bun pass
 * `bunWebSocket(...).upgrader(server)` to `handle` and its `handlers` to
 * `Bun.serve` (see {@link bunWebSocket}); on Node use {@link serveWithNode},
 * which wires `node:http`'s `upgrade` event to the `ws` package.
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

import type { Broadcaster } from "../broadcaster.ts";
import type { RunningServer, ServeOptions } from "./types.ts";
import { currentRuntime } from "../runtime_name.ts";

export { currentRuntime, type RuntimeName } from "../runtime_name.ts";
export {
  type Handler,
  type HandlerServeOptions,
  type HandlerServer,
  serveHandler,
} from "./handler.ts";
export { AddressInUseError, type RunningServer, type ServeOptions } from "./types.ts";
export {
  type BunSocketData,
  type BunWebSocket,
  bunWebSocket,
  type BunWebSocketHandlers,
  isUpgraded,
  serveWithBun,
} from "./bun.ts";
export { type DenoServeOptions, serveWithDeno } from "./deno.ts";

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

/**
 * Starts listening with `node:http`, websockets through the `ws` package
 * (loaded on first call, so other runtimes never load it). Resolves once
 * listening.
 *
 * @throws {AddressInUseError} when the port is taken
 */
export async function serveWithNode(
  broadcaster: Broadcaster,
  options: ServeOptions = {},
): Promise<RunningServer> {
  const node = await import("./node.ts");
  return await node.serveWithNode(broadcaster, options);
}
