/**
 * The part of the storage contract that looks after subscriptions: delivery
 * statistics per subscription, leases, pruning and its audit. Every store
 * implements it beside the protocol operations ({@link SubscriptionAdmin} is
 * extended by `Store`); the contract suite (`_contract/admin.ts`) checks it.
 *
 * Times are epoch milliseconds. The store never reads a clock for these
 * operations except to stamp a new or renewed subscription.
 *
 * @module
 */

import type { SubscriptionKey, WriteResult } from "./key_types.ts";

/**
 * What a batch of deliveries to one subscription did, aggregated in memory
 * (`delivery/stats.ts`) and added to the stored counters by one write.
 */
export interface DeliveryTally {
  /** The subscription delivered to. */
  readonly subscription: SubscriptionKey;
  /** RECEIVE attempts in the batch. */
  readonly deliveries: number;
  /** Of those, the ones that failed. */
  readonly failures: number;
  /** The last attempt's time. */
  readonly lastAttemptAt: number;
  /** The last success's time, or null if none succeeded. */
  readonly lastSuccessAt: number | null;
  /** The last failure's time, or null if none failed. */
  readonly lastFailureAt: number | null;
  /** The last failure's class (`http 500`, `timeout`, `refused`, …), or null. */
  readonly lastFailure: string | null;
  /** A delivery in the batch succeeded: the stored failure streak ends. */
  readonly succeeded: boolean;
  /** Failures after the batch's last success (all of them if none succeeded). */
  readonly trailingFailures: number;
  /** When the first of those trailing failures happened, or null. */
  readonly trailingSince: number | null;
}

/** One subscription with its statistics. */
export interface SubscriptionStats {
  /** Exact topic or glob pattern. */
  readonly kind: "exact" | "glob";
  /** The subscriber's url. */
  readonly url: string;
  /** The topic (exact) or the glob's UTF-8 bytes. */
  readonly key: Uint8Array;
  /** The recovery url, or null. */
  readonly recovery: string | null;
  /** When it was created (null: created before statistics existed). */
  readonly createdAt: number | null;
  /** When it was created or last renewed (a repeated subscribe, set_subscriptions). */
  readonly renewedAt: number | null;
  /** The last RECEIVE attempt. */
  readonly lastAttemptAt: number | null;
  /** The last successful RECEIVE. */
  readonly lastSuccessAt: number | null;
  /** The last failed RECEIVE. */
  readonly lastFailureAt: number | null;
  /** Class of the last failure (`http 500`, `timeout`, `refused`, `error`, …). */
  readonly lastFailure: string | null;
  /** Since when every delivery has failed (null: the last one succeeded, or none yet). */
  readonly failingSince: number | null;
  /** Failures since the last success. */
  readonly consecutiveFailures: number;
  /** RECEIVE attempts counted. */
  readonly deliveries: number;
  /** Failed attempts counted. */
  readonly failures: number;
}

/** Which subscriptions to list; every given field must match. */
export interface StatsQuery {
  /** Exactly this url. */
  readonly url?: string;
  /** Exact subscriptions to exactly this topic (glob rows never match). */
  readonly topic?: Uint8Array;
  /** Glob subscriptions with exactly this pattern (exact rows never match). */
  readonly glob?: string;
  /** Url, topic or glob contains this text. */
  readonly search?: string;
  /** Only subscriptions whose last delivery failed. */
  readonly failing?: boolean;
  /** Page size. */
  readonly limit: number;
  /** Rows skipped. */
  readonly offset: number;
}

/** A page of subscriptions, failing first (longest failing first), then by url. */
export interface StatsPage {
  /** The rows of the page. */
  readonly rows: SubscriptionStats[];
  /** How many rows match the query in all. */
  readonly total: number;
}

/** A url that is failing, for reports. */
export interface FailingUrl {
  /** The url. */
  readonly url: string;
  /** Earliest start of a running failure streak among its subscriptions. */
  readonly failingSince: number;
  /** Largest failure streak among its subscriptions. */
  readonly consecutiveFailures: number;
  /** Its subscriptions. */
  readonly subscriptions: number;
}

/** A topic or glob by how many subscriptions it has. */
export interface TopKey {
  /** Exact topic or glob. */
  readonly kind: "exact" | "glob";
  /** The topic or the glob's UTF-8 bytes. */
  readonly key: Uint8Array;
  /** Subscriptions to it. */
  readonly subscriptions: number;
}

/** Counts over every subscription. */
export interface SubscriptionReport {
  /** Exact subscriptions. */
  readonly exacts: number;
  /** Glob subscriptions. */
  readonly globs: number;
  /** Distinct subscriber urls. */
  readonly urls: number;
  /** Urls with a subscription whose last delivery failed. */
  readonly failingUrls: number;
  /** The longest failing urls, at most the `top` asked for. */
  readonly topFailing: FailingUrl[];
  /** The topics and globs with the most subscriptions, at most `top`. */
  readonly topKeys: TopKey[];
}

/**
 * What to remove. Url-wide rules (`failing`, `idle`) remove every
 * subscription of a url that qualifies; `lease` removes single subscriptions.
 * `exceptSuffix` spares urls ending with it (the websocket relay rows, which
 * live as long as their connections).
 */
export type PruneRule =
  | { readonly kind: "url"; readonly url: string }
  | {
    /** Urls with a failure streak that began at or before `before` and no success after it. */
    readonly kind: "failing";
    readonly before: number;
    readonly exceptSuffix?: string;
  }
  | {
    /** Urls with no success, creation or renewal after `before`. */
    readonly kind: "idle";
    readonly before: number;
    readonly exceptSuffix?: string;
  }
  | {
    /** Subscriptions last renewed at or before `before` (never renewed: the lease starts now). */
    readonly kind: "lease";
    readonly before: number;
    readonly exceptSuffix?: string;
  };

/** How a prune is carried out. */
export interface PruneOptions {
  /** The current time: the audit's timestamp, and the start of leases that had none. */
  readonly now: number;
  /** Report what would go, remove nothing, record nothing. */
  readonly dryRun?: boolean;
  /** The reason kept in the audit (default: the rule's kind). */
  readonly reason?: string;
}

/** The subscriptions of one url that a prune removed (or would remove). */
export interface PrunedUrl {
  /** The url. */
  readonly url: string;
  /** Exact subscriptions removed. */
  readonly exacts: number;
  /** Glob subscriptions removed. */
  readonly globs: number;
}

/** One entry of the prune audit. */
export interface PruneRecord extends PrunedUrl {
  /** When. */
  readonly at: number;
  /** Why (`failing`, `idle`, `lease`, `url`, or the reason given). */
  readonly reason: string;
}

/** The operations that look after subscriptions. */
export interface SubscriptionAdmin {
  /**
   * Adds a batch of delivery outcomes to the stored statistics, in one write.
   * Additive, so processes sharing the database may all record. Tallies of
   * subscriptions that no longer exist are ignored.
   */
  recordDeliveries(tallies: readonly DeliveryTally[]): Promise<WriteResult>;
  /** A page of subscriptions with their statistics, paged by the database. */
  listSubscriptionStats(query: StatsQuery): Promise<StatsPage | "unavailable">;
  /** Totals, plus the `top` longest failing urls and most subscribed topics. */
  subscriptionReport(top: number): Promise<SubscriptionReport | "unavailable">;
  /** Removes what `rule` selects and records each url in the audit (unless a dry run). */
  pruneSubscriptions(
    rule: PruneRule,
    options: PruneOptions,
  ): Promise<PrunedUrl[] | "unavailable">;
  /** The newest `limit` audit records, newest first. */
  listPrunes(limit: number): Promise<PruneRecord[] | "unavailable">;
}
