/**
 * Notices a database file deleted or replaced under an open connection
 * (SQLite keeps writing to the unlinked inode, so every write would be
 * acknowledged and then lost): the file's device and inode at open time,
 * compared with what the path holds now.
 *
 * @module
 */

import { fileIdentity } from "../../sync_fs.ts";

/** Checks of reads are at most this frequent, ms. */
const READ_CHECK_MS = 1000;

/** Watches one database path (null for in-memory databases: never gone). */
export class DatabaseFile {
  readonly #path: string;
  readonly #opened: { dev: bigint; ino: bigint } | null;
  #checkedAt = -Infinity;
  #gone: "deleted" | "replaced" | null = null;

  /** Records what `path` is now (call right after opening it). */
  constructor(path: string) {
    this.#path = path;
    this.#opened = path === ":memory:" || path === "" ? null : identity(path);
  }

  /**
   * `"deleted"` or `"replaced"` when the path no longer holds the file we
   * opened, else null. A write always checks (a stat, tens of µs), so none is
   * acknowledged into an unlinked file; a read checks at most once per
   * second (a gone file answers stale, not lost, data), every time once gone.
   */
  gone(read: boolean): "deleted" | "replaced" | null {
    const opened = this.#opened;
    if (opened === null) return null;
    const at = performance.now();
    if (read && this.#gone === null && at - this.#checkedAt < READ_CHECK_MS) return null;
    this.#checkedAt = at;
    const now = identity(this.#path);
    this.#gone = now === null
      ? "deleted"
      : now.dev === opened.dev && now.ino === opened.ino
      ? null
      : "replaced";
    return this.#gone;
  }
}

function identity(path: string): { dev: bigint; ino: bigint } | null {
  return fileIdentity(path);
}
