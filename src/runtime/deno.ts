/**
 * Serves a broadcaster with `Deno.serve`. The only file that touches the Deno
 * HTTP server; the websocket upgrade will live here too.
 *
 * @module
 */

import type { Broadcaster } from "../../mod.ts";

/** Where and how to listen. */
export interface DenoServeOptions {
  /** Interface to bind. Default `0.0.0.0`. */
  readonly hostname?: string;
  /** Port; 0 picks a free one. Default 3003. */
  readonly port?: number;
  /** Called once listening, with the bound address. */
  readonly onListen?: (addr: { hostname: string; port: number }) => void;
}

/** A listening server. */
export interface RunningServer {
  /** The bound address. */
  readonly addr: { hostname: string; port: number };
  /**
   * Stops accepting, lets in-flight requests finish (up to `graceMs` for the
   * broadcaster's deliveries), then closes the broadcaster.
   */
  shutdown(graceMs?: number): Promise<void>;
  /** Resolves when the server has stopped. */
  readonly finished: Promise<void>;
}

/**
 * Starts listening (binding is synchronous, so a port in use throws here,
 * as `Deno.errors.AddrInUse`).
 */
export function serveWithDeno(
  broadcaster: Broadcaster,
  options: DenoServeOptions = {},
): RunningServer {
  const server = Deno.serve({
    hostname: options.hostname ?? "0.0.0.0",
    port: options.port ?? 3003,
    onListen: (addr) => options.onListen?.(addr),
    onError(error) {
      console.error("Unhandled server error", error);
      return new Response("Internal error\n", { status: 500 });
    },
  }, (req) => broadcaster.handle(req));
  let stopping: Promise<void> | null = null;
  return {
    addr: { hostname: server.addr.hostname, port: server.addr.port },
    finished: server.finished,
    shutdown(graceMs?: number) {
      stopping ??= (async () => {
        await server.shutdown();
        await broadcaster.close(graceMs);
      })();
      return stopping;
    },
  };
}
