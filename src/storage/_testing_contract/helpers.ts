/**
 * What the contract's cases share: the database a backend hands them, and
 * small helpers.
 *
 * @module
 */

import type { ExactEntry, GlobEntry, Store, SubscriptionKey } from "../types.ts";

/** A fresh, empty database of one backend. */
export interface ContractDatabase {
  /** Opens a store on this database (several at once when `persistent`). */
  open(): Promise<Store>;
  /**
   * Row ids of `url`'s exact rows (keyed by the topic in upper-case hex) or
   * glob rows (keyed by the glob in upper-case hex).
   */
  rowIds(kind: "exact" | "glob", url: string): Promise<Map<string, number>>;
}

/** One behaviour of the contract. */
export interface ContractCase {
  /** The test name: the behaviour. */
  readonly name: string;
  /** Needs a database that outlives a store and is shared by several stores at once. */
  readonly persistent?: boolean;
  /** Runs the case on a fresh database. */
  readonly fn: (db: ContractDatabase) => Promise<void>;
}

/** Opens a store on `db`, runs `fn`, closes the store. */
export async function withStore(
  db: ContractDatabase,
  fn: (store: Store) => Promise<void>,
): Promise<void> {
  const store = await db.open();
  try {
    await fn(store);
  } finally {
    await store.close();
  }
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

/** A subscriber url. */
export const URL_A = "http://127.0.0.1:3002/v1/receive";
/** Another subscriber url. */
export const URL_B = "http://127.0.0.1:3004/v1/receive";
/** A recovery url. */
export const REC = "http://127.0.0.1:3002/v1/missed";
/** The key of URL_A's exact subscription to `t`. */
export const exactKey = (t: string): SubscriptionKey => ({
  kind: "exact",
  url: URL_A,
  topic: bytes(t),
});
/** The key of URL_A's glob subscription to `g`. */
export const globKey = (g: string): SubscriptionKey => ({ kind: "glob", url: URL_A, glob: g });

/** 4 bytes, big-endian. */
export function topicKey(i: number): Uint8Array {
  // 4-byte big-endian keys sort bytewise in numeric order and include non-UTF-8 bytes.
  return new Uint8Array([i >>> 24, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff]);
}

/** Exact entries for topicKey(from) … topicKey(to - 1). */
export function exactRange(
  from: number,
  to: number,
  recovery: (i: number) => string | null,
): ExactEntry[] {
  const out: ExactEntry[] = [];
  for (let i = from; i < to; i++) out.push({ topic: topicKey(i), recovery: recovery(i) });
  return out;
}

/** Glob entries g/<from>/* … g/<to - 1>/*. */
export function globRange(from: number, to: number, recovery: string | null): GlobEntry[] {
  const out: GlobEntry[] = [];
  for (let i = from; i < to; i++) out.push({ glob: `g/${String(i).padStart(5, "0")}/*`, recovery });
  return out;
}

/** Every case of the contract. */
