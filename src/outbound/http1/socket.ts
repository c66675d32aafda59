/**
 * The byte-stream seam under our HTTP/1.1 client: connect (TCP or TLS), write,
 * be told about incoming bytes and the end. One implementation per runtime
 * family (`_socket_deno.ts`, `_socket_node.ts`), loaded lazily by
 * `connector.ts` so each runtime parses only its own: `Deno.connect` on Deno,
 * `node:net`/`node:tls` on Bun and Node.
 *
 * @module
 */

/** Where to connect. */
export interface ConnectTarget {
  /** Host name or IP literal (IPv6 without brackets). */
  readonly hostname: string;
  /** TCP port. */
  readonly port: number;
  /** TLS through the runtime's own stack and root certificates. */
  readonly tls: boolean;
}

/** What a connected socket reports; each is called on the socket's owner. */
export interface SocketEvents {
  /** Bytes arrived. The chunk is only valid during the call (its buffer is reused). */
  data(chunk: Uint8Array): void;
  /** The connection ended: `null` when the peer closed it, else the error. Called once. */
  end(error: Error | null): void;
}

/** A connected byte stream. */
export interface ByteSocket {
  /**
   * Writes all of `bytes`; resolves once the runtime no longer needs them (so
   * the caller may reuse the buffer), rejects when the connection failed.
   */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes both directions at once; `end` follows. Idempotent. */
  close(): void;
}

/** Opens a connection; rejects with {@link ConnectError} when it cannot. */
export type Connector = (
  target: ConnectTarget,
  events: SocketEvents,
  signal: AbortSignal,
) => Promise<ByteSocket>;

/** A connection that could not be set up (no byte of a request was sent). */
export class ConnectError extends Error {
  /** Nothing listened at the address. */
  readonly refused: boolean;

  /** Wraps the runtime's error. */
  constructor(message: string, refused: boolean, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConnectError";
    this.refused = refused;
  }
}

/** Whether a runtime error means "connection refused", whatever the runtime calls it. */
export function isRefusedError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  return code === "ECONNREFUSED" || name === "ConnectionRefused" ||
    (typeof message === "string" && /connection refused|ECONNREFUSED/i.test(message));
}

/** The proxy variables `fetch` reads (either case). */
export const PROXY_VARIABLES = ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"].flatMap((
  name,
) => [name, name.toLowerCase()]);
