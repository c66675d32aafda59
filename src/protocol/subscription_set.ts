/**
 * The subscription set of one url, as set_subscriptions carries it and the
 * strong etag hashes it.
 *
 * @module
 */

/** One exact entry. */
export interface ExactEntry {
  /** Topic bytes. */
  readonly topic: Uint8Array;
  /** Recovery url, null for none. */
  readonly recovery: string | null;
}

/** One glob entry. */
export interface GlobEntry {
  /** The pattern. */
  readonly glob: string;
  /** Recovery url, null for none. */
  readonly recovery: string | null;
}

/**
 * Every subscription of one url, in strong-etag order: exact topics ascending
 * bytewise, globs ascending by their UTF-8 bytes; no duplicates.
 */
export interface SubscriptionSet {
  /** Exact subscriptions, sorted. */
  readonly exacts: readonly ExactEntry[];
  /** Glob subscriptions, sorted. */
  readonly globs: readonly GlobEntry[];
}
