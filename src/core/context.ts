/**
 * The broadcaster's shared state: what both transports (`http/` routes and
 * `ws/` sessions) and the fan-out below them (`fanout/`) read. Nothing here
 * knows either transport.
 *
 * @module
 */

import type { AuthConfig } from "../auth/mod.ts";
import type { Store } from "../storage/types.ts";
import type { Logger, ThrottledLog } from "../log.ts";
import type { Limits } from "./limits.ts";
import type { ByteBudget } from "./byte_budget.ts";
import type { LocalSubscribers } from "./local.ts";
import type { Metrics } from "./metrics.ts";
import type { OutboundGuard } from "./outbound.ts";
import type { SpoolBudget } from "./spool_budget.ts";
import type { DeliveryStats } from "./delivery_stats.ts";

/** The broadcaster's state as the routes see it. */
export interface Context {
  /** Subscription storage. */
  readonly store: Store;
  /** Both authorization directions. */
  readonly auth: AuthConfig;
  /** Limits and tunables. */
  readonly limits: Limits;
  /** Current time, epoch seconds (fractional). Injectable for tests. */
  readonly now: () => number;
  /** Where diagnostics go. */
  readonly log: Logger;
  /** The same, rate limited: for failures of the environment that can recur per request. */
  readonly faults: ThrottledLog;
  /**
   * This process's websocket subscribers, as the fan-out and the relay routes
   * see them (`NO_LOCAL_SUBSCRIBERS` when websockets are off).
   */
  readonly local: LocalSubscribers;
  /** Counters for `/metrics`. */
  readonly metrics: Metrics;
  /** Bytes of spool files in use, against `limits.spoolQuotaBytes`. */
  readonly spool: SpoolBudget;
  /** The SSRF guard every outgoing RECEIVE and MISSED goes through, or null when off. */
  readonly outbound: OutboundGuard | null;
  /** Slots for outgoing requests, `limits.maxOutgoingConnections` of them. */
  readonly outgoing: Slots;
  /** Request-body bytes held in memory, at most `limits.maxBufferedBodyBytes`. */
  readonly bodyMemory: ByteBudget;
  /** Delivery statistics per subscription, or null when they are off. */
  readonly stats: DeliveryStats | null;
}

/** Slots shared by every caller, handed out in arrival order (`fanout/semaphore.ts`). */
export interface Slots {
  /**
   * Waits for a slot and resolves with its release function (call it once),
   * or null when `signal` aborts first.
   */
  acquire(signal?: AbortSignal): Promise<(() => void) | null>;
  /** A slot at once when one is free (its release function), else null; optional. */
  tryAcquire?(): (() => void) | null;
}
