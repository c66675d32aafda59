/**
 * Serves a broadcaster with `Bun.serve`. The only file that touches Bun's
 * HTTP server. Bun's types are declared here structurally (no @types
 * package): only what we call.
 *
 * @module
 */

import type { Broadcaster } from "../broadcaster.ts";
import type { WebSocketUpgrader, WsEvents, WsPeer } from "../ws/mod.ts";
import { AddressInUseError, type RunningServer, type ServeOptions } from "./types.ts";

interface BunServer {
  readonly hostname: string;
  readonly port: number;
  stop(closeActiveConnections?: boolean): Promise<void>;
  upgrade(req: Request, options: { data: BunSocketData }): boolean;
  /** Sets the idle timeout of `req`'s connection, seconds (0: none). */
  timeout(req: Request, seconds: number): void;
}

/** What we attach to each Bun websocket. */
export interface BunSocketData {
  /** Starts the session once Bun has opened the socket. */
  open: (peer: WsPeer) => WsEvents;
  /** The session's handlers, once open. */
  events: WsEvents | null;
}

/** The part of Bun's `ServerWebSocket` we use. */
export interface BunWebSocket {
  /** What `upgrade` attached. */
  readonly data: BunSocketData;
  /** The WebSocket ready state (0 connecting … 3 closed). */
  readonly readyState: number;
  /** Sends one binary message; Bun answers bytes sent, -1 (backpressure) or 0 (dropped). */
  send(data: Uint8Array): number;
  /** Bytes queued but not yet sent. */
  getBufferedAmount(): number;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
}

/** The `websocket` option of `Bun.serve`, as far as we use it. */
export interface BunWebSocketHandlers {
  /** Largest incoming message, bytes (Bun closes the socket beyond). */
  maxPayloadLength: number;
  /** Seconds without a message before Bun pings/closes; 0 disables. */
  idleTimeout: number;
  /** Whether Bun pings idle sockets. */
  sendPings: boolean;
  /** A socket opened. */
  open(ws: BunWebSocket): void;
  /** A message arrived. */
  message(ws: BunWebSocket, message: string | Uint8Array): void;
  /** A socket closed. */
  close(ws: BunWebSocket, code: number, reason: string): void;
}

/** Responses that stand for "upgraded": Bun wants `undefined` returned from `fetch`. */
const UPGRADED = new WeakSet<Response>();

/**
 * What a Bun app that embeds the broadcaster needs: `upgrader(server)` to pass
 * to `broadcaster.handle(req, …)` and `handlers` for `Bun.serve`'s `websocket`
 * option. `fetch` must return `undefined` for a response that
 * {@link isUpgraded} says is the upgrade.
 *
 * @example
 * ```ts ignore
 * const ws = bunWebSocket(broadcaster.limits.websocketMaxIncomingBytes);
 * Bun.serve({
 *   fetch: async (req, server) => {
 *     const res = await broadcaster.handle(req, ws.upgrader(server));
 *     return isUpgraded(res) ? undefined : res;
 *   },
 *   websocket: ws.handlers,
 * });
 * ```
 */
export function bunWebSocket(maxMessageBytes: number): {
  upgrader(server: unknown): WebSocketUpgrader;
  handlers: BunWebSocketHandlers;
} {
  return {
    upgrader: (server) => ({
      upgrade(req, open) {
        const data: BunSocketData = { open, events: null };
        if (!(server as BunServer).upgrade(req, { data })) throw new Error("Not an upgrade");
        const res = new Response(null, { status: 200 });
        UPGRADED.add(res);
        return res;
      },
    }),
    handlers: {
      maxPayloadLength: maxMessageBytes,
      idleTimeout: 120,
      sendPings: true,
      open(ws) {
        ws.data.events = ws.data.open({
          send: (bytes) => void ws.send(bytes),
          get bufferedAmount() {
            return ws.getBufferedAmount();
          },
          close: (code, reason) => ws.close(code, reason),
        });
      },
      message(ws, message) {
        ws.data.events?.message(typeof message === "string" ? message : new Uint8Array(message));
      },
      close(ws, code, reason) {
        const events = ws.data.events;
        ws.data.events = null;
        events?.close(code, reason);
      },
    },
  };
}

/** True for the placeholder response of a websocket upgrade done by Bun. */
export function isUpgraded(res: Response): boolean {
  return UPGRADED.has(res);
}

interface BunServeOptions {
  hostname: string;
  port: number;
  /** Seconds a connection may stay silent, at most 255; 0 disables. */
  idleTimeout: number;
  /** Bun refuses bodies over 128 MiB by default; notify bodies may be any size. */
  maxRequestBodySize: number;
  fetch(req: Request, server: BunServer): Promise<Response | undefined>;
  error(error: Error): Response;
  websocket: BunWebSocketHandlers;
}

interface BunGlobal {
  serve(options: BunServeOptions): BunServer;
}

/**
 * Starts listening with `Bun.serve` (binding is synchronous: a port in use
 * throws {@link AddressInUseError} here). Bun streams request and response
 * bodies and aborts `req.signal` when the client disconnects.
 *
 * Bun's idle timeout (whole seconds, at most 255, checked every few seconds)
 * closes keep-alive connections idle after a response; it is lifted while a
 * request is handled, so long fan-outs are not cut. Bun has no header
 * timeout and no connection cap, and never times out a connection that has
 * sent no complete request: put a proxy that enforces them in front of Bun.
 */
export function serveWithBun(broadcaster: Broadcaster, options: ServeOptions = {}): RunningServer {
  const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 3003;
  let server: BunServer;
  const ws = bunWebSocket(broadcaster.limits.websocketMaxIncomingBytes);
  const idleSeconds = Math.min(
    255,
    Math.max(1, Math.ceil(broadcaster.limits.keepAliveTimeoutMs / 1000)),
  );
  try {
    server = bun.serve({
      hostname,
      port,
      idleTimeout: idleSeconds,
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      websocket: ws.handlers,
      fetch: async (req, srv) => {
        srv.timeout(req, 0);
        const res = await broadcaster.handle(req, ws.upgrader(srv));
        if (isUpgraded(res)) return undefined;
        srv.timeout(req, idleSeconds);
        return res;
      },
      error(error) {
        console.error("Unhandled server error", error);
        return new Response("Internal error\n", { status: 500 });
      },
    });
  } catch (e) {
    if ((e as { code?: unknown }).code === "EADDRINUSE") {
      throw new AddressInUseError(hostname, port, { cause: e });
    }
    throw e;
  }
  const finished = Promise.withResolvers<void>();
  let stopping: Promise<void> | null = null;
  return {
    addr: { hostname: server.hostname, port: server.port },
    finished: finished.promise,
    shutdown(graceMs?: number) {
      stopping ??= (async () => {
        // stop(false) stops accepting and lets requests in flight finish; the
        // broadcaster's close bounds that wait by the grace, then stop(true)
        // drops whatever is left.
        const stopped = server.stop(false);
        await broadcaster.close(graceMs);
        await server.stop(true);
        await stopped;
        finished.resolve();
      })();
      return stopping;
    },
  };
}
