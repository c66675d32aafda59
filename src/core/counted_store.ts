/**
 * A {@link Store} that counts every `"unavailable"` answer of the store it
 * wraps, by operation, for `/metrics`. The store itself logs the cause.
 *
 * @module
 */

import type { Store } from "../storage/types.ts";
import type { Metrics } from "./metrics.ts";

/** Wraps `store`; `close` and every answer pass through unchanged. */
export function countedStore(store: Store, metrics: Metrics): Store {
  const count = <T>(op: string, answer: Promise<T>): Promise<T> =>
    answer.then((value) => {
      if (value === "unavailable") metrics.storeError(op);
      return value;
    });
  return {
    subscribeExact: (url, topic, recovery) =>
      count("subscribeExact", store.subscribeExact(url, topic, recovery)),
    unsubscribeExact: (url, topic) => count("unsubscribeExact", store.unsubscribeExact(url, topic)),
    subscribeGlob: (url, glob, recovery) =>
      count("subscribeGlob", store.subscribeGlob(url, glob, recovery)),
    unsubscribeGlob: (url, glob) => count("unsubscribeGlob", store.unsubscribeGlob(url, glob)),
    listSubscriptions: (url) => count("listSubscriptions", store.listSubscriptions(url)),
    setSubscriptions: (url, desired) =>
      count("setSubscriptions", store.setSubscriptions(url, desired)),
    getSubscribers: (topic) => count("getSubscribers", store.getSubscribers(topic)),
    upsertMissed: (subscription, recovery, topic, retry) =>
      count("upsertMissed", store.upsertMissed(subscription, recovery, topic, retry)),
    leaseOverdueMissed: (now, limit, leaseMs) =>
      count("leaseOverdueMissed", store.leaseOverdueMissed(now, limit, leaseMs)),
    releaseMissed: (leased, retry) => count("releaseMissed", store.releaseMissed(leased, retry)),
    ping: () => count("ping", store.ping()),
    countPendingMissed: () => count("countPendingMissed", store.countPendingMissed()),
    recordDeliveries: (tallies) => count("recordDeliveries", store.recordDeliveries(tallies)),
    listSubscriptionStats: (query) =>
      count("listSubscriptionStats", store.listSubscriptionStats(query)),
    subscriptionReport: (top) => count("subscriptionReport", store.subscriptionReport(top)),
    pruneSubscriptions: (rule, options) =>
      count("pruneSubscriptions", store.pruneSubscriptions(rule, options)),
    listPrunes: (limit) => count("listPrunes", store.listPrunes(limit)),
    close: () => store.close(),
  };
}
