/**
 * The Store contract as one behaviour suite, run unchanged against every
 * backend (SQLite in memory and on a file, rqlite): each backend's test file
 * hands {@link STORE_CONTRACT} a way to get a fresh database.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ExactEntry, GlobEntry, Store, SubscriptionKey, SubscriptionSet } from "./types.ts";

/** A fresh, empty database of one backend. */
export interface ContractDatabase {
  /** Opens a store on this database (several at once when `persistent`). */
  open(): Promise<Store>;
  /**
   * Row ids of `url`'s exact rows (keyed by the topic in upper-case hex) or
   * glob rows (keyed by the glob in upper-case hex).
   */
  rowIds(kind: "exact" | "glob", url: string): Promise<Map<string, number>>;
}

/** One behaviour of the contract. */
export interface ContractCase {
  /** The test name: the behaviour. */
  readonly name: string;
  /** Needs a database that outlives a store and is shared by several stores at once. */
  readonly persistent?: boolean;
  /** Runs the case on a fresh database. */
  readonly fn: (db: ContractDatabase) => Promise<void>;
}

/** Opens a store on `db`, runs `fn`, closes the store. */
export async function withStore(
  db: ContractDatabase,
  fn: (store: Store) => Promise<void>,
): Promise<void> {
  const store = await db.open();
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

const UTF8 = new TextEncoder();

/** UTF-8 bytes of `text`. */
export function bytes(text: string): Uint8Array {
  return UTF8.encode(text);
}

/** Asserts that a result is not `"unavailable"` and narrows it. */
export function ok<T>(v: T | "unavailable"): T {
  if (v === "unavailable") throw new Error("Unexpected result: unavailable");
  return v;
}

const URL_A = "http://127.0.0.1:3002/v1/receive";
const URL_B = "http://127.0.0.1:3004/v1/receive";
const REC = "http://127.0.0.1:3002/v1/missed";
const exactKey = (t: string): SubscriptionKey => ({ kind: "exact", url: URL_A, topic: bytes(t) });
const globKey = (g: string): SubscriptionKey => ({ kind: "glob", url: URL_A, glob: g });

function topicKey(i: number): Uint8Array {
  // 4-byte big-endian keys sort bytewise in numeric order and include non-UTF-8 bytes.
  return new Uint8Array([i >>> 24, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff]);
}

function exactRange(
  from: number,
  to: number,
  recovery: (i: number) => string | null,
): ExactEntry[] {
  const out: ExactEntry[] = [];
  for (let i = from; i < to; i++) out.push({ topic: topicKey(i), recovery: recovery(i) });
  return out;
}

function globRange(from: number, to: number, recovery: string | null): GlobEntry[] {
  const out: GlobEntry[] = [];
  for (let i = from; i < to; i++) out.push({ glob: `g/${String(i).padStart(5, "0")}/*`, recovery });
  return out;
}

/** Every case of the contract. */
export const STORE_CONTRACT: readonly ContractCase[] = [
  {
    name: "subscribe twice: success, then conflict with the first recovery url kept",
    fn: (db) =>
      withStore(db, async (store) => {
        assert.equal(await store.subscribeExact(URL_A, bytes("t"), "http://r/1"), "success");
        assert.equal(await store.subscribeExact(URL_A, bytes("t"), "http://r/2"), "conflict");
        assert.equal(await store.subscribeGlob(URL_A, "t*", null), "success");
        assert.equal(await store.subscribeGlob(URL_A, "t*", "http://r/3"), "conflict");
        const list = ok(await store.listSubscriptions(URL_A));
        assert.deepEqual(list, {
          exacts: [{ topic: bytes("t"), recovery: "http://r/1" }],
          globs: [{ glob: "t*", recovery: null }],
        });
      }),
  },
  {
    name: "unsubscribe of a missing pair is not_found; of a present one success",
    fn: (db) =>
      withStore(db, async (store) => {
        assert.equal(await store.unsubscribeExact(URL_A, bytes("t")), "not_found");
        assert.equal(await store.unsubscribeGlob(URL_A, "t"), "not_found");
        await store.subscribeExact(URL_A, bytes("t"), null);
        assert.equal(await store.unsubscribeExact(URL_B, bytes("t")), "not_found");
        assert.equal(await store.unsubscribeExact(URL_A, bytes("t")), "success");
        assert.equal(await store.unsubscribeExact(URL_A, bytes("t")), "not_found");
      }),
  },
  {
    name: "an exact and a glob subscription with the same text are independent",
    fn: (db) =>
      withStore(db, async (store) => {
        assert.equal(await store.subscribeExact(URL_A, bytes("a*"), null), "success");
        assert.equal(await store.subscribeGlob(URL_A, "a*", null), "success");
        assert.equal(await store.unsubscribeGlob(URL_A, "a*"), "success");
        const list = ok(await store.listSubscriptions(URL_A));
        assert.deepEqual(list, { exacts: [{ topic: bytes("a*"), recovery: null }], globs: [] });
        const subs = ok(await store.getSubscribers(bytes("a*")));
        assert.deepEqual(subs, [{ kind: "exact", url: URL_A, recovery: null }]);
      }),
  },
  {
    name: "non-UTF-8 topics are stored and matched as bytes",
    fn: (db) =>
      withStore(db, async (store) => {
        const bad = new Uint8Array([0xff, 0x00, 0xc3]);
        assert.equal(await store.subscribeExact(URL_A, bad, null), "success");
        assert.equal(await store.subscribeExact(URL_A, bad, null), "conflict");
        const list = ok(await store.listSubscriptions(URL_A));
        assert.deepEqual(list.exacts, [{ topic: bad, recovery: null }]);
        assert.deepEqual(ok(await store.getSubscribers(new Uint8Array([0xff, 0x00]))), []);
      }),
  },
  {
    name: "getSubscribers returns exact then glob rows, duplicates kept",
    fn: (db) =>
      withStore(db, async (store) => {
        await store.subscribeExact(URL_A, bytes("news/1"), "http://r/a");
        await store.subscribeExact(URL_B, bytes("news/1"), null);
        await store.subscribeExact(URL_A, bytes("news/2"), null);
        await store.subscribeGlob(URL_A, "news/*", null);
        await store.subscribeGlob(URL_A, "news/?", "http://r/g");
        await store.subscribeGlob(URL_B, "sports/*", null);
        const subs = ok(await store.getSubscribers(bytes("news/1")));
        assert.equal(subs.length, 4);
        assert.deepEqual(
          subs.slice(0, 2).sort((a, b) => a.url.localeCompare(b.url)),
          [
            { kind: "exact", url: URL_A, recovery: "http://r/a" },
            { kind: "exact", url: URL_B, recovery: null },
          ],
        );
        assert.deepEqual(
          subs.slice(2).map((s) => s.kind === "glob" ? `${s.url} ${s.glob} ${s.recovery}` : "")
            .sort(),
          [`${URL_A} news/* null`, `${URL_A} news/? http://r/g`],
        );
      }),
  },
  {
    name: "a non-UTF-8 topic matches exact rows only, never a glob",
    fn: (db) =>
      withStore(db, async (store) => {
        const topic = new Uint8Array([0x6e, 0xff]); // "n" then an invalid byte
        await store.subscribeExact(URL_A, topic, null);
        await store.subscribeGlob(URL_A, "*", null);
        await store.subscribeGlob(URL_A, "n*", null);
        assert.deepEqual(ok(await store.getSubscribers(topic)), [
          { kind: "exact", url: URL_A, recovery: null },
        ]);
        assert.equal(ok(await store.getSubscribers(bytes("n1"))).length, 2);
      }),
  },
  {
    name: "listSubscriptions orders topics and globs bytewise",
    fn: (db) =>
      withStore(db, async (store) => {
        for (const t of ["b", "a\0", "a"]) await store.subscribeExact(URL_A, bytes(t), null);
        for (const g of ["\u{1F600}", "\uE000", "Z"]) await store.subscribeGlob(URL_A, g, null);
        await store.subscribeExact(URL_B, bytes("0"), null);
        const list = ok(await store.listSubscriptions(URL_A));
        assert.deepEqual(list.exacts.map((e) => e.topic), [bytes("a"), bytes("a\0"), bytes("b")]);
        // UTF-16 order would put U+1F600 (a surrogate pair, 0xD83D…) before U+E000.
        assert.deepEqual(list.globs.map((g) => g.glob), ["Z", "\uE000", "\u{1F600}"]);
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
