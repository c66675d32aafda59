import assert from "node:assert/strict";
import vectors from "../../tests/vectors/glob.json" with { type: "json" };
import { fromHex } from "../protocol/mod.ts";
import { pick, prng } from "./_testing.ts";
import { compileGlob, GlobIndex } from "./mod.ts";

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("GlobIndex holding every vector pattern agrees with the recommended column", () => {
  const index = new GlobIndex<number>();
  for (const c of vectors.cases) index.add(c.pattern, c.id);
  assert.equal(index.size, vectors.cases.length);
  for (const c of vectors.cases) {
    const found = index.match(fromHex(c.topic_hex));
    assert.equal(found.includes(c.id), c.recommended, `case ${c.id}`);
    for (const id of found) {
      const other = vectors.cases[id - 1]!;
      assert.ok(compileGlob(other.pattern).matches(fromHex(c.topic_hex)), `case ${id}`);
    }
  }
});

Deno.test("GlobIndex keeps duplicates, deletes by identity and clears", () => {
  const index = new GlobIndex<{ name: string }>();
  const a = { name: "a" };
  const b = { name: "a" };
  index.add("x/*", a);
  index.add("x/*", a);
  index.add("*", a);
  index.add("x/y", b);
  assert.equal(index.size, 4);
  assert.deepEqual(index.match(text("x/y")).filter((v) => v === a).length, 3);
  assert.equal(index.delete("x/*", { name: "a" }), false);
  assert.equal(index.delete("nope", a), false);
  assert.equal(index.delete("x/*", a), true);
  assert.equal(index.size, 3);
  assert.equal(index.match(text("x/y")).length, 3);
  assert.equal(index.delete("x/y", b), true);
  assert.equal(index.delete("x/y", b), false);
  assert.deepEqual(index.match(text("x/y")), [a, a]);
  index.clear();
  assert.equal(index.size, 0);
  assert.deepEqual(index.match(text("x/y")), []);
});

Deno.test("GlobIndex matches exact patterns whole and never invalid UTF-8 topics", () => {
  const index = new GlobIndex<string>();
  index.add("foo", "exact");
  index.add("a\0b", "nul");
  index.add("[", "never");
  index.add("foo*", "star");
  assert.deepEqual(index.match(text("foo")).sort(), ["exact", "star"]);
  assert.deepEqual(index.match(text("a\0b")), ["nul"]);
  assert.deepEqual(index.match(text("a")), []);
  assert.deepEqual(index.match(text("[")), []);
  assert.deepEqual(index.match(new Uint8Array([0x66, 0x6f, 0x6f, 0xff])), []);
  assert.equal(index.size, 4);
  assert.equal(index.delete("[", "never"), true);
  assert.equal(index.size, 3);
});

Deno.test("GlobIndex prefixes with astral characters find their topics", () => {
  const index = new GlobIndex<string>();
  index.add("😀/?", "emoji");
  index.add("é*", "accent");
  assert.deepEqual(index.match(text("😀/😀")), ["emoji"]);
  assert.deepEqual(index.match(text("é")), ["accent"]);
  assert.deepEqual(index.match(text("😀")), []);
});

Deno.test("GlobIndex agrees with brute force under random adds, deletes and matches", () => {
  const rand = prng(7);
  const pieces = ["a", "b", "/", "é", "😀", "*", "?", "[ab]", "[^a]", "ab/"];
  const alphabet = ["a", "b", "/", "é", "😀"];
  const patterns: string[] = [];
  for (let i = 0; i < 2_000; i++) {
    const n = Math.floor(rand() * 6);
    let p = "";
    for (let k = 0; k < n; k++) p += pick(rand, pieces);
    patterns.push(p);
  }
  const index = new GlobIndex<number>();
  const live: { pattern: string; value: number }[] = [];
  let next = 0;
  let hits = 0;
  const check = () => {
    for (let t = 0; t < 50; t++) {
      let topic = "";
      const n = Math.floor(rand() * 7);
      for (let k = 0; k < n; k++) topic += pick(rand, alphabet);
      const bytes = text(topic);
      const expected = live.filter((e) => compileGlob(e.pattern).matches(bytes)).map((e) =>
        e.value
      );
      const actual = index.match(bytes);
      hits += actual.length;
      assert.deepEqual(actual.sort((x, y) => x - y), expected.sort((x, y) => x - y), topic);
    }
  };
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 200; i++) {
      const entry = { pattern: pick(rand, patterns), value: next++ };
      index.add(entry.pattern, entry.value);
      live.push(entry);
    }
    for (let i = 0; i < 100 && live.length > 0; i++) {
      const at = Math.floor(rand() * live.length);
      const [entry] = live.splice(at, 1);
      assert.equal(index.delete(entry!.pattern, entry!.value), true);
    }
    assert.equal(index.size, live.length);
    check();
  }
  assert.ok(hits > 5_000, `only ${hits} hits: the generator tests too little`);
});
