/**
 * Fan-out look-ups against a large store: 100k exact and 10k glob rows on a
 * WAL file. Run with `deno bench -A src/storage/sqlite/store_bench.ts`.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExactEntry, GlobEntry } from "../types.ts";
import { openSqliteStore } from "./store.ts";

const UTF8 = new TextEncoder();
const dir = mkdtempSync(join(tmpdir(), "lonelypss-bench-"));
globalThis.addEventListener("unload", () => rmSync(dir, { recursive: true, force: true }));
const store = await openSqliteStore({ path: join(dir, "bench.db") });

// 100 subscriber urls × 1,000 exact topics, and 100 urls × 100 patterns.
for (let u = 0; u < 100; u++) {
  const exacts: ExactEntry[] = [];
  for (let t = 0; t < 1_000; t++) {
    exacts.push({
      topic: UTF8.encode(`topic/${String(u * 1_000 + t).padStart(6, "0")}`),
      recovery: null,
    });
  }
  const globs: GlobEntry[] = [];
  for (let g = 0; g < 100; g++) {
    const n = String(u * 100 + g).padStart(5, "0");
    globs.push({ glob: g % 2 === 0 ? `svc/${n}/*` : `svc/${n}/?/events`, recovery: null });
  }
  globs.sort((a, b) => (a.glob < b.glob ? -1 : 1));
  await store.setSubscriptions(`http://127.0.0.1:${4000 + u}/v1/receive`, { exacts, globs });
}

const exactTopic = UTF8.encode("topic/054321");
const globTopic = UTF8.encode("svc/04242/x");
const missTopic = UTF8.encode("nothing/here/at/all");

Deno.bench("getSubscribers: exact hit among 100k exact + 10k glob rows", async () => {
  const r = await store.getSubscribers(exactTopic);
  if (r === "unavailable" || r.length !== 1) throw new Error("Unexpected result: exact");
});

Deno.bench("getSubscribers: glob hit among 100k exact + 10k glob rows", async () => {
  const r = await store.getSubscribers(globTopic);
  if (r === "unavailable" || r.length !== 1) throw new Error("Unexpected result: glob");
});

Deno.bench("getSubscribers: no match among 100k exact + 10k glob rows", async () => {
  const r = await store.getSubscribers(missTopic);
  if (r === "unavailable" || r.length !== 0) throw new Error("Unexpected result: miss");
});

let next = 0;
Deno.bench("subscribeExact: new (url, topic) pair on the 100k-row file", async () => {
  const r = await store.subscribeExact(
    "http://127.0.0.1:5000/v1/receive",
    UTF8.encode(`new/${next++}`),
    null,
  );
  if (r !== "success") throw new Error(`Unexpected result: ${r}`);
});

Deno.bench("listSubscriptions: one url with 1,000 exact + 100 glob rows", async () => {
  const r = await store.listSubscriptions("http://127.0.0.1:4050/v1/receive");
  if (r === "unavailable" || r.exacts.length !== 1_000) throw new Error("Unexpected result: list");
});
