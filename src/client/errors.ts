/**
 * The client's typed errors: every failure a caller can see is one of these,
 * so an application can tell a refused request from a broken broadcaster.
 *
 * @module
 */

/** Why a client operation failed. */
export type ClientErrorKind =
  /** The broadcaster refused the credentials (401/403, or a closed websocket after CONFIGURE). */
  | "unauthorized"
  /** The broadcaster answered something that is not the protocol (bad body, bad signature). */
  | "protocol"
  /** No broadcaster could be reached, or the connection dropped and the operation cannot be replayed. */
  | "unavailable"
  /** The caller's input is invalid (topic too long, body length or hash mismatch). */
  | "invalid"
  /** The client was closed. */
  | "closed"
  /** The operation was aborted through its signal. */
  | "aborted";

/** An error from the client, with a {@link ClientErrorKind}. */
export class ClientError extends Error {
  /** What kind of failure this is. */
  readonly kind: ClientErrorKind;

  /** Records the kind. */
  constructor(kind: ClientErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ClientError";
    this.kind = kind;
  }
}

/** The error to reject with when `signal` fired. */
export function abortError(signal: AbortSignal): ClientError {
  return new ClientError("aborted", "Aborted", { cause: signal.reason });
}
