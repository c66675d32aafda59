/**
 * Contract cases: set_subscriptions.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { SubscriptionSet } from "../types.ts";
import { bytes, type ContractCase, ok, URL_A, withStore } from "./helpers.ts";

/** The cases. */
export const SET_SUBSCRIPTIONS_CASES: readonly ContractCase[] = [
  {
    name: "setSubscriptions keeps the missed state of kept rows and updates recovery",
    fn: (db) =>
      withStore(db, async (store) => {
        await store.subscribeExact(URL_A, bytes("keep"), "http://old");
        await store.subscribeExact(URL_A, bytes("drop"), null);
        await store.upsertMissed(
          { kind: "exact", url: URL_A, topic: bytes("keep") },
          "http://old",
          bytes("keep"),
          {
            attempts: 2,
            nextRetryAt: 1_000,
          },
        );
        const desired: SubscriptionSet = {
          exacts: [{ topic: bytes("keep"), recovery: "http://new" }, {
            topic: bytes("new"),
            recovery: null,
          }],
          globs: [],
        };
        assert.equal(await store.setSubscriptions(URL_A, desired), "success");
        assert.deepEqual(ok(await store.listSubscriptions(URL_A)), desired);
        const leased = ok(await store.leaseOverdueMissed(2_000, 10, 30_000));
        assert.equal(leased.length, 1);
        assert.equal(leased[0]!.recovery, "http://new");
        assert.equal(leased[0]!.attempts, 2);
      }),
  },
  {
    name: "setSubscriptions removing a recovery url drops that row's pending MISSED",
    fn: (db) =>
      withStore(db, async (store) => {
        await store.subscribeGlob(URL_A, "a*", "http://old");
        await store.upsertMissed(
          { kind: "glob", url: URL_A, glob: "a*" },
          "http://old",
          bytes("ab"),
          {
            attempts: 0,
            nextRetryAt: 1_000,
          },
        );
        const desired: SubscriptionSet = { exacts: [], globs: [{ glob: "a*", recovery: null }] };
        assert.equal(await store.setSubscriptions(URL_A, desired), "success");
        assert.deepEqual(ok(await store.leaseOverdueMissed(2_000, 10, 30_000)), []);
        assert.deepEqual(ok(await store.getSubscribers(bytes("ab"))), [
          { kind: "glob", url: URL_A, glob: "a*", recovery: null },
        ]);
      }),
  },
  {
    name: "setSubscriptions to the empty set removes everything of that url",
    fn: (db) =>
      withStore(db, async (store) => {
        await store.subscribeExact(URL_A, bytes("x"), null);
        await store.subscribeGlob(URL_A, "x*", null);
        assert.equal(await store.setSubscriptions(URL_A, { exacts: [], globs: [] }), "success");
        assert.deepEqual(ok(await store.listSubscriptions(URL_A)), { exacts: [], globs: [] });
        assert.deepEqual(ok(await store.getSubscribers(bytes("x"))), []);
      }),
  },
];
