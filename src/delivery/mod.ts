/**
 * Delivery: taking notify bodies off the wire (memory or spool file), the
 * bounded concurrent RECEIVE fan-out, MISSED scheduling and the sweeper.
 *
 * @example
 * ```ts
 * import { missedDelaySeconds } from "./mod.ts";
 * const policy = { maxRetries: 1, expoFactor: 1, expoBase: 2, expoMax: 10, constantSeconds: 0, jitterSeconds: 0 };
 * console.log(missedDelaySeconds(policy, 0)); // 1
 * ```
 *
 * @module
 */

export { fanOut } from "./fanout.ts";
export { MAX_RECEIVE_RESPONSE_BYTES, sendReceive } from "./receive.ts";
export type { OutgoingMessage, ReceiveOutcome } from "./receive.ts";
export { takeMessage } from "./intake.ts";
export type { HeldMessage, Intake, IntakeLimits, OutgoingBody } from "./intake.ts";
export { readNotifyHead } from "./notify_head.ts";
export type { NotifyHead } from "./notify_head.ts";
export { postBytes, SMALL_BODY_BYTES } from "./http_client.ts";
export type { PostOptions, PostResult } from "./http_client.ts";
export { forEachConcurrent } from "./limiter.ts";
export { missedDelaySeconds } from "./missed_policy.ts";
export { MAX_MISSED_RESPONSE_BYTES, sendMissed } from "./missed_send.ts";
export type { MissedOutcome } from "./missed_send.ts";
export { startSweeper, sweepOnce } from "./sweeper.ts";
export type { Sweeper, SweeperOptions, SweepStats } from "./sweeper.ts";
export { fileStream, SpoolFile } from "./spool.ts";
export { subscriptionKey, subscriptionKeyText } from "./keys.ts";
