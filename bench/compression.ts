/**
 * `deno task bench:zstd`: zstd on a realistic pub/sub corpus — 10,000 JSON
 * messages of 100–1,000 bytes (cache invalidations, token revocations;
 * tests/compression/_corpus.ts) — on Deno, Bun and Node, against
 * python-zstandard 0.25.0 (the reference's library, from `.venv/interop`).
 *
 * Reports compressed size per message with plain level 3 and with trained
 * 16 KiB dictionaries (trained on other messages of the same kind: the
 * reference's low watermark of 100 KiB, and 1 MiB), training time in the
 * worker (16 KiB and the high watermark's 64 KiB from 10 MiB), CPU µs per
 * message and MB/s. Prints tables; writes bench/results/zstd-<time>.json.
 *
 * @module
 */

import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadZstd } from "../src/compression/load.ts";
import { trainInWorker } from "../src/compression/train.ts";
import { messageCorpus } from "../tests/compression/_corpus.ts";
import { run, runtimeExecutable } from "../tests/_cli.ts";
import { venvPython } from "../tests/_venv.ts";
import { machine } from "./_report.ts";
import { measure, type Measured, packMessages } from "./_zstd_measure.ts";

const here = (p: string) => new URL(p, import.meta.url).pathname;

/** The first messages of `corpus` adding up to at least `bytes`. */
function firstBytes(corpus: Uint8Array[], bytes: number): Uint8Array[] {
  let n = 0;
  let i = 0;
  while (i < corpus.length && n < bytes) n += corpus[i++]!.length;
  return corpus.slice(0, i);
}

async function timedTrain(samples: Uint8Array[], dictBytes: number) {
  const t = performance.now();
  const dict = await trainInWorker(samples, dictBytes, { timeoutMs: 600_000 });
  const inputBytes = samples.reduce((n, s) => n + s.length, 0);
  return { dict, inputBytes, samples: samples.length, ms: Math.round(performance.now() - t) };
}

const zstd = await loadZstd();
if ("unavailable" in zstd) throw new Error(zstd.unavailable);
const messages = messageCorpus(10_000, 1);
const total = messages.reduce((n, m) => n + m.length, 0);
const training = messageCorpus(22_000, 2); // other messages of the same kinds
console.error(`corpus: ${messages.length} messages, ${total} bytes; training…`);
const low = await timedTrain(firstBytes(training, 100 << 10), 16384);
const mid = await timedTrain(firstBytes(training, 1 << 20), 16384);
const high = await timedTrain(firstBytes(training, 10 << 20), 65536);

const sizes: Record<string, number> = { uncompressed: total };
sizes["plain level 3"] = messages.reduce((n, m) => n + zstd.compress(m, { level: 3 }).length, 0);
for (
  const [label, t, level] of [["100 KiB", low, 3], ["1 MiB", mid, 3], ["10 MiB", high, 10]] as const
) {
  using dictionary = zstd.loadDictionary(t.dict);
  const name = `${t.dict.length >> 10} KiB dict from ${label} of samples, level ${level}`;
  sizes[name] = messages.reduce((n, m) => n + zstd.compress(m, { level, dictionary }).length, 0);
}

console.error("measuring on Deno…");
const results: Measured[] = [];
{
  using dictionary = zstd.loadDictionary(mid.dict);
  results.push(measure(zstd, messages, dictionary));
}
zstd.close();

const dir = await mkdtemp(join(tmpdir(), "zstd-bench-"));
try {
  const messagesFile = join(dir, "messages.bin");
  const dictFile = join(dir, "dict.bin");
  await writeFile(messagesFile, packMessages(messages));
  await writeFile(dictFile, mid.dict);
  for (const runtime of ["bun", "node"] as const) {
    console.error(`measuring on ${runtime}…`);
    const ran = await run(await runtimeExecutable(runtime), [
      here("./_zstd_runtime.ts"),
      messagesFile,
      dictFile,
    ]);
    if (ran.code !== 0) throw new Error(`${runtime} failed: ${ran.stderr}`);
    results.push(JSON.parse(ran.stdout.trim().split("\n").at(-1)!));
  }
  console.error("measuring python-zstandard…");
  const py = await run(await venvPython(), [
    here("./compression_python.py"),
    messagesFile,
    dictFile,
  ]);
  if (py.code !== 0) throw new Error(`python failed: ${py.stderr}`);
  results.push(JSON.parse(py.stdout.trim()));
} finally {
  await rm(dir, { recursive: true });
}

const pct = (n: number) => `${((100 * n) / total).toFixed(1)} %`;
console.log(
  `\n${messages.length} messages, ${total} bytes (avg ${Math.round(total / messages.length)})\n`,
);
console.log("| compressed, one frame per message | bytes | of uncompressed |\n|---|---:|---:|");
for (const [k, v] of Object.entries(sizes)) console.log(`| ${k} | ${v} | ${pct(v)} |`);
console.log(
  "\n| training in the worker | samples | input bytes | dict bytes | ms |\n|---|---:|---:|---:|---:|",
);
for (const [k, t] of [["low watermark", low], ["1 MiB", mid], ["high watermark", high]] as const) {
  console.log(`| ${k} | ${t.samples} | ${t.inputBytes} | ${t.dict.length} | ${t.ms} |`);
}
console.log(
  "\n| backend | µs/msg c plain | d plain | c dict | d dict | MB/s c plain | d plain | c dict | d dict | bulk c | bulk d | dict bytes |",
);
console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const r of results) {
  const u = r.usPerMessage;
  const m = r.messageMBps;
  console.log(
    `| ${r.backend} | ${u.cPlain} | ${u.dPlain} | ${u.cDict} | ${u.dDict} | ${m.cPlain} | ${m.dPlain} | ` +
      `${m.cDict} | ${m.dDict} | ${r.bulkMBps.c} | ${r.bulkMBps.d} | ${pct(r.dictBytes)} |`,
  );
}

const python = (await run(await venvPython(), ["--version"])).stdout.trim();
await mkdir(here("./results/"), { recursive: true });
const out = here(`./results/zstd-${new Date().toISOString().replaceAll(":", "-")}.json`);
const training_ = { low, mid, high };
await writeFile(
  out,
  JSON.stringify(
    {
      machine: machine(python, null),
      messages: messages.length,
      bytes: total,
      sizes,
      training: Object.fromEntries(
        Object.entries(training_).map(([k, t]) => [k, { ...t, dict: t.dict.length }]),
      ),
      results,
    },
    null,
    2,
  ),
);
console.error(`\nwritten ${out}`);
