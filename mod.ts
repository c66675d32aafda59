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

export { type Broadcaster, type BroadcasterOptions, createBroadcaster } from "./src/broadcaster.ts";
export type { AuthConfig, AuthMessage, AuthResult, AuthStrategy } from "./src/auth/mod.ts";
export type { Limits, MissedRetryPolicy, SubscriptionCare } from "./src/core/limits.ts";
export type { DeliveryKind, DeliveryOutcome, Histogram, Metrics } from "./src/core/metrics.ts";
export type { OpsOptions } from "./src/http/routes/ops.ts";
export type { Logger, LogLevel } from "./src/log.ts";
export { consoleLogger, silentLogger } from "./src/log.ts";
export type {
  DeliveryTally,
  ExactEntry,
  FailingUrl,
  GlobEntry,
  LeasedMissed,
  MissedRetry,
  PrunedUrl,
  PruneOptions,
  PruneRecord,
  PruneRule,
  ReleaseResult,
  StatsPage,
  StatsQuery,
  Store,
  Subscriber,
  SubscribeResult,
  SubscriptionAdmin,
  SubscriptionKey,
  SubscriptionReport,
  SubscriptionSet,
  SubscriptionStats,
  TopKey,
  UnsubscribeResult,
  WriteResult,
} from "./src/storage/types.ts";
export { openSqliteStore, type SqliteStoreOptions } from "./src/storage/sqlite/store.ts";
// The rqlite and PostgreSQL stores load when one is opened (src/storage/remote.ts).
export {
  openPostgresStore,
  openRqliteStore,
  type PostgresStoreOptions,
  PostgresUnavailableError,
  READ_CONSISTENCIES,
  type ReadConsistency,
  type RqliteStoreOptions,
  RqliteUnavailableError,
} from "./src/storage/remote.ts";
export { defaultLimits } from "./src/core/limits.ts";
export { noneAuth } from "./src/auth/mod.ts";
export {
  CloseCode,
  COMPRESSION_DEFAULTS,
  type CompressionOptions,
  type CompressionSettings,
  type WebSocketUpgrader,
  type WsEvents,
  type WsPeer,
  type ZstdPreset,
} from "./src/ws/mod.ts";
