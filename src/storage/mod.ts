/**
 * Subscription storage: the {@link Store} contract and its backends, embedded
 * SQLite and an rqlite cluster.
 *
 * @example
 * ```ts
 * import { openSqliteStore } from "./mod.ts";
 * const store = await openSqliteStore({ path: ":memory:" });
 * console.assert(await store.subscribeExact("http://127.0.0.1:3002/r", new Uint8Array([1]), null) === "success");
 * await store.close();
 * ```
 *
 * @module
 */

export type * from "./types.ts";
export { openSqliteStore, type SqliteStoreOptions } from "./sqlite/store.ts";
export {
  openRqliteStore,
  type RqliteStoreOptions,
  RqliteUnavailableError,
} from "./rqlite/store.ts";
