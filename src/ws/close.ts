/**
 * Why a websocket closes: the codes of docs/protocol/websocket.md#closing, the
 * error a session throws to close with one, and the log line every close gets.
 *
 * @module
 */

import type { Logger } from "../log.ts";

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
  /**
   * A RECEIVE_STREAM was started for a message delivered while it arrived, and the message then
   * failed its SHA-512 check (or was cut): the protocol cannot withdraw a started stream
   * (docs/decisions.md#delivered-while-it-arrives). A private-use code (RFC 6455 §7.4.2).
   */
  MESSAGE_ABANDONED: 4000,
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

/** What a runtime reports for a close frame without a code (1005) and for no close frame (1006). */
const NO_STATUS = 1005;
const ABNORMAL = 1006;

/** A close reason as a close frame holds it (at most 123 bytes): ASCII, cut to 120 characters. */
export function closeReason(reason: string): string {
  const ascii = reason.replace(/[^\x20-\x7e]/g, "?");
  return ascii.length <= 120 ? ascii : ascii.slice(0, 117) + "...";
}

/** A close from our side. */
export interface ServerClose {
  /** The connection's id. */
  readonly connection: number;
  /** Close code sent. */
  readonly code: number;
  /** Close reason sent. */
  readonly reason: string;
  /** The limit that was hit, if one was. */
  readonly limit?: string | undefined;
  /** The internal error behind a 1011, if that is why. */
  readonly error?: unknown;
}

/**
 * Logs a close from our side: an internal error at error, shutdown (1000,
 * 1001) at info, every other close (limits, protocol, authorization) at warn.
 */
export function logServerClose(log: Logger, close: ServerClose): void {
  const { error, limit, ...fields } = close;
  const line: Record<string, unknown> = limit === undefined ? fields : { ...fields, limit };
  if (error !== undefined) log.error("Closing websocket after an error", { ...line, error });
  else if (close.code === CloseCode.NORMAL || close.code === CloseCode.GOING_AWAY) {
    log.info("Closing websocket", line);
  } else log.warn("Closing websocket", line);
}

/**
 * Logs the socket's close as the runtime reported it: the end of our own
 * close handshake (`ours`) at debug; else the client's clean close at info,
 * and a close with an error code, or a connection lost without a close frame
 * (1006), at warn.
 */
export function logPeerClose(
  log: Logger,
  connection: number,
  code: number,
  reason: string,
  ours: boolean,
): void {
  const fields = { connection, code, reason };
  if (ours) log.debug("Websocket closed", fields);
  else if (code === CloseCode.NORMAL || code === CloseCode.GOING_AWAY || code === NO_STATUS) {
    log.info("Websocket closed by the client", fields);
  } else if (code === ABNORMAL) log.warn("Websocket connection lost without a close frame", fields);
  else log.warn("Websocket closed by the client with an error", fields);
}
