/**
 * Serves a broadcaster on Deno. The only file that runs Deno's HTTP server.
 *
 * `Deno.serve` owns its accept loop: one accept error (EMFILE, out of
 * descriptors) ends the server, and nothing sees a connection before its
 * first request, so neither a connection cap nor a header timeout can be
 * built on it. So a front accepts on the public address itself — surviving
 * accept errors (back off, log, keep serving), capping connections (closing
 * the oldest idle one to make room), and closing connections that send no
 * complete request in time (header timeout) or sit idle after one
 * (keep-alive timeout) — and serves plain HTTP/1.1 requests itself
 * (`_http1_serve.ts`: the head parsed, the handler called, the response
 * written on the client's connection). From the first head it does not
 * serve on (a websocket upgrade, or anything unusual: `_http1_head.ts`),
 * it relays the connection's bytes to `Deno.serve` on a loopback port,
 * which parses HTTP and upgrades websockets as usual; the handler tells the
 * front, by the relaying socket's port, when each relayed request starts
 * and ends. A relayed connection costs three descriptors and one copy of
 * every byte. (Deno's internal per-connection server,
 * `Deno[Deno.internal].serveHttpOnConnection`, would avoid the relay, but
 * it is not public, and it drops a websocket as soon as its upgrade
 * completes.)
 *
 * @module
 */

import type { Broadcaster } from "../broadcaster.ts";
import { deadline } from "../deadline.ts";
import { AcceptErrors, ConnectionTable, type TrackedConnection } from "./_connections.ts";
import { PlainConnection } from "./_http1_serve.ts";
import { LINGER_MS, Relay } from "./_pump.ts";
import { AddressInUseError, type RunningServer, type ServeOptions } from "./types.ts";

export type { RunningServer } from "./types.ts";

/** Where and how to listen. */
export interface DenoServeOptions extends ServeOptions {
  /** Called once listening, with the bound address. */
  readonly onListen?: (addr: { hostname: string; port: number }) => void;
}

/**
 * Starts listening (binding is synchronous, so a port in use throws here, as
 * {@link AddressInUseError}). Deno aborts `req.signal` when the client goes
 * away and streams request and response bodies itself.
 */
export function serveWithDeno(
  broadcaster: Broadcaster,
  options: DenoServeOptions = {},
): RunningServer {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 3003;
  if (options.front === false) return serveDirect(broadcaster, hostname, port, options.onListen);
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname, port });
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      throw new AddressInUseError(hostname, port, { cause: e });
    }
    throw e;
  }
  let front: DenoFront;
  try {
    front = new DenoFront(broadcaster, listener);
  } catch (e) {
    listener.close();
    throw e;
  }
  const addr = { hostname: listener.addr.hostname, port: listener.addr.port };
  options.onListen?.(addr);
  return front.running(addr);
}

/** `Deno.serve` on the public address, no front (see `ServeOptions.front`). */
function serveDirect(
  broadcaster: Broadcaster,
  hostname: string,
  port: number,
  onListen: DenoServeOptions["onListen"],
): RunningServer {
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve(
      { hostname, port, onListen: (addr) => onListen?.(addr), onError },
      (req) => broadcaster.handle(req),
    );
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      throw new AddressInUseError(hostname, port, { cause: e });
    }
    throw e;
  }
  let stopping: Promise<void> | null = null;
  return {
    addr: { hostname: server.addr.hostname, port: server.addr.port },
    finished: server.finished,
    shutdown(graceMs?: number) {
      stopping ??= (async () => {
        // Deno's shutdown stops accepting at once and resolves when every
        // response is done; the broadcaster's close bounds that by the grace.
        const stopped = server.shutdown();
        await broadcaster.close(graceMs);
        const late = deadline(1000);
        await Promise.race([stopped, late.promise]);
        late.cancel();
      })();
      return stopping;
    },
  };
}

/** The public listener, its connections, and the `Deno.serve` behind them. */
class DenoFront {
  readonly #broadcaster: Broadcaster;
  readonly #listener: Deno.TcpListener;
  readonly #table: ConnectionTable;
  readonly #errors: AcceptErrors;
  readonly #innerErrors: AcceptErrors;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  /** Connections by the local port of their relaying socket (what the handler sees). */
  readonly #byPort = new Map<number, TrackedConnection>();
  /** Each connection's relay, until both directions end. */
  readonly #relays = new Set<Promise<void>>();
  readonly #stop = Promise.withResolvers<void>();
  #inner: Deno.HttpServer<Deno.NetAddr>;
  #accepting = true;

  constructor(broadcaster: Broadcaster, listener: Deno.TcpListener) {
    this.#broadcaster = broadcaster;
    this.#listener = listener;
    const { maxConnections, headersTimeoutMs, keepAliveTimeoutMs } = broadcaster.limits;
    this.#table = new ConnectionTable({
      max: maxConnections,
      headersTimeoutMs,
      keepAliveTimeoutMs,
    });
    this.#errors = new AcceptErrors(broadcaster.logger);
    this.#innerErrors = new AcceptErrors(broadcaster.logger, "The internal HTTP server");
    this.#inner = this.#startInner();
  }

  running(addr: { hostname: string; port: number }): RunningServer {
    const finished = Promise.withResolvers<void>();
    const loop = this.#acceptLoop().finally(() => {
      // The listener failed for good without a shutdown: the server stopped.
      if (this.#accepting) finished.resolve();
    });
    let stopping: Promise<void> | null = null;
    return {
      addr,
      finished: finished.promise,
      shutdown: (graceMs?: number) => {
        stopping ??= (async () => {
          this.#accepting = false;
          clearTimeout(this.#restartTimer);
          this.#stop.resolve();
          this.#listener.close();
          this.#table.drain();
          const innerStopped = this.#inner.shutdown();
          await this.#broadcaster.close(graceMs);
          // Websockets were sent a close frame: let it reach them.
          this.#table.closeHttp();
          const late = deadline(1000);
          await Promise.race([
            Promise.allSettled([innerStopped, ...this.#relays]),
            late.promise,
          ]);
          late.cancel();
          this.#table.closeAll();
          await loop;
          await Promise.allSettled([...this.#relays]);
          finished.resolve();
        })();
        return stopping;
      },
    };
  }

  /**
   * `Deno.serve` on a free loopback port. Its accept fails only if the
   * process runs out of descriptors anyway (the caps leave room); it then
   * takes its connections with it, and a fresh one replaces it.
   */
  #startInner(): Deno.HttpServer<Deno.NetAddr> {
    const inner = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: () => {},
      onError,
    }, (req, info) => this.#handle(req, info));
    inner.finished.catch((error) => this.#innerFailed(error));
    return inner;
  }

  #innerFailed(error: unknown): void {
    if (!this.#accepting) return;
    const wait = this.#innerErrors.failed(error);
    this.#restartTimer = setTimeout(() => {
      if (!this.#accepting) return;
      try {
        this.#inner = this.#startInner();
        this.#innerErrors.succeeded();
      } catch (e) {
        this.#innerFailed(e);
      }
    }, wait);
  }

  async #handle(req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Promise<Response> {
    const tracked = this.#byPort.get(info.remoteAddr.port);
    // Only the front's own relays may use the internal port.
    if (tracked === undefined) return new Response("Forbidden\n", { status: 403 });
    tracked.requestStarted();
    const res = await this.#broadcaster.handle(req);
    if (res.status === 101) {
      tracked.upgraded();
      return res;
    }
    // The core asks to close when it answered without reading the whole body.
    const close = res.headers.get("connection")?.toLowerCase() === "close";
    const ended = () => {
      tracked.requestEnded();
      if (close) tracked.finish();
    };
    info.completed.then(ended, ended);
    return res;
  }

  async #acceptLoop(): Promise<void> {
    while (this.#accepting) {
      if (!this.#table.makeRoom()) {
        // Every connection is busy: leave new ones in the kernel's backlog.
        await this.#table.waitForRoom(this.#stop.promise);
        continue;
      }
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (e) {
        if (!this.#accepting || e instanceof Deno.errors.BadResource) return;
        await this.#backOff(e);
        continue;
      }
      this.#errors.succeeded();
      const relay = this.#relay(conn);
      this.#relays.add(relay);
      void relay.finally(() => this.#relays.delete(relay));
    }
  }

  /** After a failed accept or connect: free a descriptor, wait, and carry on. */
  async #backOff(error: unknown): Promise<void> {
    this.#table.closeOldestIdle();
    const pause = deadline(this.#errors.failed(error));
    await Promise.race([pause.promise, this.#stop.promise]);
    pause.cancel();
  }

  /**
   * Serves one client connection: plain requests here (`_http1_serve.ts`),
   * and from the first head it does not serve on (a websocket upgrade,
   * anything unusual), relayed to the internal server until both sides are
   * done.
   */
  async #relay(client: Deno.TcpConn): Promise<void> {
    let upstream: Deno.TcpConn | null = null;
    let relay: Relay | null = null;
    let plain: PlainConnection | null = null;
    let linger: ReturnType<typeof setTimeout> | undefined;
    const close = () => {
      closeQuietly(client);
      if (upstream !== null) closeQuietly(upstream);
    };
    const tracked = this.#table.add({
      close,
      finish: () => {
        if (plain !== null && !plain.waiting) return plain.finish();
        if (relay === null) return close();
        // No further request is passed on; what was answered still reaches
        // the client, then it is closed gracefully (see `_pump.ts`). A
        // client that never reads its answer is dropped after a while.
        relay.finish();
        linger = setTimeout(close, 2 * LINGER_MS);
      },
    });
    this.#broadcaster.metrics.connectionOpened();
    try {
      try {
        // Answers go out in one write each; never hold one back for an ACK.
        client.setNoDelay(true);
      } catch {
        // Already reset: the first read says so.
      }
      plain = new PlainConnection(client, {
        handle: (req) => this.#broadcaster.handle(req),
        started: () => tracked.requestStarted(),
        ended: () => tracked.requestEnded(),
      });
      const rest = await plain.run();
      plain = null;
      if (rest === null || tracked.closing || !this.#accepting) return;
      try {
        upstream = await Deno.connect({ hostname: "127.0.0.1", port: this.#inner.addr.port });
      } catch (e) {
        await this.#backOff(e);
        return;
      }
      // Closed while connecting (evicted, timed out), or shutting down.
      if (tracked.closing || !this.#accepting) return;
      const port = upstream.localAddr.port;
      this.#byPort.set(port, tracked);
      relay = new Relay(client, upstream, (status) => {
        // Refused by the front itself: never seen by the handler.
        this.#broadcaster.metrics.request("other", status);
      }, rest);
      await relay.run();
      this.#byPort.delete(port);
    } finally {
      clearTimeout(linger);
      close();
      tracked.closed();
      this.#broadcaster.metrics.connectionClosed();
    }
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

function onError(error: unknown): Response {
  console.error("Unhandled server error", error);
  return new Response("Internal error\n", { status: 500 });
}
