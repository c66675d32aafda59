/**
 * Serves a plain `(req: Request) => Promise<Response>` handler on whichever
 * runtime runs us, for small servers that are not a broadcaster (the
 * client's webhook receiver). No websockets, no connection caps: put it
 * behind a proxy, or mount the handler in your own server, where that matters.
 *
 * @module
 */

import { currentRuntime } from "../runtime_name.ts";

/** A listening handler server. */
export interface HandlerServer {
  /** The bound port. */
  readonly port: number;
  /** Stops listening and drops open connections. Idempotent. */
  close(): Promise<void>;
}

/** Where to listen. */
export interface HandlerServeOptions {
  /** Port; 0 picks a free one. */
  readonly port: number;
  /** Interface to bind. Default `127.0.0.1`. */
  readonly hostname?: string;
}

/** A request handler, as `Deno.serve` and `Bun.serve` take one. */
export type Handler = (req: Request) => Promise<Response>;

/** Starts serving `handler`. */
export async function serveHandler(
  handler: Handler,
  opts: HandlerServeOptions,
): Promise<HandlerServer> {
  const hostname = opts.hostname ?? "127.0.0.1";
  switch (currentRuntime()) {
    case "deno":
      return serveDeno(handler, opts.port, hostname);
    case "bun":
      return serveBun(handler, opts.port, hostname);
    case "node":
      return await serveNode(handler, opts.port, hostname);
  }
}

function serveDeno(handler: Handler, port: number, hostname: string): HandlerServer {
  const server = Deno.serve({ port, hostname, onListen: () => {} }, handler);
  let closing: Promise<void> | null = null;
  return {
    port: server.addr.port,
    close: () => (closing ??= server.shutdown().then(() => server.finished)),
  };
}

interface BunServer {
  readonly port: number;
  stop(closeActive?: boolean): Promise<void> | void;
}

function serveBun(handler: Handler, port: number, hostname: string): HandlerServer {
  const bun = (globalThis as unknown as {
    Bun: { serve(o: { port: number; hostname: string; fetch: Handler }): BunServer };
  }).Bun;
  const server = bun.serve({ port, hostname, fetch: handler });
  return { port: server.port, close: async () => await server.stop(true) };
}

async function serveNode(handler: Handler, port: number, hostname: string): Promise<HandlerServer> {
  const { createServer } = await import("node:http");
  const { Readable } = await import("node:stream");
  const server = createServer((req, res) => {
    const url = `http://${req.headers.host ?? hostname}${req.url ?? "/"}`;
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === "string") headers.set(k, v);
      else if (Array.isArray(v)) { for (const one of v) headers.append(k, one); }
    }
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const request = new Request(url, {
      method: req.method ?? "GET",
      headers,
      ...(hasBody
        ? { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: "half" }
        : {}),
    } as RequestInit);
    handler(request).then(async (response) => {
      const body = new Uint8Array(await response.arrayBuffer());
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(body);
    }).catch(() => {
      res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => resolve());
  });
  const addr = server.address();
  let closing: Promise<void> | null = null;
  return {
    port: typeof addr === "object" && addr !== null ? addr.port : port,
    close: () =>
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
