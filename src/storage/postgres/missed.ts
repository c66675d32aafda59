/**
 * Missed-record leases on PostgreSQL (docs/decisions.md#missed-messages): one statement stamps the
 * oldest due records of both tables with a fresh lease id and returns them;
 * releases are compare-and-set on the lease id.
 *
 * @module
 */

import type { LeasedMissed, MissedRetry, ReleaseResult } from "../types.ts";
import type { Sql } from "./driver.ts";
import type { Statements } from "./sql.ts";
import { bytesOf, randomId } from "./values.ts";

/** Leases up to `limit` due records, oldest first across both tables. */
export async function leaseOverdue(
  sql: Sql,
  st: Statements,
  now: number,
  limit: number,
  leaseMs: number,
): Promise<LeasedMissed[]> {
  const n = Math.floor(limit);
  if (!(n > 0)) return [];
  const lease = randomId();
  const at = Math.floor(now);
  const rows = await sql.unsafe(st.lease, [at, lease, Math.floor(now + leaseMs), n]);
  const leaseId = String(lease);
  const out: LeasedMissed[] = rows.map((r) => {
    const url = String(r.url);
    const attempts = Number(r.missed_attempts ?? 0);
    const nextRetryAt = Number(r.missed_next_retry_at);
    const recovery = String(r.missed_url);
    if (r.glob === null) {
      const topic = bytesOf(r.exact);
      return {
        subscription: { kind: "exact", url, topic },
        recovery,
        topic,
        attempts,
        nextRetryAt,
        leaseId,
      };
    }
    return {
      subscription: { kind: "glob", url, glob: String(r.glob) },
      recovery,
      topic: bytesOf(r.topic),
      attempts,
      nextRetryAt,
      leaseId,
    };
  });
  // RETURNING order is unspecified; hand them out oldest due first.
  return out.sort((a, b) => a.nextRetryAt - b.nextRetryAt);
}

/** Ends a lease: `ok`, or `conflict` when it is no longer ours. */
export async function releaseMissed(
  sql: Sql,
  st: Statements,
  leased: LeasedMissed,
  retry: MissedRetry | null,
): Promise<ReleaseResult> {
  const lease = Number(leased.leaseId);
  if (!Number.isSafeInteger(lease)) return "conflict";
  const k = leased.subscription;
  const key = k.kind === "exact" ? [k.topic, k.url] : [k.glob, k.url];
  const rows = retry === null
    ? await sql.unsafe(k.kind === "exact" ? st.clearExact : st.clearGlob, [...key, lease])
    : await sql.unsafe(k.kind === "exact" ? st.retryExact : st.retryGlob, [
      retry.attempts,
      retry.nextRetryAt,
      ...key,
      lease,
    ]);
  return rows.count > 0 ? "ok" : "conflict";
}
