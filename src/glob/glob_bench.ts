/**
 * Benchmarks for glob matching: a 100k-pattern index, and hostile patterns.
 * Run with `deno bench src/glob/glob_bench.ts`.
 *
 * @module
 */

import { compileGlob, GlobIndex } from "./mod.ts";

const encoder = new TextEncoder();

function buildIndex(): GlobIndex<number> {
  const index = new GlobIndex<number>();
  for (let i = 0; i < 99_700; i++) {
    index.add(i % 3 === 0 ? `svc/${i}/*` : i % 3 === 1 ? `svc/${i}/?/status` : `svc/${i}`, i);
  }
  for (let i = 0; i < 300; i++) index.add(`*x${i}*`, 99_700 + i);
  return index;
}

const index = buildIndex();
const hitTopic = encoder.encode("svc/4242/a/status");
const missTopic = encoder.encode("other/topic/with/a/longer/path/than/usual");

Deno.bench("GlobIndex of 100k patterns: match a topic with hits", () => {
  if (index.match(hitTopic).length < 1) throw new Error("Expected a match");
});

Deno.bench("GlobIndex of 100k patterns: match a topic with no hits", () => {
  index.match(missTopic);
});

const hostile = compileGlob("*a*a*a*a*a*a*a*a*a*a*b");
const as = encoder.encode("a".repeat(20_000));

Deno.bench("hostile *a*a*...*b against 20,000 a's", () => {
  if (hostile.matches(as)) throw new Error("Unexpected match");
});

const longSegment = compileGlob(`*${"a".repeat(500)}b*`);

Deno.bench("literal 500-char middle segment against 20,000 a's", () => {
  if (longSegment.matches(as)) throw new Error("Unexpected match");
});
