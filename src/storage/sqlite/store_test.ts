import assert from "node:assert/strict";
import { bytes, ok, withEachStore, withTempDb } from "./_testing.ts";
import { openSqliteStore } from "./store.ts";

const URL_A = "http://127.0.0.1:3002/v1/receive";
const URL_B = "http://127.0.0.1:3004/v1/receive";

Deno.test("subscribe twice: success, then conflict with the first recovery url kept", async () => {
  await withEachStore(async (store) => {
    assert.equal(await store.subscribeExact(URL_A, bytes("t"), "http://r/1"), "success");
    assert.equal(await store.subscribeExact(URL_A, bytes("t"), "http://r/2"), "conflict");
    assert.equal(await store.subscribeGlob(URL_A, "t*", null), "success");
    assert.equal(await store.subscribeGlob(URL_A, "t*", "http://r/3"), "conflict");
    const list = ok(await store.listSubscriptions(URL_A));
    assert.deepEqual(list, {
      exacts: [{ topic: bytes("t"), recovery: "http://r/1" }],
      globs: [{ glob: "t*", recovery: null }],
    });
  });
});

Deno.test("unsubscribe of a missing pair is not_found; of a present one success", async () => {
  await withEachStore(async (store) => {
    assert.equal(await store.unsubscribeExact(URL_A, bytes("t")), "not_found");
    assert.equal(await store.unsubscribeGlob(URL_A, "t"), "not_found");
    await store.subscribeExact(URL_A, bytes("t"), null);
    assert.equal(await store.unsubscribeExact(URL_B, bytes("t")), "not_found");
    assert.equal(await store.unsubscribeExact(URL_A, bytes("t")), "success");
    assert.equal(await store.unsubscribeExact(URL_A, bytes("t")), "not_found");
  });
});

Deno.test("an exact and a glob subscription with the same text are independent", async () => {
  await withEachStore(async (store) => {
    assert.equal(await store.subscribeExact(URL_A, bytes("a*"), null), "success");
    assert.equal(await store.subscribeGlob(URL_A, "a*", null), "success");
    assert.equal(await store.unsubscribeGlob(URL_A, "a*"), "success");
    const list = ok(await store.listSubscriptions(URL_A));
    assert.deepEqual(list, { exacts: [{ topic: bytes("a*"), recovery: null }], globs: [] });
    const subs = ok(await store.getSubscribers(bytes("a*")));
    assert.deepEqual(subs, [{ kind: "exact", url: URL_A, recovery: null }]);
  });
});

Deno.test("non-UTF-8 topics are stored and matched as bytes", async () => {
  await withEachStore(async (store) => {
    const bad = new Uint8Array([0xff, 0x00, 0xc3]);
    assert.equal(await store.subscribeExact(URL_A, bad, null), "success");
    assert.equal(await store.subscribeExact(URL_A, bad, null), "conflict");
    const list = ok(await store.listSubscriptions(URL_A));
    assert.deepEqual(list.exacts, [{ topic: bad, recovery: null }]);
    assert.deepEqual(ok(await store.getSubscribers(new Uint8Array([0xff, 0x00]))), []);
  });
});

Deno.test("getSubscribers returns exact then glob rows, duplicates kept", async () => {
  await withEachStore(async (store) => {
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
      subs.slice(2).map((s) => s.kind === "glob" ? `${s.url} ${s.glob} ${s.recovery}` : "").sort(),
      [`${URL_A} news/* null`, `${URL_A} news/? http://r/g`],
    );
  });
});

Deno.test("a non-UTF-8 topic matches exact rows only, never a glob", async () => {
  await withEachStore(async (store) => {
    const topic = new Uint8Array([0x6e, 0xff]); // "n" then an invalid byte
    await store.subscribeExact(URL_A, topic, null);
    await store.subscribeGlob(URL_A, "*", null);
    await store.subscribeGlob(URL_A, "n*", null);
    assert.deepEqual(ok(await store.getSubscribers(topic)), [
      { kind: "exact", url: URL_A, recovery: null },
    ]);
    assert.equal(ok(await store.getSubscribers(bytes("n1"))).length, 2);
  });
});

Deno.test("listSubscriptions orders topics and globs bytewise", async () => {
  await withEachStore(async (store) => {
    for (const t of ["b", "a\0", "a"]) await store.subscribeExact(URL_A, bytes(t), null);
    for (const g of ["\u{1F600}", "\uE000", "Z"]) await store.subscribeGlob(URL_A, g, null);
    await store.subscribeExact(URL_B, bytes("0"), null);
    const list = ok(await store.listSubscriptions(URL_A));
    assert.deepEqual(list.exacts.map((e) => e.topic), [bytes("a"), bytes("a\0"), bytes("b")]);
    // UTF-16 order would put U+1F600 (a surrogate pair, 0xD83D…) before U+E000.
    assert.deepEqual(list.globs.map((g) => g.glob), ["Z", "\uE000", "\u{1F600}"]);
  });
});

Deno.test("a reopened file still holds every subscription", async () => {
  await withTempDb(async (path) => {
    const first = await openSqliteStore({ path });
    await first.subscribeExact(URL_A, bytes("x"), "http://r/x");
    await first.subscribeGlob(URL_A, "x*", null);
    await first.close();
    await first.close(); // idempotent
    assert.equal(await first.subscribeExact(URL_A, bytes("y"), null), "unavailable");
    const second = await openSqliteStore({ path });
    try {
      assert.deepEqual(ok(await second.listSubscriptions(URL_A)), {
        exacts: [{ topic: bytes("x"), recovery: "http://r/x" }],
        globs: [{ glob: "x*", recovery: null }],
      });
      assert.equal(ok(await second.getSubscribers(bytes("x"))).length, 2);
    } finally {
      await second.close();
    }
  });
});

Deno.test("an empty path opens a private in-memory store", async () => {
  const store = await openSqliteStore({ path: "" });
  try {
    assert.equal(await store.subscribeGlob(URL_A, "*", null), "success");
    assert.equal(ok(await store.getSubscribers(bytes("q"))).length, 1);
  } finally {
    await store.close();
  }
});
