/**
 * The storage contract (docs/protocol/storage.md#storage-contract, with our decisions in
 * docs/decisions.md#missed-messages to docs/decisions.md#limits-on-fields). Implementations:
 * embedded SQLite (`sqlite/store.ts`), rqlite (`rqlite/store.ts`) and PostgreSQL
 * (`postgres/store.ts`).
 *
 * Results are values, never exceptions: a backend that cannot answer returns
 * `"unavailable"` (HTTP 503 to our caller). Only programming errors throw.
 *
 * @module
 */

import type { SubscriptionSet } from "../protocol/mod.ts";
import type { SubscriptionAdmin } from "./admin_types.ts";
import type { SubscriptionKey, WriteResult } from "./key_types.ts";
export type { SubscriptionKey, WriteResult } from "./key_types.ts";
export type * from "./admin_types.ts";
export type { ExactEntry, GlobEntry, SubscriptionSet } from "../protocol/mod.ts";

/** Subscribe outcome: `conflict` = the (url, topic|glob) pair already exists (unchanged). */
export type SubscribeResult = "success" | "conflict" | "unavailable";
/** Unsubscribe outcome: `not_found` = there was no such pair. */
export type UnsubscribeResult = "success" | "not_found" | "unavailable";
/** Outcome of releasing a leased missed record (compare-and-set on the lease). */
export type ReleaseResult = "ok" | "conflict" | "unavailable";

/** A subscriber row that matched a topic. `recovery` null = no recovery url. */
export type Subscriber =
  | { readonly kind: "exact"; readonly url: string; readonly recovery: string | null }
  | {
    readonly kind: "glob";
    readonly url: string;
    readonly glob: string;
    readonly recovery: string | null;
  };

/** A missed record leased to one sweeper until `leaseExpiresAt`. */
export interface LeasedMissed {
  /** The subscription. */
  readonly subscription: SubscriptionKey;
  /** The recovery url MISSED goes to (the subscription's, at the time of the failure). */
  readonly recovery: string;
  /** The topic that was missed (for exact subscriptions, the subscription's topic). */
  readonly topic: Uint8Array;
  /** MISSED attempts already made. */
  readonly attempts: number;
  /** When it became due, epoch milliseconds. */
  readonly nextRetryAt: number;
  /** Opaque lease id; release compares it. */
  readonly leaseId: string;
}

/** The state to keep after a failed MISSED attempt. */
export interface MissedRetry {
  /** Attempts made so far. */
  readonly attempts: number;
  /** Next attempt, epoch milliseconds. */
  readonly nextRetryAt: number;
}

/**
 * The storage contract every backend implements: the protocol's operations
 * here, looking after subscriptions (statistics, leases, pruning) in
 * {@link SubscriptionAdmin}.
 */
export interface Store extends SubscriptionAdmin {
  /**
   * Adds (url, topic), stamped created and renewed now. Existing pair →
   * `conflict`, its recovery url unchanged, its lease renewed.
   */
  subscribeExact(url: string, topic: Uint8Array, recovery: string | null): Promise<SubscribeResult>;
  /** Removes (url, topic). */
  unsubscribeExact(url: string, topic: Uint8Array): Promise<UnsubscribeResult>;
  /** Adds (url, glob), like {@link subscribeExact}: a conflict renews the lease. */
  subscribeGlob(url: string, glob: string, recovery: string | null): Promise<SubscribeResult>;
  /** Removes (url, glob). */
  unsubscribeGlob(url: string, glob: string): Promise<UnsubscribeResult>;

  /**
   * Every subscription of `url`, sorted for the strong etag. The routes hash
   * it; check_subscriptions' consistency rule (docs/protocol/http.md#check-subscriptions)
   * must hold.
   */
  listSubscriptions(url: string): Promise<SubscriptionSet | "unavailable">;

  /**
   * Makes `url`'s subscriptions exactly `desired` (already validated: sorted, unique) in one
   * transaction: inserts missing rows, deletes unlisted rows, updates the recovery url of kept rows
   * (docs/decisions.md#set-subscriptions). Kept rows keep their missed state and statistics and
   * are renewed.
   */
  setSubscriptions(url: string, desired: SubscriptionSet): Promise<WriteResult>;

  /**
   * Every subscription matching `topic`: exact rows whose topic equals it, then
   * glob rows whose pattern matches it (docs/protocol/globs.md#semantics; a topic that is not
   * valid UTF-8 matches no glob). Duplicates across rows are kept.
   * Must not scan all exact rows (indexed) and must stay fast with 100k rows.
   */
  getSubscribers(topic: Uint8Array): Promise<Subscriber[] | "unavailable">;

  /**
   * Records that `subscription` missed `topic`: sets the recovery url, attempts
   * and due time, and clears any lease. One pending record per subscription
   * row; a newer failure replaces the older one. A missing row is a no-op.
   */
  upsertMissed(
    subscription: SubscriptionKey,
    recovery: string,
    topic: Uint8Array,
    retry: MissedRetry,
  ): Promise<WriteResult>;

  /**
   * Leases up to `limit` records due at `now` (epoch ms) that are not leased
   * (or whose lease expired), oldest due first, for `leaseMs`. Several
   * processes sharing the database never get the same live lease.
   */
  leaseOverdueMissed(
    now: number,
    limit: number,
    leaseMs: number,
  ): Promise<LeasedMissed[] | "unavailable">;

  /**
   * Ends a lease: `retry` given → reschedule; null → clear the missed state
   * (success or give-up). Never deletes the subscription (docs/decisions.md#missed-messages).
   * `conflict` when the lease is no longer ours (expired and re-leased, or
   * superseded by a newer upsertMissed).
   */
  releaseMissed(leased: LeasedMissed, retry: MissedRetry | null): Promise<ReleaseResult>;

  /**
   * Whether the backend answers a trivial read now (readiness probes): `ok`,
   * or `unavailable` when it cannot (locked out, unreachable, file gone).
   */
  ping(): Promise<"ok" | "unavailable">;

  /** How many missed records wait for a MISSED (every subscription, for metrics). */
  countPendingMissed(): Promise<number | "unavailable">;

  /** Releases every resource. Idempotent. */
  close(): Promise<void>;
}
