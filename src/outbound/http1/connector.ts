/**
 * Picks the byte-stream implementation of the running runtime (see
 * `socket.ts` for the seam), imported lazily so each runtime parses only its own.
 *
 * @module
 */

import type { Connector } from "./socket.ts";

/**
 * The connector of the running runtime, or null where there are no raw
 * sockets, or where an HTTP proxy is configured (`HTTP_PROXY`, `HTTPS_PROXY`,
 * `ALL_PROXY`, which `fetch` honours and our client does not): the caller
 * then keeps using `fetch`.
 */
export async function loadConnector(): Promise<Connector | null> {
  try {
    if ("Deno" in globalThis && !("Bun" in globalThis)) {
      const deno = (globalThis as { Deno?: { connect?: unknown } }).Deno;
      if (typeof deno?.connect !== "function") return null;
      const { denoConnector, denoProxyConfigured } = await import("./_socket_deno.ts");
      return denoProxyConfigured() ? null : denoConnector;
    }
    const { nodeConnector, nodeProxyConfigured } = await import("./_socket_node.ts");
    return nodeProxyConfigured() ? null : nodeConnector;
  } catch {
    return null;
  }
}
