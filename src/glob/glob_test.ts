import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import vectors from "../../tests/vectors/glob.json" with { type: "json" };
import { fromHex, toHex } from "../protocol/mod.ts";
import { prng, randomString } from "./_testing.ts";
import { compileGlob, globMatches } from "./mod.ts";

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("glob vectors match the recommended column", () => {
  assert.equal(vectors.cases.length, 54);
  for (const c of vectors.cases) {
    assert.equal(c.pattern_utf8_hex, toHex(text(c.pattern)));
    const topic = fromHex(c.topic_hex);
    const why = `case ${c.id}: ${JSON.stringify(c.pattern)} vs ${c.topic_hex}`;
    assert.equal(compileGlob(c.pattern).matches(topic), c.recommended, why);
    assert.equal(globMatches(c.pattern, topic), c.recommended, why);
  }
});

Deno.test("glob matchesText agrees with matches on text topics", () => {
  for (const c of vectors.cases) {
    const topic = fromHex(c.topic_hex);
    const decoded = new TextDecoder("utf-8", { ignoreBOM: true }).decode(topic);
    if (toHex(text(decoded)) !== c.topic_hex) continue;
    assert.equal(compileGlob(c.pattern).matchesText(decoded), c.recommended, `case ${c.id}`);
  }
});

Deno.test("glob treats NUL as an ordinary character in pattern and topic", () => {
  assert.equal(globMatches("a\0b", text("a\0b")), true);
  assert.equal(globMatches("a?b", text("a\0b")), true);
  assert.equal(globMatches("[\0]", text("\0")), true);
  assert.equal(globMatches("foo", text("foo\0")), false);
});

Deno.test("glob keeps a leading byte order mark as a character", () => {
  assert.equal(globMatches("foo", text("\ufefffoo")), false);
  assert.equal(globMatches("?foo", text("\ufefffoo")), true);
  assert.equal(globMatches("\ufefffoo", text("\ufefffoo")), true);
});

Deno.test("glob rejects text topics with lone surrogates", () => {
  assert.equal(compileGlob("*").matchesText("a\ud800"), false);
  assert.equal(compileGlob("*").matchesText("\udc00"), false);
  assert.equal(compileGlob("?").matchesText("😀"), true);
  assert.equal(compileGlob("??").matchesText("😀"), false);
});

Deno.test("glob classes follow SQLite's bracket rules", () => {
  const cases: [string, string, boolean][] = [
    ["[]-a]", "-", true],
    ["[]-a]", "b", false],
    ["[a-]", "-", true],
    ["[-a]", "-", true],
    ["[^-a]", "-", false],
    ["[a-c-e]", "-", true],
    ["[a-c-e]", "d", false],
    ["[z-a]", "z", true],
    ["[z-a]", "m", false],
    ["[^]]", "]", false],
    ["[^]]", "x", true],
    ["[]", "]", false],
    ["[]]", "]", true],
    ["a*[", "abc[", false],
    ["[a^]", "^", true],
    ["[😀-😂]", "😁", true],
    ["[\\]", "\\", true],
  ];
  for (const [pattern, topic, expected] of cases) {
    assert.equal(globMatches(pattern, text(topic)), expected, `${pattern} vs ${topic}`);
  }
});

Deno.test("glob star segments match left-most without exponential backtracking", () => {
  const as = "a".repeat(20_000);
  assert.equal(globMatches("*a*a*a*a*a*a*a*a*a*a*b", text(as)), false);
  assert.equal(globMatches("*a*a*a*a*a*a*a*a*a*a*", text(as)), true);
  assert.equal(globMatches("*a?a*a[a]a*?*a", text(as)), true);
  assert.equal(globMatches("*a?a*a[a]a*?*b", text(as)), false);
  assert.equal(globMatches(`*${"a".repeat(500)}b*`, text(as)), false);
  assert.equal(globMatches(`*${"a".repeat(500)}b*`, text(`${as}b`)), true);
  assert.equal(globMatches("*ab*ab*", text("xabyab")), true);
  assert.equal(globMatches("*ab*ab*", text("xaby")), false);
  assert.equal(globMatches("a*b*a", text("aba")), true);
  assert.equal(globMatches("a*a", text("a")), false);
});

Deno.test("compileGlob returns the cached matcher for a repeated pattern", () => {
  const first = compileGlob("cache/test/*");
  assert.equal(compileGlob("cache/test/*"), first);
  assert.equal(first.pattern, "cache/test/*");
});

Deno.test("compileGlob bounds its cache and evicts the least recently used", () => {
  const kept = compileGlob("cache/kept/*");
  const dropped = compileGlob("cache/dropped/*");
  for (let i = 0; i < 12_000; i++) {
    compileGlob(`cache/filler/${i}`);
    if (i % 1000 === 0) compileGlob("cache/kept/*");
  }
  assert.equal(compileGlob("cache/kept/*"), kept);
  assert.notEqual(compileGlob("cache/dropped/*"), dropped);
});

/** A topic likely to match: wildcards replaced by random text, classes left as-is. */
function likely(rand: () => number, alphabet: string[], pattern: string): string {
  return [...pattern].map((ch) =>
    ch === "*" ? randomString(rand, alphabet, 2) : ch === "?" ? randomString(rand, alphabet, 1) : ch
  ).join("");
}

Deno.test("glob agrees with SQLite GLOB on random NUL-free topics", () => {
  const alphabet = [..."*?[]^!-/aé😀"];
  const rand = prng(20240601);
  const db = new DatabaseSync(":memory:");
  try {
    const query = db.prepare("SELECT CAST(? AS TEXT) GLOB ? AS m");
    let matched = 0;
    const differences: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const pattern = randomString(rand, alphabet, 7);
      const topic = i % 2 === 0 ? randomString(rand, alphabet, 6) : likely(rand, alphabet, pattern);
      const row = query.get(topic, pattern) as { m: number };
      const ours = compileGlob(pattern).matches(text(topic));
      if (ours) matched++;
      if (ours !== (row.m === 1)) differences.push(`${JSON.stringify([pattern, topic])}`);
    }
    assert.deepEqual(differences, []);
    assert.ok(matched > 1_000, `only ${matched} matches: the generator tests too little`);
  } finally {
    db.close();
  }
});
