/**
 * Serves a broadcaster with `Deno.serve`. The only file that touches the Deno
 * HTTP server; the websocket upgrade will live here too.
 *
 * @module
 */

import type { Broadcaster } from "../../mod.ts";
import { deadline } from "../deadline.ts";
import { AddressInUseError, type RunningServer, type ServeOptions } from "./types.ts";

export type { RunningServer } from "./types.ts";

/** Where and how to listen. */
export interface DenoServeOptions extends ServeOptions {
  /** Called once listening, with the bound address. */
  readonly onListen?: (addr: { hostname: string; port: number }) => void;
}

/**
 * Starts listening (binding is synchronous, so a port in use throws here, as
 * {@link AddressInUseError}). Deno aborts `req.signal` when the client goes
 * away and streams request and response bodies itself.
 */
export function serveWithDeno(
  broadcaster: Broadcaster,
  options: DenoServeOptions = {},
): RunningServer {
  const hostname = options.hostname ?? "0.0.0.0";
  const port = options.port ?? 3003;
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname,
      port,
      onListen: (addr) => options.onListen?.(addr),
      onError(error) {
        console.error("Unhandled server error", error);
        return new Response("Internal error\n", { status: 500 });
      },
    }, (req) => broadcaster.handle(req));
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      throw new AddressInUseError(hostname, port, { cause: e });
    }
    throw e;
  }
  let stopping: Promise<void> | null = null;
  return {
    addr: { hostname: server.addr.hostname, port: server.addr.port },
    finished: server.finished,
    shutdown(graceMs?: number) {
      stopping ??= (async () => {
        // Deno's shutdown stops accepting at once and resolves when every
        // response is done; the broadcaster's close bounds that by the grace.
        const stopped = server.shutdown();
        await broadcaster.close(graceMs);
        const late = deadline(1000);
        await Promise.race([stopped, late.promise]);
        late.cancel();
      })();
      return stopping;
    },
  };
}
