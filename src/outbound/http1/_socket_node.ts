/**
 * {@link Connector} over `node:net` / `node:tls` (Bun and Node; Deno has a
 * cheaper one of its own).
 *
 * @module
 */

import { connect as netConnect, isIP, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import process from "node:process";
import {
  type ByteSocket,
  ConnectError,
  type Connector,
  isRefusedError,
  PROXY_VARIABLES,
} from "./socket.ts";
import type { SocketEvents } from "./socket.ts";

/** Whether a proxy variable is set (Bun's fetch honours them; Node's may). */
export function nodeProxyConfigured(): boolean {
  return PROXY_VARIABLES.some((variable) => (process.env[variable] ?? "") !== "");
}

/** Connects with the runtime's `node:net`, or `node:tls` for https. */
export const nodeConnector: Connector = (target, events, signal) =>
  new Promise<ByteSocket>((resolve, reject) => {
    const socket: Socket = target.tls
      ? tlsConnect({
        host: target.hostname,
        port: target.port,
        ...(isIP(target.hostname) === 0 ? { servername: target.hostname } : {}),
        ALPNProtocols: ["http/1.1"],
      })
      : netConnect({ host: target.hostname, port: target.port });
    const fail = (error: Error) => {
      cleanup();
      socket.destroy();
      reject(
        new ConnectError(`${error.name}: ${error.message}`, isRefusedError(error), {
          cause: error,
        }),
      );
    };
    const onAbort = () => fail(new Error("Aborted"));
    const ready = () => {
      cleanup();
      socket.setNoDelay(true);
      resolve(new NodeSocket(socket, events));
    };
    const cleanup = () => {
      socket.off("error", fail);
      socket.off(target.tls ? "secureConnect" : "connect", ready);
      signal.removeEventListener("abort", onAbort);
    };
    socket.once("error", fail);
    socket.once(target.tls ? "secureConnect" : "connect", ready);
    signal.addEventListener("abort", onAbort, { once: true });
  });

class NodeSocket implements ByteSocket {
  readonly #socket: Socket;
  #ended = false;
  #failure: Error | null = null;

  constructor(socket: Socket, events: SocketEvents) {
    this.#socket = socket;
    socket.on("data", (chunk: Uint8Array) => events.data(chunk));
    socket.on("error", (error: Error) => {
      this.#failure ??= error;
    });
    socket.on("close", () => {
      if (this.#ended) return;
      this.#ended = true;
      events.end(this.#failure);
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    // Resolves on the write callback: only then may the caller reuse `bytes`.
    return new Promise((resolve, reject) => {
      this.#socket.write(bytes, (error) => error ? reject(error) : resolve());
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}
