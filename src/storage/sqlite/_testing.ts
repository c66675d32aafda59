/**
 * Test helpers: temporary database files that are always removed.
 *
 * @module
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Store } from "../types.ts";
import { openSqliteStore } from "./store.ts";

/** Runs `fn` with a fresh directory and a database path inside it, then deletes the directory. */
export async function withTempDb(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "lonelypss-sqlite-"));
  try {
    await fn(join(dir, "subscriptions.db"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs `fn` once against an in-memory store and once against a store on a temporary file. */
export async function withEachStore(fn: (store: Store) => Promise<void>): Promise<void> {
  const memory = await openSqliteStore({ path: ":memory:" });
  try {
    await fn(memory);
  } finally {
    await memory.close();
  }
  await withTempDb(async (path) => {
    const store = await openSqliteStore({ path });
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  });
}

const UTF8 = new TextEncoder();

/** UTF-8 bytes of `text`. */
export function bytes(text: string): Uint8Array {
  return UTF8.encode(text);
}

/** Asserts that a result is not `"unavailable"` and narrows it. */
export function ok<T>(v: T | "unavailable"): T {
  if (v === "unavailable") throw new Error("Unexpected result: unavailable");
  return v;
}
