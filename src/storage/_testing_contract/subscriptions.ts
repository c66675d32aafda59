/**
 * Contract cases: subscribe, unsubscribe, fan-out look-ups, listing.
 *
 * @module
 */

import assert from "node:assert/strict";

import { bytes, type ContractCase, ok, URL_A, URL_B, withStore } from "./helpers.ts";

/** The cases. */
export const SUBSCRIPTION_CASES: readonly ContractCase[] = [
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
];
