/**
 * The PostgreSQL implementation of {@link Store}: several broadcasters share
 * one database, in plain tables an operator can read with SQL (see
 * docs/postgres.md).
 *
 * Every operation is bounded by `timeoutMs` on our side and by the server's
 * `statement_timeout`: a server that is down, restarting or stuck is
 * `"unavailable"` (HTTP 503) within that time, and the pool reconnects by
 * itself on the next operation. Each write is one statement or one
 * transaction, so it either committed when we answer success or did nothing
 * we report. Glob writes lock the glob generation row (see `../glob_generation.ts`).
 *
 * @example
 * ```ts ignore
 * import { openPostgresStore } from "./store.ts";
 * const store = await openPostgresStore({ url: "postgres://lonelypss:pw@127.0.0.1/lonelypss" });
 * await store.subscribeGlob("http://127.0.0.1:3002/v1/receive", "news/*", null);
 * await store.close();
 * ```
 *
 * @module
 */

import { describeError, type Logger, silentLogger, ThrottledLog } from "../../log.ts";
import type { Store } from "../types.ts";
import { connect, type DriverOptions } from "./driver.ts";
import { GlobListener } from "./listener.ts";
import { PostgresStore } from "./operations.ts";
import { migrate, names, SchemaTooNewError } from "./schema.ts";
import { driverSsl, parsePostgresUrl } from "./url.ts";
import { PostgresUnavailableError } from "./errors.ts";

/** Options of {@link openPostgresStore}. */
export interface PostgresStoreOptions {
  /**
   * Connection string, `postgres://user:password@host:port/database`, with
   * libpq's `sslmode` (`disable`, `prefer` = default, `require`,
   * `verify-ca`, `verify-full`) and `sslrootcert` (a CA file) parameters.
   */
  readonly url: string;
  /** CA certificate file (PEM) for `verify-ca`/`verify-full`; overrides `sslrootcert`. */
  readonly caFile?: string;
  /** Schema holding the tables (created if missing); default: the connection's search_path. */
  readonly schema?: string;
  /** Prefix of every table, index, trigger and function name (default none). */
  readonly tablePrefix?: string;
  /** Longest time one store operation takes before it is `unavailable`, ms (default 5000). */
  readonly timeoutMs?: number;
  /** `statement_timeout` of every connection, ms (default: `timeoutMs`). */
  readonly statementTimeoutMs?: number;
  /** Connections in the pool (default 10). */
  readonly poolSize?: number;
  /** How often the glob generation is checked without a notification, ms (default 5000). */
  readonly globCheckMs?: number;
  /** Where failures are reported (rate limited), never with the password. Default: nowhere. */
  readonly log?: Logger;
}

export { PostgresUnavailableError } from "./errors.ts";

/**
 * Opens the store: connects, brings the schema up to date (once, whoever
 * else starts at the same time), loads the glob rows and starts listening.
 *
 * @throws {RangeError} for an invalid option or connection string
 * @throws {PostgresUnavailableError} when the server cannot be reached or refuses us
 * @throws {Error} when the database has a newer schema version
 */
export async function openPostgresStore(opts: PostgresStoreOptions): Promise<Store> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  if (!(timeoutMs > 0)) throw new RangeError("Invalid option: timeoutMs must be positive");
  const statementTimeoutMs = Math.ceil(opts.statementTimeoutMs ?? timeoutMs);
  if (!(statementTimeoutMs > 0)) {
    throw new RangeError("Invalid option: statementTimeoutMs must be positive");
  }
  const poolSize = opts.poolSize ?? 10;
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    throw new RangeError("Invalid option: poolSize must be a positive integer");
  }
  const globCheckMs = opts.globCheckMs ?? 5000;
  if (!(globCheckMs > 0)) throw new RangeError("Invalid option: globCheckMs must be positive");
  const n = names(opts.schema ?? null, opts.tablePrefix ?? "");
  const parsed = parsePostgresUrl(opts.url);
  const driver: Omit<DriverOptions, "max"> = {
    url: parsed.driverUrl,
    ssl: await driverSsl(parsed, opts.caFile ?? null),
    connectTimeoutS: Math.max(1, Math.ceil(timeoutMs / 1000)),
    statementTimeoutMs,
  };
  const sql = await connect({ ...driver, max: poolSize });
  const log = opts.log ?? silentLogger;
  let listener: GlobListener | null = null;
  try {
    try {
      const applied = await migrate(sql, n);
      if (applied.length > 0) {
        log.info("PostgreSQL schema migrated", { db: parsed.label, versions: applied });
      }
    } catch (e) {
      throw startError(e, parsed.label);
    }
    const store = new PostgresStore(sql, n, timeoutMs, new ThrottledLog(log), parsed.label);
    listener = await GlobListener.start(driver, n.channel, globCheckMs, () => store.wake());
    store.listener = listener;
    await store.wake();
    return store;
  } catch (e) {
    await Promise.all([sql.end({ timeout: 1 }), listener?.close()]);
    throw e;
  }
}

/**
 * What a failure at start means: credentials refused (SQLSTATE class 28),
 * another error the server sent or a schema too new (as they are), or the
 * server not reached (refused, timed out, TLS).
 */
function startError(e: unknown, label: string): unknown {
  const code = String((e as { code?: unknown } | null)?.code ?? "");
  const fromServer = e instanceof Error && e.name === "PostgresError";
  if (fromServer && code.startsWith("28")) {
    return new PostgresUnavailableError(
      `PostgreSQL at ${label} refused the credentials: ${describeError(e)}`,
      { cause: e },
    );
  }
  if (fromServer || e instanceof SchemaTooNewError) return e;
  return new PostgresUnavailableError(`Cannot reach PostgreSQL at ${label}: ${describeError(e)}`, {
    cause: e,
  });
}
