/**
 * The rqlite and PostgreSQL stores, imported when one is opened: a
 * broadcaster on the embedded SQLite (the default) then never loads either
 * (23 modules, about 1.4 MiB resident on Deno). Their error classes and the
 * option checks are small modules of their own, loaded with this one.
 *
 * @module
 */

import type { PostgresStoreOptions } from "./postgres/store.ts";
import type { RqliteStoreOptions } from "./rqlite/store.ts";
import type { Store } from "./types.ts";

export { PostgresUnavailableError } from "./postgres/errors.ts";
export { RqliteUnavailableError } from "./rqlite/check.ts";
export { checkRqliteUrl, READ_CONSISTENCIES, type ReadConsistency } from "./rqlite/options.ts";
export type { PostgresStoreOptions, RqliteStoreOptions };

/**
 * Opens a store on an rqlite cluster: see `openRqliteStore` in
 * `./rqlite/store.ts`, which this imports on the first call.
 *
 * @throws {RangeError} for an invalid option
 * @throws {RqliteUnavailableError} when no node can be used
 */
export async function openRqliteStore(opts: RqliteStoreOptions): Promise<Store> {
  return await (await import("./rqlite/store.ts")).openRqliteStore(opts);
}

/**
 * Opens a store on a PostgreSQL database: see `openPostgresStore` in
 * `./postgres/store.ts`, which this imports on the first call.
 *
 * @throws {RangeError} for an invalid option or connection string
 * @throws {PostgresUnavailableError} when the server cannot be reached or refuses us
 */
export async function openPostgresStore(opts: PostgresStoreOptions): Promise<Store> {
  return await (await import("./postgres/store.ts")).openPostgresStore(opts);
}
