/**
 * Tells "the database cannot answer right now" apart from programming errors.
 *
 * @module
 */

// Primary SQLite result codes that describe the environment, not our SQL:
// BUSY, LOCKED, NOMEM, READONLY, INTERRUPT, IOERR, CORRUPT, FULL, CANTOPEN, PROTOCOL, NOTADB.
const UNAVAILABLE_CODES = new Set([5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 26]);
const UNAVAILABLE_NAMES = new Set([
  "SQLITE_BUSY",
  "SQLITE_LOCKED",
  "SQLITE_NOMEM",
  "SQLITE_READONLY",
  "SQLITE_INTERRUPT",
  "SQLITE_IOERR",
  "SQLITE_CORRUPT",
  "SQLITE_FULL",
  "SQLITE_CANTOPEN",
  "SQLITE_PROTOCOL",
  "SQLITE_NOTADB",
]);
// Deno's node:sqlite omits `errcode` on errors thrown by `exec`, so the
// message (sqlite3_errstr / sqlite3_errmsg text) is the last resort.
const UNAVAILABLE_MESSAGE =
  /database is locked|database table is locked|disk I\/O error|database or disk is full|unable to open database|database disk image is malformed|file is not a database|attempt to write a readonly database|out of memory|interrupted|locking protocol/i;

/**
 * Whether `e` is a SQLite error caused by contention or the environment
 * (busy, locked, I/O, full disk, corruption), which the store reports as
 * `"unavailable"` instead of throwing.
 */
export function isUnavailableError(e: unknown): boolean {
  if (typeof e !== "object" || e === null) return false;
  const err = e as { errcode?: unknown; errno?: unknown; code?: unknown; message?: unknown };
  // node:sqlite: `errcode` is the extended code; Bun: `errno`, and `code` like "SQLITE_IOERR_READ".
  for (const n of [err.errcode, err.errno]) {
    if (typeof n === "number" && n > 0) return UNAVAILABLE_CODES.has(n & 0xff);
  }
  if (typeof err.code === "string" && err.code.startsWith("SQLITE_")) {
    const primary = err.code.split("_", 2).join("_");
    return UNAVAILABLE_NAMES.has(primary);
  }
  return typeof err.message === "string" && UNAVAILABLE_MESSAGE.test(err.message);
}

/**
 * Whether `e` is SQLITE_BUSY: another connection (usually another process)
 * holds a lock we need. Worth retrying a little later, unlike the rest.
 */
export function isBusyError(e: unknown): boolean {
  if (typeof e !== "object" || e === null) return false;
  const err = e as { errcode?: unknown; errno?: unknown; code?: unknown; message?: unknown };
  for (const n of [err.errcode, err.errno]) {
    if (typeof n === "number" && n > 0) return (n & 0xff) === 5;
  }
  if (typeof err.code === "string" && err.code.startsWith("SQLITE_")) {
    return err.code === "SQLITE_BUSY" || err.code.startsWith("SQLITE_BUSY_");
  }
  return typeof err.message === "string" && /database is locked/i.test(err.message);
}
