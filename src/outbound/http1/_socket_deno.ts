/**
 * {@link Connector} over `Deno.connect` / `Deno.connectTls`: the cheapest
 * sockets Deno has (a write and a read are one op each). Every connection
 * keeps one read pending, so a peer that closes an idle connection is noticed
 * at once rather than on the next request.
 *
 * @module
 */

import {
  type ByteSocket,
  ConnectError,
  type Connector,
  isRefusedError,
  PROXY_VARIABLES,
} from "./socket.ts";
import type { ConnectTarget, SocketEvents } from "./socket.ts";

/**
 * Whether a proxy variable is set (fetch would use it). Without the env
 * permission we cannot tell, and fetch could not read it either: no proxy.
 */
export function denoProxyConfigured(): boolean {
  return PROXY_VARIABLES.some((variable) =>
    Deno.permissions.querySync({ name: "env", variable }).state === "granted" &&
    (Deno.env.get(variable) ?? "") !== ""
  );
}

/** Bytes read per call; responses we read are small. */
const READ_BYTES = 16 * 1024;

/** Connects with Deno's own TCP and TLS. */
export const denoConnector: Connector = async (target, events, signal) => {
  let conn: Deno.Conn;
  try {
    conn = await open(target, signal);
  } catch (error) {
    throw new ConnectError(describe(error), isRefusedError(error), { cause: error });
  }
  return new DenoSocket(conn, events);
};

async function open(target: ConnectTarget, signal: AbortSignal): Promise<Deno.Conn> {
  if (!target.tls) {
    const conn = await Deno.connect({ hostname: target.hostname, port: target.port, signal });
    conn.setNoDelay(true);
    return conn;
  }
  const conn = await Deno.connectTls({ hostname: target.hostname, port: target.port });
  const onAbort = () => conn.close();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    // Certificate and handshake failures surface here, as connect failures.
    await conn.handshake();
    return conn;
  } catch (error) {
    try {
      conn.close();
    } catch { /* already closed by the abort */ }
    throw error;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

class DenoSocket implements ByteSocket {
  readonly #conn: Deno.Conn;
  readonly #events: SocketEvents;
  #closed = false;

  constructor(conn: Deno.Conn, events: SocketEvents) {
    this.#conn = conn;
    this.#events = events;
    this.#readLoop();
  }

  write(bytes: Uint8Array): Promise<void> {
    // Not async: a small request is one write that takes it all (no frame per request).
    let writing: Promise<number>;
    try {
      writing = this.#conn.write(bytes);
    } catch (error) {
      return Promise.reject(error);
    }
    return writing.then((n) => n < bytes.length ? this.write(bytes.subarray(n)) : undefined);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already gone */ }
  }

  async #readLoop(): Promise<void> {
    const buf = new Uint8Array(READ_BYTES);
    let failure: Error | null = null;
    try {
      for (;;) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        this.#events.data(buf.subarray(0, n));
      }
    } catch (error) {
      // A read cut short by our own close is an end, not a failure.
      if (!this.#closed) failure = error instanceof Error ? error : new Error(String(error));
    }
    this.close();
    this.#events.end(failure);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
