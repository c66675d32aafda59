/**
 * The broadcaster: `createBroadcaster` wires the store, auth, limits, the
 * HTTP routes, the websocket service and the sweeper into one handler.
 * `mod.ts` re-exports it; the runtime adapters (`runtime/`) sit above it.
 *
 * @module
 */

import { type AuthConfig, noneAuth } from "./auth/mod.ts";
import { deadline } from "./deadline.ts";
import { startSweeper } from "./fanout/sweeper.ts";
import { holdOutgoingClient } from "./outbound/http1/mod.ts";
import { Semaphore } from "./fanout/semaphore.ts";
import { ByteBudget } from "./core/byte_budget.ts";
import type { Context } from "./core/context.ts";
import {
  type Limits,
  resolveLimits,
  resolveSubscriptionCare,
  type SubscriptionCare,
} from "./core/limits.ts";
import { DeliveryStats } from "./core/delivery_stats.ts";
import { startHousekeeping } from "./fanout/housekeeping.ts";
import { adminRoutes } from "./http/admin/mod.ts";
import { createHandler, type Handler, normalisePrefix } from "./http/handler.ts";
import { stopIdleBodyGuards } from "./http/request_body.ts";
import { type OpsOptions, opsRoutes } from "./http/routes/ops.ts";
import { countedStore } from "./core/counted_store.ts";
import { Metrics } from "./core/metrics.ts";
import { SpoolBudget } from "./core/spool_budget.ts";
import type { PinFactory } from "./core/outbound.ts";
import { ssrfGuard } from "./outbound/destination.ts";
import { currentRuntime } from "./runtime_name.ts";
import { NO_LOCAL_SUBSCRIBERS } from "./core/local.ts";
import {
  type CompressionOptions,
  denoUpgrader,
  WebsocketHub,
  WebsocketService,
  type WebSocketUpgrader,
} from "./ws/mod.ts";
import { consoleLogger, type Logger, ThrottledLog } from "./log.ts";
import { openSqliteStore } from "./storage/sqlite/store.ts";
import type { Store } from "./storage/types.ts";

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
   * The SSRF guard (off by default): deliveries to loopback, private,
   * link-local, cloud-metadata and other special-purpose addresses are
   * refused unless inside `allow` (CIDR blocks), judged on the address the
   * host resolves to at delivery time (pinned on Deno). Turn it on when
   * subscribers you do not trust choose callback urls.
   */
  readonly ssrfGuard?: { readonly enabled: boolean; readonly allow?: readonly string[] };
  /**
   * The operations endpoints beside the protocol, under the prefix:
   * `GET /healthz`, `/readyz`, `/metrics` (each on by default; `/metrics`
   * optionally behind its own bearer token).
   */
  readonly operations?: OpsOptions;
  /**
   * How to upgrade requests to websockets. Default: `Deno.upgradeWebSocket`
   * on Deno; on Bun and Node the adapters pass one per request to `handle`.
   */
  readonly upgrader?: WebSocketUpgrader;
  /**
   * zstd on websockets (id 1, presets, dictionaries trained per connection);
   * see {@link CompressionOptions}. Needs the system libzstd on Deno and Bun
   * (`--allow-ffi` on Deno); without a usable backend nothing is announced.
   */
  readonly compression?: CompressionOptions;
  /**
   * Delivery statistics, leases and pruning (`docs/subscriptions.md`):
   * statistics on (flushed every 5 s), leases and pruning off by default.
   */
  readonly subscriptions?: Partial<SubscriptionCare>;
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
   * The counters behind `/metrics`. Runtime adapters that can see connections
   * report them through `connectionOpened` / `connectionClosed`.
   */
  readonly metrics: Metrics;
  /**
   * Writes the delivery statistics gathered since the last flush now (they
   * are otherwise written every `subscriptions.statsFlushIntervalMs` and at close).
   */
  flushStats(): Promise<void>;
  /**
   * Stops the sweeper, waits up to `graceMs` (default 10 s) for requests in
   * flight (deliveries included) to finish, then closes the store and auth.
   */
  close(graceMs?: number): Promise<void>;
}

/** Creates a broadcaster: opens storage, starts the missed-message sweeper. */
export async function createBroadcaster(options: BroadcasterOptions = {}): Promise<Broadcaster> {
  const limits = resolveLimits(options.limits);
  const care = resolveSubscriptionCare(options.subscriptions);
  const log = options.logger ?? consoleLogger("warn");
  const metrics = new Metrics();
  const faults = new ThrottledLog(log);
  // Built before the store opens: an invalid allow-list throws with nothing to close.
  const outbound = options.ssrfGuard?.enabled === true
    ? ssrfGuard({
      allow: options.ssrfGuard.allow ?? [],
      pin: await pinFactory(),
      onRefuse(url, reason) {
        metrics.ssrfRefusals++;
        faults.warn("Delivery refused by the SSRF guard", { url: url.href, reason });
      },
    })
    : null;
  const store = options.store ?? await openSqliteStore({
    path: options.database ?? ":memory:",
    busyTimeoutMs: limits.sqliteBusyTimeoutMs,
    log,
  });
  const counted = countedStore(store, metrics);
  const auth: AuthConfig = {
    toBroadcaster: options.auth?.toBroadcaster ?? noneAuth(),
    toSubscriber: options.auth?.toSubscriber ?? noneAuth(),
  };
  const prefix = normalisePrefix(options.pathPrefix ?? "");
  const hub = options.websockets === false
    ? null
    : new WebsocketHub({ store: counted, log }, options.relayUrl ?? null);
  const ctx: Context = {
    store: counted,
    auth,
    limits,
    now: options.now ?? (() => Date.now() / 1000),
    log,
    faults,
    local: hub ?? NO_LOCAL_SUBSCRIBERS,
    metrics,
    spool: new SpoolBudget(limits.spoolQuotaBytes),
    outbound,
    outgoing: new Semaphore(limits.maxOutgoingConnections),
    bodyMemory: new ByteBudget(limits.maxBufferedBodyBytes),
    stats: care.deliveryStats
      ? new DeliveryStats(counted, { flushIntervalMs: care.statsFlushIntervalMs, log })
      : null,
  };
  const ws = hub === null ? null : new WebsocketService(
    ctx,
    hub,
    options.upgrader ?? defaultUpgrader(),
    prefix,
    options.compression ?? {},
  );
  let closing: Promise<void> | null = null;
  const opsState = {
    closing: () => closing !== null,
    requestsInFlight: () => handler.inFlight,
    websocketConnections: () => ws?.size ?? null,
  };
  const handler: Handler = createHandler(
    ctx,
    prefix,
    ws === null ? undefined : (req, extra) => ws.handle(req, asUpgrader(extra)),
    opsRoutes(options.operations ?? {}, opsState),
    await adminRoutes(
      {
        ...(options.operations?.admin === undefined ? {} : { admin: options.operations.admin }),
        token: options.operations?.adminToken ?? options.operations?.metricsToken ?? null,
      },
      opsState,
      prefix,
    ),
  );

  const sweeper = options.sweeper === false ? null : startSweeper(ctx);
  const housekeeper = options.sweeper === false ? null : startHousekeeping(ctx, care);
  const releaseClient = await holdOutgoingClient(limits.maxOutgoingConnections);

  async function shutdown(graceMs: number): Promise<void> {
    await ws?.close(Math.min(graceMs, 5_000));
    await sweeper?.stop();
    await housekeeper?.stop();
    const grace = deadline(graceMs);
    await Promise.race([handler.idle(), grace.promise]);
    grace.cancel();
    if (handler.inFlight > 0) {
      ctx.log.warn("Closing with requests still in flight", { inFlight: handler.inFlight });
    }
    // Outgoing requests still running fail now (as aborted).
    await releaseClient();
    // After the deliveries in flight, before the store goes: the last batch.
    await ctx.stats?.close();
    await store.close();
    await Promise.all([auth.toBroadcaster.close(), auth.toSubscriber.close()]);
    stopIdleBodyGuards();
  }

  return {
    handle: (req, upgrader) => handler.handle(req, upgrader),
    store: ctx.store,
    limits,
    logger: log,
    metrics,
    flushStats: () => ctx.stats?.flush() ?? Promise.resolve(),
    close(graceMs = 10_000) {
      closing ??= shutdown(graceMs);
      return closing;
    },
  };
}

/** How this runtime pins a connection to a checked address (Deno), or null. */
async function pinFactory(): Promise<PinFactory | null> {
  if (currentRuntime() !== "deno") return null;
  return (await import("./outbound/deno_pin.ts")).denoPin;
}

/** The runtime's own upgrader where it needs nothing per request (Deno). */
function defaultUpgrader(): WebSocketUpgrader | null {
  return currentRuntime() === "deno" ? denoUpgrader : null;
}

/** Bun passes its server as `fetch`'s second argument: only real upgraders count. */
function asUpgrader(extra: unknown): WebSocketUpgrader | undefined {
  const candidate = extra as { upgrade?: unknown } | undefined;
  return typeof candidate?.upgrade === "function" &&
      !("publish" in (candidate as object))
    ? candidate as WebSocketUpgrader
    : undefined;
}
