/**
 * What every runtime adapter (Deno, Bun, Node) promises, so the CLI can start
 * a broadcaster without knowing which runtime it is on.
 *
 * @module
 */

/** Where to listen. */
export interface ServeOptions {
  /** Interface to bind. Default `127.0.0.1` (this machine only). */
  readonly hostname?: string;
  /** Port; 0 picks a free one. Default 3003. */
  readonly port?: number;
  /**
   * Deno only (Bun and Node ignore it): accept connections in a front of our
   * own (default `true`). It survives running out of descriptors, caps
   * connections (`limits.maxConnections`) and closes connections that send
   * no request in time (`limits.headersTimeoutMs`,
   * `limits.keepAliveTimeoutMs`). It serves plain HTTP/1.1 requests itself
   * and relays websocket upgrades (and any unusual request) to `Deno.serve`
   * behind it. `false` serves with `Deno.serve` directly: for use behind a
   * reverse proxy or load balancer that already caps and times out client
   * connections. Without the front an accept error (out of descriptors)
   * stops the server, those three limits do not apply, and `/metrics` counts
   * no connections.
   */
  readonly front?: boolean;
}

/** A listening server. */
export interface RunningServer {
  /** The bound address. */
  readonly addr: { hostname: string; port: number };
  /**
   * Stops accepting connections at once, lets requests in flight finish (up to
   * `graceMs` for the broadcaster's deliveries), closes the broadcaster, then
   * drops whatever connections remain. Idempotent.
   */
  shutdown(graceMs?: number): Promise<void>;
  /** Resolves when the server has stopped. */
  readonly finished: Promise<void>;
}

/** Thrown by every adapter when the port is taken, whatever the runtime calls it. */
export class AddressInUseError extends Error {
  /** `host:port` that could not be bound. */
  readonly address: string;

  /** Records the address that was taken. */
  constructor(hostname: string, port: number, options?: ErrorOptions) {
    super(`Address already in use: ${hostname}:${port}`, options);
    this.name = "AddressInUseError";
    this.address = `${hostname}:${port}`;
  }
}
