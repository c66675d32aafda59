/**
 * The small types both halves of the storage contract name (`types.ts`,
 * `admin_types.ts`).
 *
 * @module
 */

/** Outcome of writes that cannot conflict. */
export type WriteResult = "success" | "unavailable";

/** Identifies the subscription a missed record belongs to. */
export type SubscriptionKey =
  | { readonly kind: "exact"; readonly url: string; readonly topic: Uint8Array }
  | { readonly kind: "glob"; readonly url: string; readonly glob: string };
