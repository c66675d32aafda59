/**
 * The broadcaster's counters: plain numbers and small maps bumped on the hot
 * path (no labels built per event beyond one string key), read and formatted
 * only when `/metrics` is scraped (`../http/routes/ops.ts`). Every metric is
 * documented in docs/operating.md#metrics.
 *
 * @module
 */

/** Upper bounds of the delivery latency histogram, seconds. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
];

/** What one outgoing delivery was. */
export type DeliveryKind = "receive" | "missed";

/** How one outgoing delivery ended. */
export type DeliveryOutcome = "confirmed" | "unsubscribed" | "failed" | "abandoned";

/** A cumulative histogram over {@link LATENCY_BUCKETS}. */
export class Histogram {
  /** Observations at most each bucket's bound (not yet cumulative). */
  readonly counts: number[] = LATENCY_BUCKETS.map(() => 0);
  /** Every observation. */
  count = 0;
  /** Their sum, seconds. */
  sum = 0;

  /** Adds one observation, seconds. */
  observe(seconds: number): void {
    this.count++;
    this.sum += seconds;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= LATENCY_BUCKETS[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
}

/** The counters of one broadcaster. */
export class Metrics {
  /** Answered requests by `route status` (route: a known path, or "other"). */
  readonly requests: Map<string, number> = new Map();
  /** Notifies accepted and fanned out (HTTP and websocket). */
  notifies = 0;
  /** Message bytes of those notifies. */
  bytesIn = 0;
  /** Message bytes sent in RECEIVE requests to webhooks and other broadcasters. */
  bytesOut = 0;
  /** Outgoing deliveries by `kind outcome`. */
  readonly deliveries: Map<string, number> = new Map();
  /** Outgoing delivery latency by kind. */
  readonly latency: Record<DeliveryKind, Histogram> = {
    receive: new Histogram(),
    missed: new Histogram(),
  };
  /** Outgoing RECEIVE and MISSED requests now in flight. */
  deliveriesInFlight = 0;
  /** Messages queued for this process's websocket connections. */
  websocketDeliveries = 0;
  /** Store operations that answered `unavailable`, by operation. */
  readonly storeErrors: Map<string, number> = new Map();
  /** Notifies refused before their body was read, by reason. */
  readonly notifyRefusals: Map<string, number> = new Map();
  /** Deliveries the SSRF guard refused (also counted as failed deliveries). */
  ssrfRefusals = 0;
  /** Subscriptions removed because their lease ran out. */
  subscriptionsExpired = 0;
  /** Subscriptions removed because their url kept failing. */
  subscriptionsPruned = 0;
  /** Lease and pruning passes completed. */
  housekeepingPasses = 0;
  /** When the broadcaster started, epoch seconds. */
  readonly startedAt: number = Date.now() / 1000;
  /** Incoming connections open, as reported by the runtime adapter (null: it cannot tell). */
  incomingConnections: number | null = null;

  /** Counts one answered request. */
  request(route: string, status: number): void {
    bump(this.requests, pairKey(route, status));
  }

  /** Counts one outgoing delivery and its latency. */
  delivery(kind: DeliveryKind, outcome: DeliveryOutcome, seconds: number): void {
    bump(this.deliveries, pairKey(kind, outcome));
    this.latency[kind].observe(seconds);
  }

  /** Counts one store operation that answered `unavailable`. */
  storeError(op: string): void {
    bump(this.storeErrors, op);
  }

  /** Counts one notify refused up front (`too_large`, `spool_quota`, `spool_full`, …). */
  notifyRefused(reason: string): void {
    bump(this.notifyRefusals, reason);
  }

  /** For runtime adapters: a connection was accepted. */
  connectionOpened(): void {
    this.incomingConnections = (this.incomingConnections ?? 0) + 1;
  }

  /** For runtime adapters: a connection ended. */
  connectionClosed(): void {
    this.incomingConnections = Math.max(0, (this.incomingConnections ?? 1) - 1);
  }
}

/**
 * `"<a> <b>"`, made once per pair: a key built per request is a new string for the map to hash
 * (and the GC to collect) every time. The pairs are few (routes × statuses, kinds × outcomes).
 */
const pairKeys = new Map<string, Map<string | number, string>>();

function pairKey(a: string, b: string | number): string {
  let inner = pairKeys.get(a);
  if (inner === undefined) pairKeys.set(a, inner = new Map());
  let key = inner.get(b);
  if (key === undefined) inner.set(b, key = `${a} ${b}`);
  return key;
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
