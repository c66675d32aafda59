/**
 * Deno's way of pinning a fetch to one address (the SSRF guard): an HTTP
 * client whose every connection goes to `address:port` while the url, the
 * Host header and TLS server name keep the original host.
 *
 * @module
 */

import type { PinnedFetch } from "../core/outbound.ts";

/** A fetch connecting only to `address:port`. */
export function denoPin(address: string, port: number): PinnedFetch {
  const client = Deno.createHttpClient({ proxy: { transport: "tcp", hostname: address, port } });
  return {
    fetch: (url, init) => fetch(url, { ...init, client }),
    close: () => client.close(),
  };
}
