/**
 * The MISSED retry policy (docs/protocol/storage.md#missed-retries): how long to wait before the
 * next MISSED attempt, or when to give up.
 *
 * @module
 */

import type { MissedRetryPolicy } from "../core/limits.ts";

/**
 * Seconds to wait before the next MISSED attempt, or null to give up.
 * `attempts` is the number of MISSED attempts already made (0 right after a
 * failed RECEIVE). The caller adds the delay to now (docs/decisions.md#missed-messages; the
 * reference stores the delay itself as a timestamp).
 *
 * @example
 * ```ts
 * import { missedDelaySeconds } from "./missed_policy.ts";
 * const policy = { maxRetries: 20, expoFactor: 1, expoBase: 2, expoMax: 10, constantSeconds: 1, jitterSeconds: 2 };
 * missedDelaySeconds(policy, 3, () => 0); // 9
 * ```
 */
export function missedDelaySeconds(
  policy: MissedRetryPolicy,
  attempts: number,
  random: () => number = Math.random,
): number | null {
  if (attempts >= policy.maxRetries) return null;
  const exponent = Math.min(policy.expoMax, attempts);
  return policy.expoFactor * policy.expoBase ** exponent + policy.constantSeconds +
    random() * policy.jitterSeconds;
}
