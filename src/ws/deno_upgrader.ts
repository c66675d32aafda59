/**
 * The websocket upgrade on Deno (`Deno.upgradeWebSocket`): what lets
 * `broadcaster.handle(req)` inside any `Deno.serve` app serve websockets with
 * no extra code.
 *
 * @module
 */

import type { WebSocketUpgrader, WsEvents, WsPeer } from "./socket.ts";

/** Upgrades with `Deno.upgradeWebSocket`; binary messages arrive as bytes. */
export const denoUpgrader: WebSocketUpgrader = {
  upgrade(req, open) {
    // Deno pings idle sockets and drops those that stop answering (120 s).
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.binaryType = "arraybuffer";
    let events: WsEvents | null = null;
    const peer: WsPeer = {
      // Closing (by the client, or Deno after an error): the close event
      // follows, so what is sent now is dropped rather than thrown.
      send: (data) => {
        if (socket.readyState === WebSocket.OPEN) socket.send(data as Uint8Array<ArrayBuffer>);
      },
      // WebSocket.send copies the bytes into the frame it queues.
      copiesOnSend: true,
      get bufferedAmount() {
        return socket.bufferedAmount;
      },
      close: (code, reason) => {
        if (socket.readyState < WebSocket.CLOSING) socket.close(code, reason);
      },
    };
    socket.onopen = () => {
      events = open(peer);
    };
    socket.onmessage = (e: MessageEvent) => {
      events?.message(typeof e.data === "string" ? e.data : new Uint8Array(e.data));
    };
    // Deno drops the connection without a close frame when reading or
    // writing fails (its close event then has code 0): report it as 1006,
    // with the error Deno gave as the reason.
    let failure = "";
    socket.onerror = (e: Event) => {
      failure = e instanceof ErrorEvent ? e.message : "websocket error";
    };
    socket.onclose = (e: CloseEvent) => {
      const ended = events;
      events = null;
      ended?.close(e.code === 0 ? 1006 : e.code, e.reason || failure);
    };
    return response;
  },
};
