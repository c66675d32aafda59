/**
 * Serves a broadcaster with `node:http`: the only file that touches it.
 * Converts each `IncomingMessage` into a Web `Request` whose body streams
 * from the socket (never buffered) and whose signal aborts when the client
 * goes away, and streams the `Response` body back with backpressure.
 *
 * @module
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Buffer } from "node:buffer";
import { Readable } from "node:stream";
import { WebSocketServer } from "ws";
import type { Broadcaster } from "../broadcaster.ts";
import type { WebSocketUpgrader } from "../ws/mod.ts";
import { AddressInUseError, type RunningServer, type ServeOptions } from "./types.ts";

/** The part of a `ws` WebSocket we use (the package ships no types). */
interface NodeWebSocket {
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code: number, reason: string): void;
  on(event: "message", fn: (data: Uint8Array, isBinary: boolean) => void): void;
  on(event: "close", fn: (code: number, reason: Uint8Array) => void): void;
  on(event: "error", fn: (error: Error) => void): void;
}

/** The part of `ws`'s WebSocketServer we use. */
interface NodeWebSocketServer {
  handleUpgrade(
    req: IncomingMessage,
    socket: Socket,
    head: Uint8Array,
    done: (ws: NodeWebSocket) => void,
  ): void;
}

/**
 * Starts listening with `node:http`. Binding is asynchronous on Node, so this
 * resolves once listening and rejects with {@link AddressInUseError} when the
 * port is taken.
 *
 * Node enforces the header and keep-alive timeouts and the connection cap
 * itself (a connection over the cap is closed at once); its whole-request
 * timeout is off, since notify bodies may be any size: the core's body guard
 * cuts slow bodies instead.
 */
export async function serveWithNode(
  broadcaster: Broadcaster,
  options: ServeOptions = {},
): Promise<RunningServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 3003;
  const { headersTimeoutMs, keepAliveTimeoutMs, maxConnections } = broadcaster.limits;
  const server = createServer({
    requestTimeout: 0,
    headersTimeout: headersTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
    // How often Node looks for connections past the header timeout.
    connectionsCheckingInterval: Math.max(100, Math.min(1000, headersTimeoutMs / 4)),
  }, (req, res) => void answer(broadcaster, req, res));
  server.maxConnections = maxConnections;
  server.on("clientError", refuseMalformed);
  // Node can see connections: report them for /metrics.
  server.on("connection", (socket: Socket) => {
    broadcaster.metrics.connectionOpened();
    socket.once("close", () => broadcaster.metrics.connectionClosed());
    lingerOnClose(socket);
  });
  // The `ws` package does the RFC 6455 handshake and framing on the raw socket.
  const wss = new (WebSocketServer as unknown as new (opts: object) => NodeWebSocketServer)({
    noServer: true,
    maxPayload: broadcaster.limits.websocketMaxIncomingBytes,
  });
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Uint8Array) => {
    void upgrade(broadcaster, wss, req, socket, head);
  });
  await listen(server, hostname, port);
  const addr = server.address() as AddressInfo;
  const finished = Promise.withResolvers<void>();
  server.on("close", () => finished.resolve());
  let stopping: Promise<void> | null = null;
  return {
    addr: { hostname: addr.address, port: addr.port },
    finished: finished.promise,
    shutdown(graceMs?: number) {
      stopping ??= (async () => {
        server.close();
        server.closeIdleConnections();
        await broadcaster.close(graceMs);
        server.closeAllConnections();
        await finished.promise;
      })();
      return stopping;
    },
  };
}

function listen(server: Server, hostname: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error & { code?: string }) => {
      reject(e.code === "EADDRINUSE" ? new AddressInUseError(hostname, port, { cause: e }) : e);
    };
    server.once("error", onError);
    server.listen(port, hostname, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

async function answer(
  broadcaster: Broadcaster,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const aborted = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) aborted.abort(new Error("Client disconnected"));
  });
  // Answered before the whole body came: drop the rest as it arrives (the
  // body's stream, unread, would hold the socket paused; see lingerOnClose).
  res.once("finish", () => {
    if (req.complete) return;
    req.removeAllListeners("data");
    req.resume();
  });
  try {
    const response = await broadcaster.handle(toRequest(req, aborted.signal));
    await writeResponse(response, res, aborted.signal);
  } catch (e) {
    if (!res.headersSent) {
      console.error("Unhandled server error", e);
      res.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end("Internal error\n");
    } else {
      res.destroy();
    }
  }
}

/** An `upgrade` event: the broadcaster decides; the `ws` package completes it. */
async function upgrade(
  broadcaster: Broadcaster,
  wss: NodeWebSocketServer,
  req: IncomingMessage,
  socket: Socket,
  head: Uint8Array,
): Promise<void> {
  let upgraded = false;
  const upgrader: WebSocketUpgrader = {
    upgrade: (_request, open) =>
      new Promise((resolve, reject) => {
        // ws answers an invalid handshake itself and never calls back.
        const gone = () => reject(new Error("Invalid websocket handshake"));
        socket.once("close", gone);
        wss.handleUpgrade(req, socket, head, (ws) => {
          socket.off("close", gone);
          upgraded = true;
          const events = open({
            send: (bytes) => ws.send(bytes),
            get bufferedAmount() {
              return ws.bufferedAmount;
            },
            close: (code, reason) => {
              if (ws.readyState < 2) ws.close(code, reason);
            },
          });
          ws.on("message", (data, isBinary) => {
            events.message(isBinary ? data : new TextDecoder().decode(data));
          });
          // An error is followed by a close (1006): the error is its reason.
          let failure = "";
          ws.on("error", (e) => failure = e.message);
          ws.on(
            "close",
            (code, reason) => events.close(code, new TextDecoder().decode(reason) || failure),
          );
          resolve(new Response(null, { status: 200 }));
        });
      }),
  };
  try {
    const response = await broadcaster.handle(
      toRequest(req, new AbortController().signal),
      upgrader,
    );
    if (upgraded || socket.destroyed) return;
    const body = new Uint8Array(await response.arrayBuffer());
    const lines = [`HTTP/1.1 ${response.status} ${response.statusText || "Error"}`];
    response.headers.forEach((value, name) => lines.push(`${name}: ${value}`));
    lines.push(`content-length: ${body.length}`, "connection: close", "", "");
    socket.end(Buffer.concat([Buffer.from(lines.join("\r\n")), body]));
  } catch {
    socket.destroy();
  }
}

function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  }
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  return new Request(requestUrl(headers.get("host"), req.url ?? "/"), {
    method,
    headers,
    signal,
    ...(hasBody ? { body: bodyOf(req), duplex: "half" } : {}),
  } as RequestInit);
}

/**
 * The request body as a stream. Unlike `Readable.toWeb`, cancelling it (the
 * core answered without reading the rest) drops the rest of the body
 * instead of destroying the request, which would reset a client still
 * sending before it can read the answer (see {@link lingerOnClose}).
 */
function bodyOf(req: IncomingMessage): ReadableStream<Uint8Array> {
  const web = Readable.toWeb(req) as ReadableStream<Uint8Array>;
  const reader = web.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await reader.read();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel() {
      reader.releaseLock();
      req.removeAllListeners("data");
      req.resume();
    },
  }, { highWaterMark: 0 });
}

/** Longest a lingering close waits for the client to stop sending, ms. */
const LINGER_MS = 2_000;

/**
 * Makes Node's close after an answer (`destroySoon`, called after a
 * `connection: close` response) a lingering close, as the Deno front does
 * (`_pump.ts`): half-close, let the client finish sending (the server drops
 * it), then close once it has, or after {@link LINGER_MS}. Destroying the
 * socket at once resets a client still sending, and it may never read the
 * answer.
 */
function lingerOnClose(socket: Socket): void {
  socket.destroySoon = function (this: Socket): void {
    if (this.destroyed) return;
    if (this.writable) this.end();
    const close = (): void => {
      if (this.writableFinished) this.destroy();
      else this.once("finish", () => this.destroy());
    };
    if (this.readableEnded) return close();
    const timer = setTimeout(close, LINGER_MS);
    this.once("end", () => {
      clearTimeout(timer);
      close();
    });
    this.once("close", () => clearTimeout(timer));
    this.resume();
  };
}

const refused = new WeakSet<Socket>();

/**
 * Node's parser refused a request (too long a head, malformed): answer it
 * (431 or 400) and close with a lingering close, instead of Node's default
 * of destroying the socket at once, which resets a client still sending.
 */
function refuseMalformed(error: Error & { code?: string }, socket: Socket): void {
  // The parser reports the rest of what comes as errors too: answer once.
  if (refused.has(socket)) return;
  refused.add(socket);
  if (
    error.code === "ERR_HTTP_REQUEST_TIMEOUT" || error.code === "ECONNRESET" || !socket.writable
  ) {
    if (socket.writable && error.code === "ERR_HTTP_REQUEST_TIMEOUT") {
      socket.end("HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    }
    socket.destroy();
    return;
  }
  const [status, reason] = error.code === "HPE_HEADER_OVERFLOW"
    ? [431, "Request Header Fields Too Large"]
    : [400, "Bad Request"];
  const body = `${reason}\n`;
  socket.write(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
      `content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
  );
  socket.destroySoon();
}

/** The request's URL; a Host header that is not a valid host falls back to localhost. */
function requestUrl(host: string | null, path: string): string {
  try {
    return new URL(path, `http://${host ?? "localhost"}`).href;
  } catch {
    return new URL(path, "http://localhost").href;
  }
}

async function writeResponse(
  response: Response,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  const headers: [string, string][] = [];
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers.push([name, value]);
  });
  for (const cookie of response.headers.getSetCookie()) headers.push(["set-cookie", cookie]);
  res.writeHead(response.status, response.statusText, headers.flat());
  if (response.body === null) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  const cancel = () => void reader.cancel(signal.reason).catch(() => {});
  signal.addEventListener("abort", cancel, { once: true });
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await drained(res);
    }
    res.end();
  } finally {
    signal.removeEventListener("abort", cancel);
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
