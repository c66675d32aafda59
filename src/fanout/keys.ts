/**
 * Text keys for subscription rows (sets and maps of rows).
 *
 * @module
 */

import { toHex } from "../protocol/mod.ts";
import type { Subscriber, SubscriptionKey } from "../storage/types.ts";

/** A string that identifies the subscription row `key` (hex topic, so any bytes work). */
export function subscriptionKeyText(key: SubscriptionKey): string {
  return key.kind === "exact"
    ? `e\u0000${key.url}\u0000${toHex(key.topic)}`
    : `g\u0000${key.url}\u0000${key.glob}`;
}

/** The storage key of the row `sub` came from, for a notify of `topic`. */
export function subscriptionKey(sub: Subscriber, topic: Uint8Array): SubscriptionKey {
  return sub.kind === "exact"
    ? { kind: "exact", url: sub.url, topic }
    : { kind: "glob", url: sub.url, glob: sub.glob };
}
