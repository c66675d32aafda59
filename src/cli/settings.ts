/**
 * What `serve` runs with: flags beat environment variables, which beat the
 * configuration file, which beats the defaults.
 *
 * @module
 */

import type { Limits } from "../core/limits.ts";
import type { LogLevel } from "../log.ts";
import type { OpsOptions } from "../http/routes/ops.ts";
import type { SubscriptionCare } from "../core/limits.ts";
import { normalisePrefix } from "../http/handler.ts";
import { LOG_LEVELS, parseChoice, parseInteger, parseSeconds } from "./args.ts";
import type { FileConfig, PostgresConfig, RqliteConfig } from "./config.ts";
import type { FileCompression } from "./config_compression.ts";
import { READ_CONSISTENCIES } from "../storage/rqlite/options.ts";
import { parseRelayUrl, parseUrls } from "./urls.ts";
import { UsageError } from "./errors.ts";

/** `serve`'s flags, as parsed. */
export interface ServeFlags {
  readonly host?: string | undefined;
  readonly port?: string | undefined;
  readonly db?: string | undefined;
  readonly "rqlite-url"?: string | undefined;
  readonly "rqlite-consistency"?: string | undefined;
  readonly "spool-dir"?: string | undefined;
  readonly "path-prefix"?: string | undefined;
  readonly "log-level"?: string | undefined;
  readonly grace?: string | undefined;
  readonly "relay-url"?: string | undefined;
  readonly compression?: string | undefined;
  readonly libzstd?: string | undefined;
  readonly "deno-front"?: string | undefined;
}

/** Everything `serve` needs, resolved. */
export interface ServeSettings {
  /**
   * Interface to bind, as asked for (flag, environment or configuration
   * file); null when not asked: see {@link defaultHost}.
   */
  readonly host: string | null;
  /** Port (0 = any free one). */
  readonly port: number;
  /** Subscriptions database (SQLite), unless `rqlite` is set. */
  readonly database: string;
  /** The rqlite cluster holding subscriptions, or null for the SQLite `database`. */
  readonly rqlite: RqliteConfig | null;
  /** PostgreSQL holding subscriptions, or null (then `rqlite` or the SQLite `database`). */
  readonly postgres: PostgresConfig | null;
  /**
   * `LONELYPSS_POSTGRES_URL` (beats the secrets file's), or null. Never a
   * flag: a command line is visible to every user of the machine.
   */
  readonly postgresUrl: string | null;
  /** Secrets file, or null for none/none. */
  readonly secrets: string | null;
  /** Replay database (only opened when a direction uses hmac). */
  readonly replayDatabase: string;
  /** Mount point ("" or "/x"). */
  readonly pathPrefix: string;
  /** Log level. */
  readonly logLevel: LogLevel;
  /** Shutdown grace, milliseconds. */
  readonly graceMs: number;
  /** Limit overrides. */
  readonly limits: Partial<Limits>;
  /** Base url peers reach this broadcaster at for websocket relaying, or null (learnt). */
  readonly relayUrl: string | null;
  /** zstd on websockets. */
  readonly compression: FileCompression;
  /** The SSRF guard, or null when off. */
  readonly ssrfGuard: { readonly enabled: boolean; readonly allow: readonly string[] } | null;
  /**
   * The operations endpoints (`LONELYPSS_METRICS_TOKEN` sets the metrics
   * token, `LONELYPSS_ADMIN_TOKEN` the admin page's and turns the page on).
   */
  readonly operations: OpsOptions;
  /**
   * Statistics, leases and pruning: the file's `subscriptions` section, then
   * `LONELYPSS_SUBSCRIPTION_LEASE_SECONDS`, `LONELYPSS_PRUNE_FAILING_AFTER_SECONDS`
   * and `LONELYPSS_STATS_FLUSH_MS`.
   */
  readonly subscriptions: Partial<SubscriptionCare>;
  /** Deno: accept connections in the front (true) or with `Deno.serve` directly. */
  readonly denoFront: boolean;
}

/**
 * Merges flags, environment and configuration.
 *
 * @throws {UsageError} for a malformed flag or environment value
 */
export function resolveSettings(
  flags: ServeFlags,
  env: Record<string, string | undefined>,
  config: FileConfig | null,
): ServeSettings {
  const pick = (flag: keyof ServeFlags, name: string) => {
    const f = flags[flag];
    if (f !== undefined) return { text: f, what: `--${flag}` };
    const e = env[name];
    if (e !== undefined && e !== "") return { text: e, what: name };
    return null;
  };
  const host = pick("host", "LONELYPSS_HOST")?.text ?? config?.host ?? null;
  const portText = pick("port", "LONELYPSS_PORT");
  const port = portText === null
    ? config?.port ?? 3003
    : parseInteger(portText.what, portText.text, 0, 65535);
  const db = pick("db", "LONELYPSS_DB");
  const rqliteUrl = pick("rqlite-url", "LONELYPSS_RQLITE_URL");
  const consistency = pick("rqlite-consistency", "LONELYPSS_RQLITE_CONSISTENCY");
  const pgUrl = env.LONELYPSS_POSTGRES_URL ? env.LONELYPSS_POSTGRES_URL : null;
  const named = [db?.what, rqliteUrl?.what, pgUrl === null ? undefined : "LONELYPSS_POSTGRES_URL"]
    .filter((w) => w !== undefined);
  if (named.length > 1) {
    throw new UsageError(`${named.join(" and ")} exclude each other: pick one storage`);
  }
  // A flag or variable naming one storage wins over the file's choice of another.
  const fileChoice = named.length === 0;
  let rqlite: RqliteConfig | null = fileChoice || rqliteUrl !== null
    ? config?.rqlite ?? null
    : null;
  const postgres: PostgresConfig | null = pgUrl !== null
    ? config?.postgres ?? {}
    : fileChoice
    ? config?.postgres ?? null
    : null;
  if (rqliteUrl !== null) rqlite = { ...rqlite, urls: parseUrls(rqliteUrl.what, rqliteUrl.text) };
  if (consistency !== null) {
    if (rqlite === null) {
      throw new UsageError(`${consistency.what} needs an rqlite cluster (--rqlite-url)`);
    }
    rqlite = {
      ...rqlite,
      readConsistency: parseChoice(consistency.what, consistency.text, READ_CONSISTENCIES),
    };
  }
  const database = db?.text ?? config?.database ?? "subscriptions.db";
  const spool = pick("spool-dir", "LONELYPSS_SPOOL_DIR")?.text;
  const prefix = pick("path-prefix", "LONELYPSS_PATH_PREFIX");
  const level = pick("log-level", "LONELYPSS_LOG_LEVEL");
  const grace = pick("grace", "LONELYPSS_GRACE");
  const relay = pick("relay-url", "LONELYPSS_RELAY_URL");
  const compression = pick("compression", "LONELYPSS_COMPRESSION");
  const libzstd = pick("libzstd", "LONELYPSS_LIBZSTD");
  const front = pick("deno-front", "LONELYPSS_DENO_FRONT");
  return {
    host,
    port,
    database,
    rqlite,
    postgres,
    postgresUrl: pgUrl,
    secrets: config?.secrets ?? null,
    replayDatabase: config?.replayDatabase ?? "recent-hmacs.db",
    pathPrefix: prefix === null ? config?.pathPrefix ?? "" : normalisePrefix(prefix.text),
    logLevel: level === null
      ? config?.logLevel ?? "info"
      : parseChoice(level.what, level.text, LOG_LEVELS),
    graceMs: 1000 * (grace === null ? config?.grace ?? 10 : parseSeconds(grace.what, grace.text)),
    limits: {
      ...config?.limits,
      ...(spool === undefined ? {} : { spoolDir: spool }),
    },
    relayUrl: relay === null ? config?.relayUrl ?? null : parseRelayUrl(relay.what, relay.text),
    compression: {
      ...config?.compression,
      ...(compression === null
        ? {}
        : { enabled: parseChoice(compression.what, compression.text, ["on", "off"]) === "on" }),
      ...(libzstd === null ? {} : { libraryPath: libzstd.text }),
    },
    ssrfGuard: config?.ssrfGuard ?? null,
    operations: {
      ...config?.operations,
      ...(env.LONELYPSS_METRICS_TOKEN ? { metricsToken: env.LONELYPSS_METRICS_TOKEN } : {}),
      ...(env.LONELYPSS_ADMIN_TOKEN ? { admin: true, adminToken: env.LONELYPSS_ADMIN_TOKEN } : {}),
    },
    subscriptions: subscriptionsFrom(env, config?.subscriptions ?? {}),
    denoFront: front === null || parseChoice(front.what, front.text, ["on", "off"]) === "on",
  };
}

const CARE_ENV = [
  ["LONELYPSS_SUBSCRIPTION_LEASE_SECONDS", "subscriptionLeaseSeconds"],
  ["LONELYPSS_PRUNE_FAILING_AFTER_SECONDS", "pruneFailingAfterSeconds"],
  ["LONELYPSS_STATS_FLUSH_MS", "statsFlushIntervalMs"],
] as const;

function subscriptionsFrom(
  env: Record<string, string | undefined>,
  file: Partial<SubscriptionCare>,
): Partial<SubscriptionCare> {
  const out: Record<string, unknown> = { ...file };
  for (const [name, key] of CARE_ENV) {
    const text = env[name];
    if (text === undefined || text === "") continue;
    const n = Number(text);
    if (!(n > 0) || !Number.isFinite(n)) {
      throw new UsageError(`Invalid ${name}: expected a positive number, got "${text}"`);
    }
    out[key] = n;
  }
  return out as Partial<SubscriptionCare>;
}

/**
 * Where `serve` binds when no host was asked for: this machine only
 * (`127.0.0.1`) unless requests to the broadcaster need authorization, then
 * every interface (`0.0.0.0`). With no authorization, anyone who can reach
 * the broadcaster can subscribe any URL and publish.
 */
export function defaultHost(toBroadcasterAuth: "none" | "token" | "hmac"): string {
  return toBroadcasterAuth === "none" ? "127.0.0.1" : "0.0.0.0";
}

/** True for an address only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}
