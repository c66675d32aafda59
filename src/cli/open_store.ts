/**
 * Opens the store `serve` would use (SQLite file or rqlite, with the
 * secrets file's rqlite credentials), for the commands that work on it
 * directly: `subscriptions` and `stats`.
 *
 * @module
 */

import { loadSecretsFile } from "../auth/mod.ts";
import type { Logger } from "../log.ts";
import { openRqliteStore } from "../storage/rqlite/store.ts";
import { openSqliteStore } from "../storage/sqlite/store.ts";
import type { Store } from "../storage/types.ts";
import { CliError, errorMessage } from "./errors.ts";
import type { ServeSettings } from "./settings.ts";

/**
 * The configured store. SQLite waits out a live server's locks like any
 * other process sharing the file (WAL), so this is safe beside it.
 *
 * @throws {CliError} saying which store cannot be opened and why
 */
export async function openConfiguredStore(settings: ServeSettings, log: Logger): Promise<Store> {
  const r = settings.rqlite;
  try {
    if (r === null) {
      const wait = settings.limits.sqliteBusyTimeoutMs;
      return await openSqliteStore({
        path: settings.database,
        log,
        ...(wait === undefined ? {} : { busyTimeoutMs: wait }),
      });
    }
    const secrets = settings.secrets === null ? null : await loadSecretsFile(settings.secrets);
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
    const where = r === null ? settings.database : `rqlite at ${r.urls.join(", ")}`;
    throw new CliError(`Cannot open database ${where}: ${errorMessage(e)}`, 1, { cause: e });
  }
}
