/**
 * Why a websocket closes: the codes of docs/protocol/websocket.md#closing, and the
 * error a session throws to close with one.
 *
 * @module
 */

/** Close codes (RFC 6455 §7.4.1) as the broadcaster uses them. */
export const CloseCode = {
  /** A normal end (client or server shutdown). */
  NORMAL: 1000,
  /** The server is shutting down. */
  GOING_AWAY: 1001,
  /** A protocol violation: bad framing, unknown type, wrong ack, duplicate subscribe, … */
  PROTOCOL: 1002,
  /** Authorization refused, or CONFIGURE did not come in time. */
  POLICY: 1008,
  /** A message too large to accept or to deliver. */
  TOO_BIG: 1009,
  /** An error of ours (store, auth backend, bug). */
  INTERNAL: 1011,
  /** A queue or buffer limit was hit (the client is too slow): reconnect later. */
  TRY_AGAIN_LATER: 1013,
} as const;

/**
 * Thrown inside a session to close the connection with `code` and `reason`;
 * `limit` names the limit that was hit, if one was (e.g.
 * `websocketMaxPendingSends`), for the log line.
 */
export class WsClose extends Error {
  /** The close code. */
  readonly code: number;
  /** The name of the limit that was hit, if one was. */
  readonly limit: string | undefined;

  /** `reason` goes on the wire (the session cuts it to 123 bytes of ASCII). */
  constructor(code: number, reason: string, limit?: string) {
    super(reason);
    this.name = "WsClose";
    this.code = code;
    this.limit = limit;
  }
}

/** The close for a failed authorization check. */
export function authClose(result: "unauthorized" | "forbidden" | "unavailable", what: string) {
  return result === "unavailable"
    ? new WsClose(CloseCode.TRY_AGAIN_LATER, `Authorization unavailable (${what})`)
    : new WsClose(CloseCode.POLICY, `Authorization ${result} (${what})`);
}
