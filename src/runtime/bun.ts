/**
 * Serves a broadcaster with `Bun.serve`. The only file that touches Bun's
 * HTTP server. Bun's types are declared here structurally (no @types
 * package): only what we call.
 *
 * @module
 */

import type { Broadcaster } from "../../mod.ts";
import { AddressInUseError, type RunningServer, type ServeOptions } from "./types.ts";

interface BunServer {
  readonly hostname: string;
  readonly port: number;
  stop(closeActiveConnections?: boolean): Promise<void>;
}

interface BunServeOptions {
  hostname: string;
  port: number;
  /** Seconds a connection may stay silent; 0 disables (Bun's default of 10 s would cut long fan-outs). */
  idleTimeout: number;
  /** Bun refuses bodies over 128 MiB by default; notify bodies may be any size. */
  maxRequestBodySize: number;
  fetch(req: Request): Promise<Response>;
  error(error: Error): Response;
}

interface BunGlobal {
  serve(options: BunServeOptions): BunServer;
}

/**
 * Starts listening with `Bun.serve` (binding is synchronous: a port in use
 * throws {@link AddressInUseError} here). Bun streams request and response
 * bodies and aborts `req.signal` when the client disconnects.
 */
export function serveWithBun(broadcaster: Broadcaster, options: ServeOptions = {}): RunningServer {
  const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
  const hostname = options.hostname ?? "0.0.0.0";
  const port = options.port ?? 3003;
  let server: BunServer;
  try {
    server = bun.serve({
      hostname,
      port,
      idleTimeout: 0,
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      fetch: (req) => broadcaster.handle(req),
      error(error) {
        console.error("Unhandled server error", error);
        return new Response("Internal error\n", { status: 500 });
      },
    });
  } catch (e) {
    if ((e as { code?: unknown }).code === "EADDRINUSE") {
      throw new AddressInUseError(hostname, port, { cause: e });
    }
    throw e;
  }
  const finished = Promise.withResolvers<void>();
  let stopping: Promise<void> | null = null;
  return {
    addr: { hostname: server.hostname, port: server.port },
    finished: finished.promise,
    shutdown(graceMs?: number) {
      stopping ??= (async () => {
        // stop(false) stops accepting and lets requests in flight finish; the
        // broadcaster's close bounds that wait by the grace, then stop(true)
        // drops whatever is left.
        const stopped = server.stop(false);
        await broadcaster.close(graceMs);
        await server.stop(true);
        await stopped;
        finished.resolve();
      })();
      return stopping;
    },
  };
}
