import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { compareBytes, encodeUtf8, fromHex, toHex } from "./bytes.ts";
import { compareGlobs, strongEtag, strongEtagDocument } from "./etag.ts";
import { ITERATIONS, Rand, randomSet, VECTORS } from "./_testing.ts";

for (const v of VECTORS.strong_etags) {
  Deno.test(`etag vector: ${v.name} document and etag equal the reference's`, () => {
    assert.equal(v.etag_format, 0);
    const set = {
      exacts: v.exacts.map((e) => ({ topic: fromHex(e.topic_hex), recovery: e.recovery })),
      globs: v.globs,
    };
    assert.equal(toHex(strongEtagDocument(v.url, set)), v.document_hex);
    assert.equal(toHex(strongEtag(v.url, set)), v.etag_hex);
  });
}

Deno.test("etag: astral glob sorts after U+E000 (UTF-8 order, not UTF-16)", () => {
  const v = VECTORS.strong_etags.find((e) => e.name === "glob_order_astral_vs_bmp")!;
  const [first, second] = v.globs.map((g) => g.glob);
  assert.ok(compareGlobs(first!, second!) < 0);
  assert.ok(compareGlobs(second!, first!) > 0);
  assert.ok(first! > second!, "JavaScript's default order is the opposite");
  assert.equal(compareGlobs("a", "a"), 0);
  assert.ok(compareGlobs("a", "ab") < 0);
});

Deno.test("etag property: compareGlobs has the sign of comparing UTF-8 bytes", () => {
  const rand = new Rand(41);
  for (let i = 0; i < ITERATIONS; i++) {
    const a = rand.text(6);
    const b = rand.chance(0.2) ? a + rand.text(2) : rand.text(6);
    const expected = Math.sign(compareBytes(encodeUtf8(a), encodeUtf8(b)));
    assert.equal(Math.sign(compareGlobs(a, b)), expected, `${a} vs ${b}`);
  }
});

Deno.test("etag property: incremental hash equals SHA-512 of the document", () => {
  const rand = new Rand(42);
  for (let i = 0; i < ITERATIONS; i++) {
    const url = rand.text();
    const set = randomSet(rand, compareBytes, compareGlobs);
    const doc = strongEtagDocument(url, set);
    const digest = new Uint8Array(createHash("sha512").update(doc).digest());
    assert.deepEqual(strongEtag(url, set), digest);
  }
});

Deno.test("etag: empty and missing recovery urls hash the same", () => {
  const a = strongEtag("u", { exacts: [{ topic: encodeUtf8("t"), recovery: null }], globs: [] });
  const b = strongEtag("u", { exacts: [{ topic: encodeUtf8("t"), recovery: "" }], globs: [] });
  assert.deepEqual(a, b);
  assert.equal(a.length, 64);
});

Deno.test("etag limits: fields over 65 535 bytes are RangeErrors", () => {
  const set = { exacts: [{ topic: new Uint8Array(65_536), recovery: null }], globs: [] };
  assert.throws(() => strongEtag("u", set), RangeError);
  assert.throws(() => strongEtagDocument("u", set), RangeError);
  assert.throws(() => strongEtag("u".repeat(65_536), { exacts: [], globs: [] }), RangeError);
});
