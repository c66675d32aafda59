/**
 * Contract cases: missed records and their leases.
 *
 * @module
 */

import assert from "node:assert/strict";

import {
  bytes,
  type ContractCase,
  exactKey,
  globKey,
  ok,
  REC,
  URL_A,
  withStore,
} from "./helpers.ts";

/** The cases. */
export const MISSED_CASES: readonly ContractCase[] = [
  {
    name: "countPendingMissed counts pending records of both kinds; ping answers ok",
    fn: (db) =>
      withStore(db, async (store) => {
        assert.equal(await store.ping(), "ok");
        assert.equal(await store.countPendingMissed(), 0);
        await store.subscribeExact(URL_A, bytes("t"), REC);
        await store.subscribeGlob(URL_A, "g*", REC);
        const retry = { attempts: 0, nextRetryAt: 1_000 };
        await store.upsertMissed(exactKey("t"), REC, bytes("t"), retry);
        assert.equal(await store.countPendingMissed(), 1);
        await store.upsertMissed(globKey("g*"), REC, bytes("g1"), retry);
        assert.equal(await store.countPendingMissed(), 2);
      }),
  },
  {
    name: "missed lifecycle: lease, retry, lease again, clear keeps the subscription",
    fn: (db) =>
      withStore(db, async (store) => {
        await store.subscribeExact(URL_A, bytes("t"), REC);
        assert.equal(
          await store.upsertMissed(exactKey("t"), REC, bytes("t"), {
            attempts: 0,
            nextRetryAt: 1_000,
          }),
          "success",
        );
        assert.deepEqual(ok(await store.leaseOverdueMissed(999, 10, 5_000)), []); // not yet due
        const [first, ...rest] = ok(await store.leaseOverdueMissed(1_000, 10, 5_000));
        assert.equal(rest.length, 0);
        assert.deepEqual({ ...first!, leaseId: "" }, {
          subscription: exactKey("t"),
          recovery: REC,
          topic: bytes("t"),
          attempts: 0,
          nextRetryAt: 1_000,
          leaseId: "",
        });
        assert.deepEqual(ok(await store.leaseOverdueMissed(1_500, 10, 5_000)), []); // leased
        assert.equal(await store.releaseMissed(first!, { attempts: 1, nextRetryAt: 3_000 }), "ok");
        assert.equal(await store.releaseMissed(first!, null), "conflict"); // lease already ended
        assert.deepEqual(ok(await store.leaseOverdueMissed(2_999, 10, 5_000)), []);
        const [second] = ok(await store.leaseOverdueMissed(3_000, 10, 5_000));
        assert.equal(second!.attempts, 1);
        assert.notEqual(second!.leaseId, first!.leaseId);
        assert.equal(await store.releaseMissed(second!, null), "ok");
        assert.deepEqual(ok(await store.leaseOverdueMissed(1e12, 10, 5_000)), []);
        assert.equal(ok(await store.listSubscriptions(URL_A)).exacts.length, 1);
      }),
  },
  {
    name: "an expired lease can be taken over; the old holder's release conflicts",
    fn: (db) =>
      withStore(db, async (store) => {
        await store.subscribeGlob(URL_A, "a*", REC);
        await store.upsertMissed(globKey("a*"), REC, bytes("ab"), {
          attempts: 3,
          nextRetryAt: 100,
        });
        const [old] = ok(await store.leaseOverdueMissed(100, 1, 1_000));
        assert.deepEqual(old!.topic, bytes("ab"));
        assert.equal(old!.attempts, 3);
        assert.deepEqual(ok(await store.leaseOverdueMissed(1_100, 1, 1_000)), []); // expiry is inclusive
        const [taken] = ok(await store.leaseOverdueMissed(1_101, 1, 1_000));
        assert.ok(taken !== undefined);
        assert.equal(await store.releaseMissed(old!, null), "conflict");
        assert.equal(await store.releaseMissed(taken, null), "ok");
      }),
  },
  {
    name: "a newer upsertMissed supersedes a lease in progress",
    fn: (db) =>
      withStore(db, async (store) => {
        await store.subscribeGlob(URL_A, "a*", REC);
        await store.upsertMissed(globKey("a*"), REC, bytes("a1"), { attempts: 0, nextRetryAt: 10 });
        const [leased] = ok(await store.leaseOverdueMissed(10, 5, 60_000));
        await store.upsertMissed(globKey("a*"), "http://new", bytes("a2"), {
          attempts: 0,
          nextRetryAt: 20,
        });
        assert.equal(
          await store.releaseMissed(leased!, { attempts: 1, nextRetryAt: 99 }),
          "conflict",
        );
        const [next] = ok(await store.leaseOverdueMissed(20, 5, 60_000));
        assert.deepEqual(next!.topic, bytes("a2"));
        assert.equal(next!.recovery, "http://new");
        assert.equal(next!.nextRetryAt, 20);
        // The recovery url given to upsertMissed is the subscription's from now on.
        assert.deepEqual(ok(await store.getSubscribers(bytes("a3"))), [
          { kind: "glob", url: URL_A, glob: "a*", recovery: "http://new" },
        ]);
      }),
  },
  {
    name: "upsertMissed for a missing subscription is a successful no-op",
    fn: (db) =>
      withStore(db, async (store) => {
        assert.equal(
          await store.upsertMissed(exactKey("none"), REC, bytes("none"), {
            attempts: 0,
            nextRetryAt: 1,
          }),
          "success",
        );
        assert.equal(
          await store.upsertMissed(globKey("none*"), REC, bytes("none"), {
            attempts: 0,
            nextRetryAt: 1,
          }),
          "success",
        );
        assert.deepEqual(ok(await store.leaseOverdueMissed(1e12, 10, 1_000)), []);
        assert.deepEqual(ok(await store.listSubscriptions(URL_A)), { exacts: [], globs: [] });
      }),
  },
  {
    name: "leasing takes the oldest due records across both tables, up to the limit",
    fn: (db) =>
      withStore(db, async (store) => {
        const due = [["e", "x1", 50], ["g", "g1*", 10], ["e", "x2", 30], ["g", "g2*", 40], [
          "e",
          "x3",
          20,
        ]] as const;
        for (const [kind, key, at] of due) {
          if (kind === "e") {
            await store.subscribeExact(URL_A, bytes(key), REC);
            await store.upsertMissed(exactKey(key), REC, bytes(key), {
              attempts: 0,
              nextRetryAt: at,
            });
          } else {
            await store.subscribeGlob(URL_A, key, REC);
            await store.upsertMissed(globKey(key), REC, bytes(key), {
              attempts: 0,
              nextRetryAt: at,
            });
          }
        }
        const batch = ok(await store.leaseOverdueMissed(100, 3, 1_000));
        assert.deepEqual(batch.map((l) => l.nextRetryAt), [10, 20, 30]);
        assert.deepEqual(batch.map((l) => l.subscription.kind), ["glob", "exact", "exact"]);
        const rest = ok(await store.leaseOverdueMissed(100, 3, 1_000));
        assert.deepEqual(rest.map((l) => l.nextRetryAt), [40, 50]);
        assert.deepEqual(ok(await store.leaseOverdueMissed(100, 0, 1_000)), []);
      }),
  },
];
