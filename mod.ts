/**
 * lonelypss-ts: best-effort pub/sub over HTTP, wire-compatible with the Python
 * `lonelypss` broadcaster. Subscribers register a callback url for an exact
 * topic or a glob pattern; every notify is POSTed to each matching subscriber.
 *
 * The broadcaster is one Web-standard handler, `handle(req): Promise<Response>`,
 * that any server can call — mount it in an existing `Deno.serve` app, under a
 * path prefix if you like.
 *
 * @example Serve a broadcaster with an embedded SQLite file
 * ```ts
 * import { createBroadcaster } from "./mod.ts";
 *
 * const broadcaster = await createBroadcaster({ database: ":memory:", pathPrefix: "/pubsub" });
 * const server = Deno.serve({ port: 0, onListen() {} }, (req) => {
 *   const path = new URL(req.url).pathname;
 *   if (path.startsWith("/pubsub/")) return broadcaster.handle(req);
 *   return new Response("my app");
 * });
 * const res = await fetch(`http://127.0.0.1:${server.addr.port}/pubsub/v1/nope`, { method: "POST" });
 * console.log(res.status); // 404
 * await res.body?.cancel();
 * await server.shutdown();
 * await broadcaster.close();
 * ```
 *
 * @module
 */

import { noneAuth } from "./src/auth/none.ts";
import type { AuthConfig } from "./src/auth/types.ts";
import { deadline } from "./src/deadline.ts";
import { startSweeper } from "./src/delivery/sweeper.ts";
import { Semaphore } from "./src/delivery/semaphore.ts";
import { ByteBudget } from "./src/core/byte_budget.ts";
import type { Context, Limits } from "./src/core/context.ts";
import { createHandler, normalisePrefix } from "./src/http/handler.ts";
import { currentRuntime } from "./src/runtime/mod.ts";
import { NO_LOCAL_SUBSCRIBERS } from "./src/core/local.ts";
import { WebsocketHub, WebsocketService } from "./src/ws/mod.ts";
import type { WebSocketUpgrader } from "./src/ws/socket.ts";
import { consoleLogger, type Logger } from "./src/log.ts";
import { resolveLimits } from "./src/options.ts";
import { openSqliteStore } from "./src/storage/sqlite/store.ts";
import type { Store } from "./src/storage/types.ts";

export type { AuthConfig, AuthMessage, AuthResult, AuthStrategy } from "./src/auth/types.ts";
export type { Limits, MissedRetryPolicy } from "./src/core/context.ts";
export type { Logger, LogLevel } from "./src/log.ts";
export { consoleLogger, silentLogger } from "./src/log.ts";
export type { Store, Subscriber, SubscriptionSet } from "./src/storage/types.ts";
export { openSqliteStore } from "./src/storage/sqlite/store.ts";
export {
  openRqliteStore,
  type RqliteStoreOptions,
  RqliteUnavailableError,
} from "./src/storage/rqlite/store.ts";
export type { ReadConsistency } from "./src/storage/rqlite/client.ts";
export { defaultLimits } from "./src/options.ts";
export { noneAuth } from "./src/auth/none.ts";
export type { WebSocketUpgrader, WsEvents, WsPeer } from "./src/ws/socket.ts";
export { CloseCode } from "./src/ws/close.ts";

/** How to build a broadcaster. Everything is optional. */
export interface BroadcasterOptions {
  /**
   * SQLite database path for the embedded store (`":memory:"` for a
   * throw-away one). Ignored when `store` is given. Default `":memory:"`.
   */
  readonly database?: string;
  /**
   * A store to use instead of opening `database` (closed by `close()`), e.g.
   * `await openRqliteStore({ urls: ["http://127.0.0.1:4001"] })` so several
   * broadcasters share subscriptions.
   */
  readonly store?: Store;
  /** Authorization per direction; a missing direction is `none`. */
  readonly auth?: Partial<AuthConfig>;
  /** Mount point, e.g. `"/pubsub"`; requests outside it get 404. Default `""`. */
  readonly pathPrefix?: string;
  /** Limits and tunables; see {@link Limits} for each one's meaning and default. */
  readonly limits?: Partial<Limits>;
  /** Run the missed-message sweeper in this process. Default true. */
  readonly sweeper?: boolean;
  /** Where diagnostics go. Default: warnings and errors to stderr. */
  readonly logger?: Logger;
  /** The clock, epoch seconds. Default `Date.now() / 1000`. */
  readonly now?: () => number;
  /** Serve websocket subscribers at `GET /v1/websocket`. Default true. */
  readonly websockets?: boolean;
  /**
   * The base url other broadcasters reach this process at, path prefix
   * included (e.g. `"http://10.0.0.5:3003/pubsub"`): its relay rows point at
   * `<relayUrl>/v1/receive_for_websockets`. It must spell the host exactly as
   * peers send it in `Host`. Default: the origin of the first websocket
   * request plus the prefix (right for one machine; set it for several).
   */
  readonly relayUrl?: string;
  /**
   * How to upgrade requests to websockets. Default: `Deno.upgradeWebSocket`
   * on Deno; on Bun and Node the adapters pass one per request to `handle`.
   */
  readonly upgrader?: WebSocketUpgrader;
}

/** A running broadcaster. */
export interface Broadcaster {
  /**
   * Answers one request: the HTTP routes, and the websocket upgrade at
   * `/v1/websocket` (through `upgrader` if given, else the default). Never rejects.
   */
  handle(req: Request, upgrader?: WebSocketUpgrader): Promise<Response>;
  /** The store in use. */
  readonly store: Store;
  /** The effective limits. */
  readonly limits: Limits;
  /** Where diagnostics go (the runtime adapters log there too). */
  readonly logger: Logger;
  /**
   * Stops the sweeper, waits up to `graceMs` (default 10 s) for requests in
   * flight (deliveries included) to finish, then closes the store and auth.
   */
  close(graceMs?: number): Promise<void>;
}

/** Creates a broadcaster: opens storage, starts the missed-message sweeper. */
export async function createBroadcaster(options: BroadcasterOptions = {}): Promise<Broadcaster> {
  const limits = resolveLimits(options.limits);
  const store = options.store ?? await openSqliteStore({ path: options.database ?? ":memory:" });
  const auth: AuthConfig = {
    toBroadcaster: options.auth?.toBroadcaster ?? noneAuth(),
    toSubscriber: options.auth?.toSubscriber ?? noneAuth(),
  };
  const log = options.logger ?? consoleLogger("warn");
  const prefix = normalisePrefix(options.pathPrefix ?? "");
  const hub = options.websockets === false
    ? null
    : new WebsocketHub({ store, log }, options.relayUrl ?? null);
  const ctx: Context = {
    store,
    auth,
    limits,
    now: options.now ?? (() => Date.now() / 1000),
    log,
    local: hub ?? NO_LOCAL_SUBSCRIBERS,
    outgoing: new Semaphore(limits.maxOutgoingConnections),
    bodyMemory: new ByteBudget(limits.maxBufferedBodyBytes),
  };
  const ws = hub === null
    ? null
    : new WebsocketService(ctx, hub, options.upgrader ?? await defaultUpgrader(), prefix);
  const handler = createHandler(
    ctx,
    prefix,
    ws === null ? undefined : (req, extra) => ws.handle(req, asUpgrader(extra)),
  );
  const sweeper = options.sweeper === false ? null : startSweeper(ctx);
  let closing: Promise<void> | null = null;

  async function shutdown(graceMs: number): Promise<void> {
    await ws?.close(Math.min(graceMs, 5_000));
    await sweeper?.stop();
    const grace = deadline(graceMs);
    await Promise.race([handler.idle(), grace.promise]);
    grace.cancel();
    if (handler.inFlight > 0) {
      ctx.log.warn("Closing with requests still in flight", { inFlight: handler.inFlight });
    }
    await store.close();
    await Promise.all([auth.toBroadcaster.close(), auth.toSubscriber.close()]);
  }

  return {
    handle: (req, upgrader) => handler.handle(req, upgrader),
    store,
    limits,
    logger: log,
    close(graceMs = 10_000) {
      closing ??= shutdown(graceMs);
      return closing;
    },
  };
}

/** The runtime's own upgrader where it needs nothing per request (Deno). */
async function defaultUpgrader(): Promise<WebSocketUpgrader | null> {
  if (currentRuntime() !== "deno") return null;
  return (await import("./src/runtime/deno_ws.ts")).denoUpgrader;
}

/** Bun passes its server as `fetch`'s second argument: only real upgraders count. */
function asUpgrader(extra: unknown): WebSocketUpgrader | undefined {
  const candidate = extra as { upgrade?: unknown } | undefined;
  return typeof candidate?.upgrade === "function" &&
      !("publish" in (candidate as object))
    ? candidate as WebSocketUpgrader
    : undefined;
}
