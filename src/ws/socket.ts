/**
 * The websocket seam: the few things a session needs from a runtime's
 * websocket, and what an adapter must do to upgrade a request. Only
 * `src/runtime/*` implements these; the protocol in this folder stays
 * runtime-free.
 *
 * @module
 */

/** One open websocket as the protocol session sees it. */
export interface WsPeer {
  /**
   * Sends one binary message. Unless {@link copiesOnSend}, the caller changes the bytes only
   * once the client has them (an acknowledged part): Node's `ws` writes them later, by
   * reference.
   */
  send(data: Uint8Array): void;
  /** True when {@link send} copies the bytes before it returns (Deno), so they may be reused at once. */
  readonly copiesOnSend?: boolean;
  /** Bytes accepted by {@link send} but not yet written to the network. */
  readonly bufferedAmount: number;
  /** Starts the closing handshake (or drops the connection if that is all that is left). */
  close(code: number, reason: string): void;
}

/** What the session wants to hear about a peer. */
export interface WsEvents {
  /** A whole message arrived: bytes for binary, a string for text. */
  message(data: Uint8Array | string): void;
  /** The connection is closed, by either side (called once). */
  close(code: number, reason: string): void;
}

/** How a runtime turns a request into a websocket. */
export interface WebSocketUpgrader {
  /**
   * Answers `req` with the runtime's upgrade response; once the socket is
   * open, calls `open` with it and delivers every later event to what `open`
   * returned. Messages larger than `maxMessageBytes` may be refused by the
   * runtime itself (then the connection closes with 1009).
   *
   * @throws {Error} when `req` is not a valid upgrade request (answered 400)
   */
  upgrade(
    req: Request,
    open: (peer: WsPeer) => WsEvents,
    maxMessageBytes: number,
  ): Response | Promise<Response>;
}
