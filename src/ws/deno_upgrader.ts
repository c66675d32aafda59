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
      send: (data) => socket.send(data as Uint8Array<ArrayBuffer>),
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
    socket.onclose = (e: CloseEvent) => {
      const ended = events;
      events = null;
      ended?.close(e.code, e.reason);
    };
    return response;
  },
};
