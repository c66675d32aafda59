/**
 * Test helpers: temporary database files that are always removed.
 *
 * @module
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export { bytes, ok } from "../_testing_contract/mod.ts";

/** Runs `fn` with a fresh directory and a database path inside it, then deletes the directory. */
export async function withTempDb(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "lonelypss-sqlite-"));
  try {
    await fn(join(dir, "subscriptions.db"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
