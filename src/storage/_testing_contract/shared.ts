/**
 * Contract cases that need a database outliving a store and shared by several.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { SubscriptionSet } from "../types.ts";
import {
  bytes,
  type ContractCase,
  exactKey,
  exactRange,
  globRange,
  ok,
  REC,
  topicKey,
  URL_A,
  URL_B,
  withStore,
} from "./helpers.ts";

/** The cases. */
export const SHARED_CASES: readonly ContractCase[] = [
  {
    name: "a reopened store still holds every subscription",
    persistent: true,
    async fn(db) {
      const first = await db.open();
      await first.subscribeExact(URL_A, bytes("x"), "http://r/x");
      await first.subscribeGlob(URL_A, "x*", null);
      await first.close();
      await first.close(); // idempotent
      assert.equal(await first.subscribeExact(URL_A, bytes("y"), null), "unavailable");
      await withStore(db, async (second) => {
        assert.deepEqual(ok(await second.listSubscriptions(URL_A)), {
          exacts: [{ topic: bytes("x"), recovery: "http://r/x" }],
          globs: [{ glob: "x*", recovery: null }],
        });
        assert.equal(ok(await second.getSubscribers(bytes("x"))).length, 2);
      });
    },
  },
  {
    name: "glob changes committed by another store on the same database become visible",
    persistent: true,
    fn: (db) =>
      withStore(db, (one) =>
        withStore(db, async (two) => {
          assert.deepEqual(ok(await one.getSubscribers(bytes("news/1"))), []);
          assert.equal(await two.subscribeGlob(URL_B, "news/*", null), "success");
          assert.deepEqual(ok(await one.getSubscribers(bytes("news/1"))), [
            { kind: "glob", url: URL_B, glob: "news/*", recovery: null },
          ]);
          // Our own write interleaved with theirs: both visible, nothing doubled.
          assert.equal(await one.subscribeGlob(URL_A, "news/?", null), "success");
          assert.equal(
            await two.setSubscriptions(URL_B, {
              exacts: [],
              globs: [{ glob: "news/*", recovery: "http://r" }],
            }),
            "success",
          );
          const subs = ok(await one.getSubscribers(bytes("news/1")));
          assert.deepEqual(
            subs.map((s) => s.kind === "glob" ? `${s.url} ${s.glob} ${s.recovery}` : "").sort(),
            [`${URL_A} news/? null`, `${URL_B} news/* http://r`],
          );
          assert.equal(await two.unsubscribeGlob(URL_A, "news/?"), "success");
          assert.equal(ok(await one.getSubscribers(bytes("news/1"))).length, 1);
          assert.equal(ok(await two.getSubscribers(bytes("news/1"))).length, 1);
        })),
  },
  {
    name: "a second store on the same database never gets a record the first has leased",
    persistent: true,
    fn: (db) =>
      withStore(db, (one) =>
        withStore(db, async (two) => {
          for (let i = 0; i < 20; i++) {
            await one.subscribeExact(URL_A, bytes(`t${i}`), REC);
            await one.upsertMissed(exactKey(`t${i}`), REC, bytes(`t${i}`), {
              attempts: 0,
              nextRetryAt: i,
            });
          }
          const a = ok(await one.leaseOverdueMissed(100, 8, 10_000));
          const b = ok(await two.leaseOverdueMissed(100, 100, 10_000));
          assert.equal(a.length, 8);
          assert.equal(b.length, 12);
          const seen = new Set([...a, ...b].map((l) => new TextDecoder().decode(l.topic)));
          assert.equal(seen.size, 20);
          assert.deepEqual(ok(await one.leaseOverdueMissed(100, 100, 10_000)), []);
          assert.equal(await two.releaseMissed(a[0]!, null), "ok"); // the lease id, not the store, owns it
          assert.equal(await one.releaseMissed(a[0]!, null), "conflict");
        })),
  },
  {
    name: "setSubscriptions with 10,000 topics then an overlapping set keeps shared rows",
    persistent: true,
    fn: (db) =>
      withStore(db, async (store) => {
        await store.subscribeExact(URL_B, topicKey(5), "http://other"); // another url: untouched
        const first: SubscriptionSet = {
          exacts: exactRange(0, 10_000, () => null),
          globs: globRange(0, 500, null),
        };
        assert.equal(await store.setSubscriptions(URL_A, first), "success");
        assert.deepEqual(ok(await store.listSubscriptions(URL_A)), first);
        const exactIds = await db.rowIds("exact", URL_A);
        const globIds = await db.rowIds("glob", URL_A);

        const second: SubscriptionSet = {
          exacts: exactRange(5_000, 15_000, (i) => i % 2 === 0 ? `http://rec/${i}` : null),
          globs: globRange(250, 750, "http://rec/g"),
        };
        assert.equal(await store.setSubscriptions(URL_A, second), "success");
        assert.deepEqual(ok(await store.listSubscriptions(URL_A)), second);
        assert.equal(ok(await store.listSubscriptions(URL_B)).exacts.length, 1);

        const exactIds2 = await db.rowIds("exact", URL_A);
        const globIds2 = await db.rowIds("glob", URL_A);
        let kept = 0;
        for (const [k, id] of exactIds2) {
          if (exactIds.has(k)) {
            assert.equal(id, exactIds.get(k), `exact row ${k} was re-inserted`);
            kept++;
          }
        }
        assert.equal(kept, 5_000);
        kept = 0;
        for (const [k, id] of globIds2) {
          if (globIds.has(k)) {
            assert.equal(id, globIds.get(k), `glob row ${k} was re-inserted`);
            kept++;
          }
        }
        assert.equal(kept, 250);
        // The in-memory glob index followed: removed, kept (new recovery) and added patterns.
        assert.deepEqual(ok(await store.getSubscribers(bytes("g/00100/x"))), []);
        assert.deepEqual(ok(await store.getSubscribers(bytes("g/00300/x"))), [
          { kind: "glob", url: URL_A, glob: "g/00300/*", recovery: "http://rec/g" },
        ]);
        assert.equal(ok(await store.getSubscribers(bytes("g/00700/x"))).length, 1);
      }),
  },
];
