import assert from "node:assert/strict";
import { messageCorpus } from "../../tests/compression/_corpus.ts";
import { rejectsKind } from "../../tests/compression/_suite.ts";
import { loadZstd } from "./load.ts";
import { trainInWorker } from "./train.ts";
import type { Zstd } from "./types.ts";

const samples = messageCorpus(3000, 3);
const held = messageCorpus(200, 4);

async function zstd(): Promise<Zstd> {
  const z = await loadZstd();
  if ("unavailable" in z) throw new Error(z.unavailable);
  return z;
}

function compressedBytes(z: Zstd, messages: Uint8Array[], opts: Parameters<Zstd["compress"]>[1]) {
  return messages.reduce((n, m) => n + z.compress(m, opts).length, 0);
}

Deno.test("trainInWorker trains a 16 KiB dictionary that beats plain level 3 on unseen messages", async () => {
  const dict = await trainInWorker(samples, 16384, { timeoutMs: 60_000 });
  assert.ok(dict.length > 1024 && dict.length <= 16384, `${dict.length} bytes`);
  assert.deepEqual([...dict.subarray(0, 4)], [0x37, 0xa4, 0x30, 0xec]); // zstd dictionary magic
  const z = await zstd();
  try {
    using dictionary = z.loadDictionary(dict);
    assert.notEqual(dictionary.id, 0);
    const plain = compressedBytes(z, held, { level: 3 });
    const trained = compressedBytes(z, held, { level: 3, dictionary });
    assert.ok(trained < plain * 0.7, `trained ${trained} vs plain ${plain}`);
    for (const m of held.slice(0, 20)) {
      const frame = z.compress(m, { level: 3, dictionary });
      assert.deepEqual(
        z.decompress(frame, { maxOutputBytes: 4096, maxWindowBytes: 8 << 20, dictionary }),
        m,
      );
    }
  } finally {
    z.close();
  }
});

Deno.test("the synchronous trainer and the worker give the same dictionary", async () => {
  const z = await zstd();
  try {
    const inWorker = await trainInWorker(samples.slice(0, 1000), 4096, { timeoutMs: 60_000 });
    assert.deepEqual(z.train!(samples.slice(0, 1000), 4096), inWorker);
  } finally {
    z.close();
  }
});

Deno.test("trainInWorker refuses more sample bytes than maxInputBytes, before starting a worker", async () => {
  await assert.rejects(
    () => trainInWorker(samples, 16384, { timeoutMs: 1000, maxInputBytes: 1000 }),
    (e) => e instanceof RangeError && /exceed 1000 bytes/.test(e.message),
  );
});

Deno.test("trainInWorker reports samples libzstd cannot train on as a training error", async () => {
  const e = await rejectsKind(
    () => trainInWorker([new Uint8Array([1, 2, 3])], 16384, { timeoutMs: 30_000 }),
    "training",
  );
  assert.match(e.message, /^Cannot train a zstd dictionary: /);
});

Deno.test("trainInWorker gives up at its timeout and on abort, terminating the worker", async () => {
  // Many samples make training take well over 1 ms.
  const big = messageCorpus(20000, 5);
  await rejectsKind(() => trainInWorker(big, 65536, { timeoutMs: 1 }), "training");
  const aborted = new AbortController();
  aborted.abort(new Error("connection closed"));
  await assert.rejects(
    () => trainInWorker(samples, 16384, { timeoutMs: 60_000, signal: aborted.signal }),
    /connection closed/,
  );
  const later = new AbortController();
  const pending = trainInWorker(big, 65536, { timeoutMs: 60_000, signal: later.signal });
  setTimeout(() => later.abort(new Error("stop")), 20);
  await assert.rejects(() => pending, /stop/);
});

Deno.test("concurrent trainings queue and all finish", async () => {
  const dicts = await Promise.all(
    [0, 1, 2].map((i) =>
      trainInWorker(samples.slice(i * 500, i * 500 + 800), 2048, { timeoutMs: 60_000 })
    ),
  );
  assert.equal(dicts.length, 3);
  for (const d of dicts) assert.ok(d.length > 0 && d.length <= 2048);
});
