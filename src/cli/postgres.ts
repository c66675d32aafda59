/**
 * `serve` on PostgreSQL: the connection string from `LONELYPSS_POSTGRES_URL`
 * or the secrets file (never the configuration file or a flag: it holds a
 * password), the options from the configuration file's `postgres` section.
 * Every message names the server without the password.
 *
 * @module
 */

import type { Logger } from "../log.ts";
import { openPostgresStore, PostgresUnavailableError } from "../storage/remote.ts";
import { parsePostgresUrl } from "../storage/postgres/url.ts";
import type { Store } from "../storage/types.ts";
import type { PostgresConfig } from "./config.ts";
import { CliError, errorMessage } from "./errors.ts";

/** What the banner and errors call the store: `postgres postgres://user@host:port/db`. */
export function postgresLabel(url: string): string {
  try {
    return `postgres ${parsePostgresUrl(url).label}`;
  } catch {
    return "postgres (invalid url)";
  }
}

/**
 * Opens the store.
 *
 * @throws {CliError} saying what is wrong, without the password
 */
export async function openConfiguredPostgres(
  config: PostgresConfig,
  url: string | null,
  log: Logger,
): Promise<Store> {
  if (url === null) {
    throw new CliError(
      `PostgreSQL storage needs a connection string: put it in the secrets file ` +
        `("postgres": {"url": …}, written by setup --db postgres --postgres-url URL) ` +
        `or in LONELYPSS_POSTGRES_URL`,
    );
  }
  try {
    return await openPostgresStore({ url, ...config, log });
  } catch (e) {
    const message = e instanceof PostgresUnavailableError || e instanceof RangeError
      ? errorMessage(e)
      : `Cannot open ${postgresLabel(url)}: ${errorMessage(e)}`;
    throw new CliError(message, 1, { cause: e });
  }
}
