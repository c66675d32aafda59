/**
 * Missed-record bookkeeping: one pending MISSED per subscription row, stored in
 * the row's `missed_*` columns (docs/decisions.md#missed-messages). Clearing the state
 * never deletes the subscription (unlike the reference).
 *
 * @module
 */

import { randomBytes } from "../../crypto/equal.ts";
import type { LeasedMissed, MissedRetry, SubscriptionKey } from "../types.ts";
import type { SqliteDb, SqlRow } from "./driver.ts";
import { transaction } from "./driver.ts";
import type { GlobCache } from "./glob_cache.ts";
import type { Statements } from "./statements.ts";

/** Records a missed message; a missing row is a no-op (the subscription is gone). */
export function upsertMissed(
  db: SqliteDb,
  st: Statements,
  globs: GlobCache,
  key: SubscriptionKey,
  recovery: string,
  topic: Uint8Array,
  retry: MissedRetry,
): void {
  if (key.kind === "exact") {
    st.upsertMissedExact.run(recovery, retry.attempts, retry.nextRetryAt, key.topic, key.url);
    return;
  }
  // The recovery url is part of what fan-out returns, so the glob index follows it.
  try {
    const changed = transaction(db, () => {
      const before = globs.beforeWrite();
      const n = st.upsertMissedGlob.run(
        recovery,
        topic,
        retry.attempts,
        retry.nextRetryAt,
        key.glob,
        key.url,
      ).changes;
      globs.afterWrite(before);
      return n;
    });
    if (changed > 0) globs.apply([{ op: "put", url: key.url, glob: key.glob, recovery }]);
  } catch (e) {
    globs.invalidate();
    throw e;
  }
}

/** Leases up to `limit` due records, oldest first across both tables. */
export function leaseOverdue(
  db: SqliteDb,
  st: Statements,
  now: number,
  limit: number,
  leaseMs: number,
): LeasedMissed[] {
  const n = Math.floor(limit);
  if (!(n > 0)) return [];
  const leaseId = newLeaseId();
  const expires = now + leaseMs;
  const rows = transaction(db, () => {
    let exacts = 0;
    let globs = 0;
    for (const r of st.dueCandidates.all(now, n)) {
      if (Number(r["kind"]) === 0) exacts = Number(r["n"]);
      else globs = Number(r["n"]);
    }
    const out: LeasedMissed[] = [];
    if (exacts > 0) {
      for (const r of st.leaseExacts.all(now, leaseId, expires, exacts)) {
        out.push(
          leased(r, { kind: "exact", url: text(r, "url"), topic: blob(r, "exact") }, leaseId),
        );
      }
    }
    if (globs > 0) {
      for (const r of st.leaseGlobs.all(now, leaseId, expires, globs)) {
        out.push(leased(r, { kind: "glob", url: text(r, "url"), glob: text(r, "glob") }, leaseId));
      }
    }
    return out;
  });
  // RETURNING order is unspecified; hand them out oldest due first.
  return rows.sort((a, b) => a.nextRetryAt - b.nextRetryAt);
}

/** Ends a lease (compare-and-set on key and lease id); false when it was not ours. */
export function releaseMissed(
  st: Statements,
  leased: LeasedMissed,
  retry: MissedRetry | null,
): boolean {
  const lease = Number(leased.leaseId);
  const k = leased.subscription;
  const target: [Uint8Array | string, string] = k.kind === "exact"
    ? [k.topic, k.url]
    : [k.glob, k.url];
  if (!Number.isSafeInteger(lease)) return false;
  if (retry === null) {
    const stmt = k.kind === "exact" ? st.clearExact : st.clearGlob;
    return stmt.run(...target, lease).changes > 0;
  }
  const stmt = k.kind === "exact" ? st.retryExact : st.retryGlob;
  return stmt.run(retry.attempts, retry.nextRetryAt, ...target, lease).changes > 0;
}

// A random positive integer below 2^53: exact as a JS number, never 0, and
// unguessable enough that two leases never collide.
function newLeaseId(): number {
  const b = randomBytes(7);
  let v = b[0]! & 0x1f;
  for (let i = 1; i < 7; i++) v = v * 256 + b[i]!;
  return v === 0 ? 1 : v;
}

function leased(
  row: SqlRow,
  subscription: LeasedMissed["subscription"],
  leaseId: number,
): LeasedMissed {
  return {
    subscription,
    recovery: text(row, "missed_url"),
    topic: subscription.kind === "exact" ? subscription.topic : blob(row, "missed_topic"),
    attempts: Number(row["missed_attempts"] ?? 0),
    nextRetryAt: Number(row["missed_next_retry_at"]),
    leaseId: String(leaseId),
  };
}

function text(row: SqlRow, col: string): string {
  return String(row[col]);
}

function blob(row: SqlRow, col: string): Uint8Array {
  const v = row[col];
  if (v instanceof Uint8Array) return v;
  // A reference database may hold a topic stored as TEXT.
  return new TextEncoder().encode(String(v ?? ""));
}
