/**
 * Missed-record leases on rqlite (docs/protocol/storage.md#storage-contract), atomic without
 * interactive transactions: one `?transaction` request stamps the oldest due
 * records of both tables with a fresh lease id and reads back what it
 * stamped. Releases are compare-and-set on the lease id; one whose outcome is
 * unknown, or that changed nothing, is resolved by reading the row.
 *
 * @module
 */

import type { LeasedMissed, MissedRetry, ReleaseResult } from "../types.ts";
import type { RqliteClient } from "./client.ts";
import {
  CLEAR_EXACT,
  CLEAR_GLOB,
  LEASE_EXACTS,
  LEASE_GLOBS,
  LEASED_EXACTS,
  LEASED_GLOBS,
  MISSED_STATE_EXACT,
  MISSED_STATE_GLOB,
  RETRY_EXACT,
  RETRY_GLOB,
} from "./sql.ts";
import { decodeBlob, randomId, type Statement } from "./values.ts";

/** Leases up to `limit` due records, oldest first across both tables. */
export async function leaseOverdue(
  client: RqliteClient,
  now: number,
  limit: number,
  leaseMs: number,
  deadline: number,
): Promise<LeasedMissed[] | "unavailable"> {
  const n = Math.floor(limit);
  if (!(n > 0)) return [];
  const lease = randomId();
  const params = [Math.floor(now), lease, Math.floor(now + leaseMs), n] as const;
  // Sent again after an unknown outcome: rows already stamped with this id
  // stay part of the chosen set, so a retry takes the same records.
  const r = await client.write(
    [
      [LEASE_EXACTS, ...params],
      [LEASE_GLOBS, ...params],
      [LEASED_EXACTS, lease],
      [LEASED_GLOBS, lease],
    ],
    deadline,
    { idempotent: true, withReads: true },
  );
  if (!r.ok) return "unavailable";
  const leaseId = String(lease);
  const out: LeasedMissed[] = [];
  for (const [url, exact, recovery, attempts, due] of r.results[2]!.values) {
    const topic = decodeBlob(exact);
    out.push({
      subscription: { kind: "exact", url: String(url), topic },
      recovery: String(recovery),
      topic,
      attempts: Number(attempts ?? 0),
      nextRetryAt: Number(due),
      leaseId,
    });
  }
  for (const [url, glob, recovery, topic, attempts, due] of r.results[3]!.values) {
    out.push({
      subscription: { kind: "glob", url: String(url), glob: String(glob) },
      recovery: String(recovery),
      topic: decodeBlob(topic),
      attempts: Number(attempts ?? 0),
      nextRetryAt: Number(due),
      leaseId,
    });
  }
  return out.sort((a, b) => a.nextRetryAt - b.nextRetryAt);
}

/** Ends a lease: `ok`, or `conflict` when it is no longer ours. */
export async function releaseMissed(
  client: RqliteClient,
  leased: LeasedMissed,
  retry: MissedRetry | null,
  deadline: number,
): Promise<ReleaseResult> {
  const lease = Number(leased.leaseId);
  if (!Number.isSafeInteger(lease)) return "conflict";
  const receipt = -randomId();
  const k = leased.subscription;
  const key = k.kind === "exact" ? [k.topic, k.url] as const : [k.glob, k.url] as const;
  const write: Statement = retry === null
    ? [k.kind === "exact" ? CLEAR_EXACT : CLEAR_GLOB, receipt, ...key, lease]
    : [
      k.kind === "exact" ? RETRY_EXACT : RETRY_GLOB,
      retry.attempts,
      retry.nextRetryAt,
      receipt,
      ...key,
      lease,
    ];
  const state: Statement = [k.kind === "exact" ? MISSED_STATE_EXACT : MISSED_STATE_GLOB, ...key];
  for (;;) {
    const w = await client.write([write], deadline);
    if (w.ok && w.results[0]!.rowsAffected > 0) return "ok";
    if (!w.ok && w.outcome === "unavailable") return "unavailable";
    // Unknown, or nothing changed (which may also be a second delivery of a
    // request that did apply: fetch re-sends one whose pooled connection broke).
    const r = await client.queryLeader([state], deadline);
    if (!r.ok) return "unavailable";
    const lockId = r.results[0]!.values[0]?.[0];
    if (lockId === receipt) return "ok";
    if (lockId !== lease || w.ok) return "conflict";
    // Still our lease after an unknown outcome: it was not applied; send it again.
  }
}
