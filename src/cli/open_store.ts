/**
 * Opens the store `serve` would use (SQLite file, rqlite or PostgreSQL, with
 * the secrets file's credentials), for the commands that work on it
 * directly: `subscriptions` and `stats`.
 *
 * @module
 */

import { loadSecretsFile, type SecretsFile } from "../auth/mod.ts";
import type { Logger } from "../log.ts";
import { openRqliteStore, RqliteUnavailableError } from "../storage/remote.ts";
import { openSqliteStore } from "../storage/sqlite/store.ts";
import type { Store } from "../storage/types.ts";
import { CliError, errorMessage } from "./errors.ts";
import type { RqliteConfig } from "./config.ts";
import { openConfiguredPostgres } from "./postgres.ts";
import type { ServeSettings } from "./settings.ts";

/**
 * The rqlite store of `r`, with the secrets file's credentials if any.
 *
 * @throws {CliError} saying what is wrong with the cluster
 */
export async function openConfiguredRqlite(
  r: RqliteConfig,
  secrets: SecretsFile | null,
  log: Logger,
): Promise<Store> {
  try {
    return await openRqliteStore({
      urls: r.urls,
      ...(secrets?.rqlite === undefined
        ? {}
        : { user: secrets.rqlite.user, password: secrets.rqlite.password }),
      ...(r.readConsistency === undefined ? {} : { readConsistency: r.readConsistency }),
      ...(r.timeoutMs === undefined ? {} : { timeoutMs: r.timeoutMs }),
      ...(r.leaderWaitMs === undefined ? {} : { leaderWaitMs: r.leaderWaitMs }),
      log,
    });
  } catch (e) {
    const message = e instanceof RqliteUnavailableError
      ? e.message
      : `Cannot open rqlite at ${r.urls.join(", ")}: ${errorMessage(e)}`;
    throw new CliError(message, 1, { cause: e });
  }
}

/**
 * The configured store. SQLite waits out a live server's locks like any
 * other process sharing the file (WAL), so this is safe beside it.
 *
 * @throws {CliError} saying which store cannot be opened and why
 */
export async function openConfiguredStore(settings: ServeSettings, log: Logger): Promise<Store> {
  if (settings.rqlite !== null || settings.postgres !== null) {
    let secrets: SecretsFile | null = null;
    try {
      if (settings.secrets !== null) secrets = await loadSecretsFile(settings.secrets);
    } catch (e) {
      throw new CliError(errorMessage(e), 1, { cause: e });
    }
    if (settings.postgres !== null) {
      const url = settings.postgresUrl ?? secrets?.postgres?.url ?? null;
      return await openConfiguredPostgres(settings.postgres, url, log);
    }
    return await openConfiguredRqlite(settings.rqlite!, secrets, log);
  }
  try {
    const wait = settings.limits.sqliteBusyTimeoutMs;
    return await openSqliteStore({
      path: settings.database,
      log,
      ...(wait === undefined ? {} : { busyTimeoutMs: wait }),
    });
  } catch (e) {
    throw new CliError(`Cannot open database ${settings.database}: ${errorMessage(e)}`, 1, {
      cause: e,
    });
  }
}
