/**
 * The configuration file `lonelypss.json` written by `setup` and read by
 * `serve`: parsing and validation, every error naming the file and field.
 * Paths inside it are relative to the file's own directory.
 *
 * @module
 */

import { paths, readTextFile } from "../portable.ts";
import type { Limits, MissedRetryPolicy } from "../core/limits.ts";
import type { LogLevel } from "../log.ts";
import {
  DEFAULT_MISSED_RETRY,
  DEFAULT_SUBSCRIPTION_CARE,
  defaultLimits,
  resolveLimits,
  resolveSubscriptionCare,
  type SubscriptionCare,
} from "../core/limits.ts";
import { normalisePrefix } from "../http/handler.ts";
import {
  checkRqliteUrl,
  READ_CONSISTENCIES,
  type ReadConsistency,
} from "../storage/rqlite/options.ts";
import { names } from "../storage/postgres/schema.ts";
import { LOG_LEVELS } from "./args.ts";
import { parseCidr } from "../outbound/ip_ranges.ts";
import type { OpsOptions } from "../http/routes/ops.ts";
import { CliError, errorMessage } from "./errors.ts";
import { type FileCompression, parseCompression } from "./config_compression.ts";
import { parseRelayUrl } from "./urls.ts";

/** The name `serve` looks for in the current directory. */
export const CONFIG_FILE = "lonelypss.json";

/** A parsed configuration file; paths already resolved against its directory. */
export interface FileConfig {
  /** Interface to bind. */
  readonly host?: string;
  /** Port (0 = any free one). */
  readonly port?: number;
  /** SQLite file of subscriptions (or `:memory:`). */
  readonly database?: string;
  /** An rqlite cluster instead of a SQLite file (credentials live in the secrets file). */
  readonly rqlite?: RqliteConfig;
  /** PostgreSQL instead of a SQLite file (the connection string lives in the secrets file). */
  readonly postgres?: PostgresConfig;
  /** Secrets file (reference format); absent means none/none. */
  readonly secrets?: string;
  /** SQLite file of recently used hmac codes. */
  readonly replayDatabase?: string;
  /** Mount point, normalised ("" or "/x"). */
  readonly pathPrefix?: string;
  /** Log level. */
  readonly logLevel?: LogLevel;
  /** Shutdown grace, seconds. */
  readonly grace?: number;
  /** Limit overrides (validated against the defaults). */
  readonly limits: Partial<Limits>;
  /** Base url peers reach this broadcaster at, for the websocket relay. */
  readonly relayUrl?: string;
  /** zstd on websockets (preset dictionary paths resolved, not yet read). */
  readonly compression?: FileCompression;
  /** The SSRF guard: `{ "enabled": true, "allow": ["10.0.0.0/8"] }`. */
  readonly ssrfGuard?: { readonly enabled: boolean; readonly allow: readonly string[] };
  /**
   * The operations endpoints: `{ "healthz", "readyz", "metrics", "admin": booleans,
   * "metricsToken", "adminToken" }`.
   */
  readonly operations?: OpsOptions;
  /** Delivery statistics, leases and pruning (`docs/subscriptions.md`). */
  readonly subscriptions?: Partial<SubscriptionCare>;
}

/** The `rqlite` section of the configuration file. */
export interface RqliteConfig {
  /** Base urls of one or more nodes. */
  readonly urls: readonly string[];
  /** Read consistency of fan-out and listing reads. */
  readonly readConsistency?: ReadConsistency;
  /** Longest time one storage operation takes before it is a 503, ms. */
  readonly timeoutMs?: number;
  /** How long serve waits at start for the cluster to have a leader, ms. */
  readonly leaderWaitMs?: number;
}

const RQLITE_KEYS = ["urls", "readConsistency", "timeoutMs", "leaderWaitMs"] as const;

/**
 * The `postgres` section of the configuration file (every key optional; the
 * connection string is in the secrets file or `LONELYPSS_POSTGRES_URL`).
 */
export interface PostgresConfig {
  /** Schema holding the tables. */
  readonly schema?: string;
  /** Prefix of every table name. */
  readonly tablePrefix?: string;
  /** Longest time one storage operation takes before it is a 503, ms. */
  readonly timeoutMs?: number;
  /** `statement_timeout` of every connection, ms. */
  readonly statementTimeoutMs?: number;
  /** Connections in the pool. */
  readonly poolSize?: number;
  /** How often the glob generation is checked without a notification, ms. */
  readonly globCheckMs?: number;
  /** CA certificate (PEM) for `sslmode=verify-full`, resolved against the file's directory. */
  readonly caFile?: string;
}

const POSTGRES_KEYS = [
  "schema",
  "tablePrefix",
  "timeoutMs",
  "statementTimeoutMs",
  "poolSize",
  "globCheckMs",
  "caFile",
] as const;

const KEYS = [
  "host",
  "port",
  "database",
  "rqlite",
  "postgres",
  "secrets",
  "replayDatabase",
  "pathPrefix",
  "logLevel",
  "grace",
  "limits",
  "relayUrl",
  "compression",
  "ssrfGuard",
  "operations",
  "subscriptions",
] as const;

/**
 * Parses the text of the configuration file `fileName`.
 *
 * @throws {CliError} naming the file and the offending field
 */
export function parseConfigFile(text: string, fileName: string): FileConfig {
  const fail = (field: string, what: string): never => {
    throw new CliError(`Invalid config file ${fileName}: ${field} ${what}`);
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CliError(`Invalid config file ${fileName}: not JSON: ${errorMessage(e)}`);
  }
  if (!isObject(raw)) return fail("the top level", "must be a JSON object");
  for (const key of Object.keys(raw)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      fail(`"${key}"`, `is not an option (expected one of ${KEYS.join(", ")})`);
    }
  }
  const dir = paths.dirname(fileName);
  const path = (p: string) => (p === ":memory:" || paths.isAbsolute(p) ? p : paths.join(dir, p));
  const str = (key: string): string | undefined => {
    const v = raw[key];
    if (v === undefined) return undefined;
    if (typeof v !== "string" || v === "") return fail(`"${key}"`, "must be a non-empty string");
    return v;
  };
  const out: { -readonly [K in keyof FileConfig]: FileConfig[K] } = { limits: {} };
  const host = str("host");
  if (host !== undefined) out.host = host;
  if (raw.port !== undefined) {
    const p = raw.port;
    if (typeof p !== "number" || !Number.isInteger(p) || p < 0 || p > 65535) {
      fail('"port"', `must be an integer from 0 to 65535, got ${JSON.stringify(p)}`);
    }
    out.port = p as number;
  }
  for (const key of ["database", "secrets", "replayDatabase"] as const) {
    const v = str(key);
    if (v !== undefined) out[key] = path(v);
  }
  if (raw.rqlite !== undefined) {
    if (out.database !== undefined) {
      fail('"rqlite"', 'and "database" exclude each other (one storage: rqlite or a SQLite file)');
    }
    out.rqlite = parseRqlite(raw.rqlite, fail);
  }
  if (raw.postgres !== undefined) {
    if (out.database !== undefined || out.rqlite !== undefined) {
      fail('"postgres"', 'excludes "database" and "rqlite" (one storage)');
    }
    out.postgres = parsePostgres(raw.postgres, fail, path);
  }
  if (raw.pathPrefix !== undefined) {
    if (typeof raw.pathPrefix !== "string") fail('"pathPrefix"', "must be a string");
    out.pathPrefix = normalisePrefix(raw.pathPrefix as string);
  }
  const level = str("logLevel");
  if (level !== undefined) {
    if (!(LOG_LEVELS as readonly string[]).includes(level)) {
      fail('"logLevel"', `must be one of ${LOG_LEVELS.join(", ")}, got "${level}"`);
    }
    out.logLevel = level as LogLevel;
  }
  if (raw.grace !== undefined) {
    const g = raw.grace;
    if (typeof g !== "number" || !Number.isFinite(g) || g < 0) {
      fail('"grace"', "must be a non-negative number of seconds");
    }
    out.grace = g as number;
  }
  if (raw.limits !== undefined) out.limits = parseLimits(raw.limits, fileName, path);
  if (raw.compression !== undefined) {
    out.compression = parseCompression(raw.compression, fail, path);
  }
  if (raw.ssrfGuard !== undefined) out.ssrfGuard = parseSsrfGuard(raw.ssrfGuard, fail);
  if (raw.operations !== undefined) out.operations = parseOperations(raw.operations, fail);
  if (raw.subscriptions !== undefined) {
    out.subscriptions = parseSubscriptions(raw.subscriptions, fail);
  }
  const relay = str("relayUrl");
  if (relay !== undefined) {
    try {
      out.relayUrl = parseRelayUrl('"relayUrl"', relay);
    } catch (e) {
      fail('"relayUrl"', errorMessage(e).replace(/^"relayUrl" /, ""));
    }
  }
  return out;
}

function parseSsrfGuard(
  raw: unknown,
  fail: (field: string, what: string) => never,
): { enabled: boolean; allow: string[] } {
  if (!isObject(raw)) return fail('"ssrfGuard"', "must be an object");
  for (const key of Object.keys(raw)) {
    if (key !== "enabled" && key !== "allow") {
      fail(`"ssrfGuard.${key}"`, "is not an option (expected enabled, allow)");
    }
  }
  if (typeof raw.enabled !== "boolean") fail('"ssrfGuard.enabled"', "must be true or false");
  const allow = raw.allow ?? [];
  if (!Array.isArray(allow) || allow.some((c) => typeof c !== "string")) {
    return fail('"ssrfGuard.allow"', "must be an array of CIDR blocks");
  }
  for (const c of allow as string[]) {
    try {
      parseCidr(c);
    } catch (e) {
      fail('"ssrfGuard.allow"', `has ${errorMessage(e).replace(/^Invalid CIDR block /, "")}`);
    }
  }
  return { enabled: raw.enabled as boolean, allow: allow as string[] };
}

function parseOperations(raw: unknown, fail: (field: string, what: string) => never): OpsOptions {
  if (!isObject(raw)) return fail('"operations"', "must be an object");
  const out: { -readonly [K in keyof OpsOptions]: OpsOptions[K] } = {};
  for (const [key, v] of Object.entries(raw)) {
    if (key === "healthz" || key === "readyz" || key === "metrics" || key === "admin") {
      if (typeof v !== "boolean") fail(`"operations.${key}"`, "must be true or false");
      out[key] = v as boolean;
    } else if (key === "metricsToken" || key === "adminToken") {
      if (typeof v !== "string" || v === "") {
        fail(`"operations.${key}"`, "must be a non-empty string");
      }
      out[key] = v as string;
    } else {
      fail(
        `"operations.${key}"`,
        "is not an option (expected healthz, readyz, metrics, admin, metricsToken, adminToken)",
      );
    }
  }
  return out;
}

const CARE_KEYS = Object.keys(DEFAULT_SUBSCRIPTION_CARE) as (keyof SubscriptionCare)[];

function parseSubscriptions(
  raw: unknown,
  fail: (field: string, what: string) => never,
): Partial<SubscriptionCare> {
  if (!isObject(raw)) return fail('"subscriptions"', "must be an object");
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(raw)) {
    const field = `"subscriptions.${key}"`;
    if (!(CARE_KEYS as string[]).includes(key)) {
      fail(field, `is not an option (expected one of ${CARE_KEYS.join(", ")})`);
    }
    if (key === "deliveryStats") {
      if (typeof v !== "boolean") fail(field, "must be true or false");
    } else if (v !== null || key.endsWith("IntervalMs")) {
      if (typeof v !== "number" || !(v > 0)) fail(field, "must be a positive number");
    }
    out[key] = v;
  }
  try {
    resolveSubscriptionCare(out as Partial<SubscriptionCare>);
  } catch (e) {
    fail('"subscriptions"', errorMessage(e));
  }
  return out as Partial<SubscriptionCare>;
}

function parseRqlite(
  raw: unknown,
  fail: (field: string, what: string) => never,
): RqliteConfig {
  if (!isObject(raw)) return fail('"rqlite"', "must be an object");
  for (const key of Object.keys(raw)) {
    if (!(RQLITE_KEYS as readonly string[]).includes(key)) {
      fail(`"rqlite.${key}"`, `is not an option (expected one of ${RQLITE_KEYS.join(", ")})`);
    }
  }
  const urls = raw.urls;
  if (!Array.isArray(urls) || urls.length === 0 || urls.some((u) => typeof u !== "string")) {
    return fail('"rqlite.urls"', "must be a non-empty array of urls");
  }
  for (const u of urls as string[]) {
    try {
      checkRqliteUrl(u);
    } catch (e) {
      fail('"rqlite.urls"', errorMessage(e).replace(/^Invalid rqlite url /, "has "));
    }
  }
  const out: { -readonly [K in keyof RqliteConfig]: RqliteConfig[K] } = { urls: urls as string[] };
  if (raw.readConsistency !== undefined) {
    if (!(READ_CONSISTENCIES as readonly unknown[]).includes(raw.readConsistency)) {
      fail(
        '"rqlite.readConsistency"',
        `must be one of ${READ_CONSISTENCIES.join(", ")}, got ${
          JSON.stringify(raw.readConsistency)
        }`,
      );
    }
    out.readConsistency = raw.readConsistency as ReadConsistency;
  }
  for (const key of ["timeoutMs", "leaderWaitMs"] as const) {
    const v = raw[key];
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
      fail(`"rqlite.${key}"`, "must be a positive number of milliseconds");
    }
    out[key] = v as number;
  }
  return out;
}

function parsePostgres(
  raw: unknown,
  fail: (field: string, what: string) => never,
  path: (p: string) => string,
): PostgresConfig {
  if (!isObject(raw)) return fail('"postgres"', "must be an object");
  const out: { -readonly [K in keyof PostgresConfig]: PostgresConfig[K] } = {};
  for (const [key, v] of Object.entries(raw)) {
    const field = `"postgres.${key}"`;
    if (!(POSTGRES_KEYS as readonly string[]).includes(key)) {
      fail(field, `is not an option (expected one of ${POSTGRES_KEYS.join(", ")})`);
    } else if (key === "schema" || key === "tablePrefix" || key === "caFile") {
      if (typeof v !== "string" || v === "") fail(field, "must be a non-empty string");
      out[key] = key === "caFile" ? path(v as string) : v as string;
    } else if (key === "poolSize") {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
        fail(field, "must be a positive integer");
      }
      out.poolSize = v as number;
    } else {
      if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
        fail(field, "must be a positive number of milliseconds");
      }
      out[key as "timeoutMs" | "statementTimeoutMs" | "globCheckMs"] = v as number;
    }
  }
  try {
    names(out.schema ?? null, out.tablePrefix ?? "");
  } catch (e) {
    // "Invalid option: schema must be …" → "postgres.schema" must be …
    const [key, ...rest] = errorMessage(e).replace(/^Invalid option: /, "").split(" ");
    fail(`"postgres.${key}"`, rest.join(" "));
  }
  return out;
}

function parseLimits(
  raw: unknown,
  fileName: string,
  path: (p: string) => string,
): Partial<Limits> {
  const fail = (field: string, what: string): never => {
    throw new CliError(`Invalid config file ${fileName}: ${field} ${what}`);
  };
  if (!isObject(raw)) return fail('"limits"', "must be an object");
  const defaults = defaultLimits();
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(raw)) {
    const field = `"limits.${key}"`;
    if (!Object.hasOwn(defaults, key)) {
      fail(field, `is not a limit (expected one of ${Object.keys(defaults).join(", ")})`);
    } else if (key === "spoolDir") {
      if (typeof v !== "string" || v === "") fail(field, "must be a non-empty string");
      out.spoolDir = path(v as string);
    } else if (key === "missedRetry") {
      out.missedRetry = parseRetry(v, field, fail);
    } else if (key === "deliverWhileReceiving") {
      if (typeof v !== "boolean") fail(field, `must be true or false, got ${JSON.stringify(v)}`);
      out[key] = v;
    } else if (typeof v !== "number") {
      fail(field, `must be a number, got ${JSON.stringify(v)}`);
    } else {
      out[key] = v;
    }
  }
  try {
    resolveLimits(out as Partial<Limits>);
  } catch (e) {
    const detail = errorMessage(e).replace(/^Invalid option: /, "");
    throw new CliError(`Invalid config file ${fileName}: "limits": ${detail}`);
  }
  return out as Partial<Limits>;
}

function parseRetry(
  v: unknown,
  field: string,
  fail: (field: string, what: string) => never,
): Partial<MissedRetryPolicy> {
  if (!isObject(v)) return fail(field, "must be an object");
  for (const [key, n] of Object.entries(v)) {
    if (!Object.hasOwn(DEFAULT_MISSED_RETRY, key)) {
      fail(
        field.replace(/"$/, `.${key}"`),
        `is not a retry option (expected one of ${Object.keys(DEFAULT_MISSED_RETRY).join(", ")})`,
      );
    }
    if (typeof n !== "number") fail(field.replace(/"$/, `.${key}"`), "must be a number");
  }
  return v as Partial<MissedRetryPolicy>;
}

/**
 * Reads and parses the configuration file at `path`.
 *
 * @throws {CliError} when it cannot be read or is invalid (naming the file)
 */
export async function loadConfigFile(path: string): Promise<FileConfig> {
  let text: string;
  try {
    text = await readTextFile(path);
  } catch (e) {
    throw new CliError(`Cannot read config file ${path}: ${errorMessage(e)}`);
  }
  return parseConfigFile(text, path);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
