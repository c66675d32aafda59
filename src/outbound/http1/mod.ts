/**
 * Our HTTP/1.1 client for RECEIVE and MISSED, shared by every broadcaster of
 * the process (like `fetch`'s own connection pool, and so one cap on
 * outgoing connections for the process). A broadcaster holds it from
 * creation to close; while at least one does, `postBytes` goes through it,
 * and when the last one lets go every connection is closed (requests still
 * in flight fail as aborted). Where the runtime has no raw sockets nothing is
 * held and `postBytes` keeps using `fetch`.
 *
 * @example
 * ```ts
 * import { holdOutgoingClient } from "./mod.ts";
 *
 * const release = await holdOutgoingClient();
 * // … postBytes(url, options) now uses keep-alive sockets of our own …
 * await release();
 * ```
 *
 * @module
 */

import type { PostOptions, PostResult } from "../post_types.ts";
import { postWithPool } from "./client.ts";
import { Deadlines } from "./deadlines.ts";
import { ConnectionPool } from "./pool.ts";
import { loadConnector } from "./connector.ts";

export { sizeAllowanceMs, WriteProgress } from "./progress.ts";

/** Most outgoing connections open at once, all origins together, unless a holder asks for fewer. */
export const MAX_OUTGOING_CONNECTIONS = 1024;
/** Idle keep-alive connections are closed after this, ms. */
export const IDLE_TIMEOUT_MS = 4_000;

interface Shared {
  readonly pool: ConnectionPool;
  readonly deadlines: Deadlines;
  holders: number;
}

let shared: Shared | null = null;
let loading: Promise<Shared | null> | null = null;

/**
 * Holds the process's client until the returned function is called (once),
 * with at most `maxConnections` open (the lowest any holder asked for).
 * Resolves to a no-op holder where raw sockets are unavailable.
 */
export async function holdOutgoingClient(
  maxConnections = MAX_OUTGOING_CONNECTIONS,
): Promise<() => Promise<void>> {
  const client = await load();
  if (client === null) return () => Promise.resolve();
  // Idle keep-alive connections count too: the cap bounds descriptors.
  client.pool.limitConnections(maxConnections);
  client.holders++;
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    if (--client.holders > 0) return;
    if (shared === client) shared = null;
    await client.pool.close();
    client.deadlines.stop();
  };
}

/** POSTs through the held client; null when none is held (the caller uses fetch). */
export function postThroughHeldClient(
  url: string,
  opts: PostOptions,
): Promise<PostResult> | null {
  const client = shared;
  if (client === null || client.holders === 0) return null;
  return postWithPool(client.pool, client.deadlines, url, opts);
}

async function load(): Promise<Shared | null> {
  if (shared !== null) return shared;
  loading ??= (async () => {
    const connector = await loadConnector();
    if (connector === null) return null;
    shared ??= {
      pool: new ConnectionPool({
        connector,
        maxConnections: MAX_OUTGOING_CONNECTIONS,
        idleTimeoutMs: IDLE_TIMEOUT_MS,
      }),
      deadlines: new Deadlines(),
      holders: 0,
    };
    return shared;
  })().finally(() => loading = null);
  return await loading;
}
