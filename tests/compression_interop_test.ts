/**
 * zstd interop with python-zstandard 0.25.0, the library both reference peers
 * use (tests/compression/zstd_peer.py runs it from `.venv/interop`): our frames
 * are byte-identical to the reference's (docs/protocol/zstd.md#frames: same
 * level, dictionary, no checksum, no content size, no dictionary id — the
 * vectors say one-shot and chunker bytes agree), Python decodes ours, we decode
 * Python's with every frame parameter, and trained dictionaries work both ways.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { loadZstd } from "../src/compression/load.ts";
import type { Zstd, ZstdDictionary } from "../src/compression/types.ts";
import { run, tail, venvPython } from "./_venv.ts";
import { fromB64, toB64 } from "./compression/_bytes.ts";
import { messageCorpus } from "./compression/_corpus.ts";
import { rleBomb } from "./compression/_frames.ts";
import { streamCompress, streamDecompress, VECTORS } from "./compression/_suite.ts";

const PEER = join(import.meta.dirname!, "compression", "zstd_peer.py");
const LIMITS = { maxOutputBytes: 16 << 20, maxWindowBytes: 8 << 20 } as const;

type Op = Record<string, unknown> & { op: string };
type Result = { frame?: string; data?: string; error?: string; dict?: string; id?: number };

/** The libzstd version python-zstandard bundles, once a peer has run. */
let peerLibzstd = "";

/** Runs operations through python-zstandard in one process. */
async function peer(ops: Op[]): Promise<Result[]> {
  const python = await venvPython();
  const request = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(request, JSON.stringify({ ops }));
    const ran = await run(python, [PEER, request], { PYTHONDONTWRITEBYTECODE: "1" });
    assert.equal(ran.code, 0, `zstd_peer.py failed:\n${tail(ran.stderr)}`);
    const answer = JSON.parse(ran.stdout) as {
      zstandard: string;
      libzstd: string;
      results: Result[];
    };
    assert.equal(answer.zstandard, "0.25.0");
    peerLibzstd = answer.libzstd;
    return answer.results;
  } finally {
    await Deno.remove(request);
  }
}

/**
 * Whether our libzstd is the version python-zstandard bundles. Only then must
 * every frame be byte-identical: the compressor's choices (block splitting,
 * match finding) change between libzstd releases, e.g. 1.5.4 (Debian 12) and
 * 1.5.7 (zstandard 0.25.0); the frame parameters never do. The reference's
 * vectors are byte-identical either way (tests/compression/_suite.ts).
 */
function sameLibzstd(zstd: Zstd): boolean {
  return zstd.name.startsWith(`libzstd ${peerLibzstd} `);
}

/** The frame header: magic, descriptor (no size, checksum, dictionary id) and window. */
function header(frame: Uint8Array | string): string {
  return toB64((typeof frame === "string" ? fromB64(frame) : frame).subarray(0, 6));
}

async function withZstd(fn: (zstd: Zstd) => Promise<void>): Promise<void> {
  const zstd = await loadZstd();
  if ("unavailable" in zstd) throw new Error(zstd.unavailable);
  try {
    await fn(zstd);
  } finally {
    zstd.close();
  }
}

const corpus = messageCorpus(4000, 11);
const enc = new TextEncoder();
const text = enc.encode(corpus.slice(0, 600).map((m) => new TextDecoder().decode(m)).join("\n"));
const big = new Uint8Array(3 << 20).map((_, i) => text[i % text.length]! ^ (i >> 16));
const inputs = [new Uint8Array(0), corpus[0]!, corpus[1]!, text.subarray(0, 16384), text, big];

function b64(d: ZstdDictionary | undefined): string | undefined {
  return d === undefined ? undefined : toB64(d.bytes);
}

Deno.test("interop: our frames have python-zstandard's parameters (and bytes, on the same libzstd)", async () => {
  await withZstd(async (zstd) => {
    using preset = zstd.loadDictionary(fromB64(VECTORS.preset_dictionary_session.dictionary_b64));
    using raw = zstd.loadDictionary(text.subarray(0, 8192));
    const cases: { data: Uint8Array; level: number; dictionary?: ZstdDictionary | undefined }[] =
      [];
    for (const data of inputs) {
      for (const level of [1, 3, 10]) {
        // 3 MiB: once per level without a dictionary is enough (and level 10 is slow)
        if (data === big && level === 10) continue;
        const dictionaries = data === big ? [undefined] : [undefined, preset, raw];
        for (const dictionary of dictionaries) cases.push({ data, level, dictionary });
      }
    }
    cases.push({ data: text.subarray(0, 65536), level: 19 }, { data: corpus[2]!, level: -5 });
    const ops = cases.flatMap((c) =>
      (["one_shot", "chunker"] as const).map((mode) => ({
        op: "compress",
        mode,
        data: toB64(c.data),
        level: c.level,
        dict: b64(c.dictionary),
      }))
    );
    const results = await peer(ops);
    let identical = 0;
    const theirs: Op[] = []; // our frames, for python to decode
    const expected: Uint8Array[] = [];
    for (const [i, c] of cases.entries()) {
      const what = `${c.data.length} bytes, level ${c.level}, dict ${c.dictionary?.id ?? "none"}`;
      const opts = { level: c.level, dictionary: c.dictionary };
      const ours = zstd.compress(c.data, opts);
      const python = results[2 * i]!.frame!;
      // Identical bytes (docs/protocol/zstd.md#frames) hold for one-block messages (≤ 128 KiB);
      // past that, streaming and one-shot may compress differently, in libzstd 1.5.4 as
      // in python-zstandard 0.25.0 (both still valid frames with the same parameters).
      const streamed = await streamCompress(zstd, c.data, { ...opts, pledgedSize: c.data.length });
      if (c.data.length <= 128 << 10) {
        assert.equal(results[2 * i + 1]!.frame, python, `python's chunker = one-shot: ${what}`);
        assert.equal(toB64(streamed), toB64(ours), `streamed with the size pledged: ${what}`);
      } else {
        assert.equal(header(streamed), header(ours), `streamed: ${what}`);
        assert.deepEqual(
          zstd.decompress(streamed, { ...LIMITS, dictionary: c.dictionary }),
          c.data,
        );
        theirs.push({ op: "decompress", frame: toB64(streamed), dict: b64(c.dictionary) });
        expected.push(c.data);
      }
      assert.equal(header(ours), header(python), `same frame parameters: ${what}`);
      if (sameLibzstd(zstd)) assert.equal(toB64(ours), python, `byte-identical: ${what}`);
      if (toB64(ours) === python) identical++;
      // python's frames decode here; ours decode in python (checked below)
      assert.deepEqual(
        zstd.decompress(fromB64(python), { ...LIMITS, dictionary: c.dictionary }),
        c.data,
      );
      theirs.push({ op: "decompress", frame: toB64(ours), dict: b64(c.dictionary) });
      expected.push(c.data);
    }
    for (const [i, back] of (await peer(theirs)).entries()) {
      assert.deepEqual(fromB64(back.data!), expected[i]);
    }
    console.log(
      `byte-identical to python-zstandard (libzstd ${peerLibzstd}) in ${identical} of ` +
        `${cases.length} frames with ${zstd.name}`,
    );
  });
});

Deno.test("interop: python-zstandard decodes our frames, streamed without a pledged size too", async () => {
  await withZstd(async (zstd) => {
    using raw = zstd.loadDictionary(text.subarray(0, 8192));
    const cases = [
      { data: text, frame: zstd.compress(text, { level: 3 }) },
      { data: big, frame: await streamCompress(zstd, big, { level: 3 }, 65536) },
      {
        data: corpus[3]!,
        frame: zstd.compress(corpus[3]!, { level: 3, dictionary: raw }),
        dict: raw,
      },
      {
        data: text,
        frame: await streamCompress(zstd, text, { level: 1, dictionary: raw }),
        dict: raw,
      },
    ];
    const results = await peer(cases.map((c) => ({
      op: "decompress",
      frame: toB64(c.frame),
      dict: b64(c.dict),
      max_window_size: 8 << 20,
    })));
    for (const [i, c] of cases.entries()) {
      assert.equal(results[i]!.error, undefined);
      assert.deepEqual(fromB64(results[i]!.data!), c.data, `case ${i}`);
    }
  });
});

Deno.test("interop: we decode python-zstandard's frames with every frame parameter", async () => {
  await withZstd(async (zstd) => {
    const samples = corpus.slice(0, 2000).map(toB64);
    const [trainedAnswer] = await peer([{ op: "train", size: 16384, samples }]);
    using trained = zstd.loadDictionary(fromB64(trainedAnswer!.dict!));
    const cases: Op[] = [];
    for (const dict of [undefined, trained]) {
      for (const data of [corpus[4]!, text]) {
        for (const content_size of [true, false]) {
          for (const dict_id of [true, false]) {
            for (const checksum of [true, false]) {
              cases.push({
                op: "frame",
                data: toB64(data),
                dict: b64(dict),
                level: 3,
                content_size,
                dict_id,
                checksum,
                streamed: false,
              });
            }
          }
        }
      }
    }
    cases.push({
      op: "frame",
      data: toB64(big),
      level: 3,
      checksum: true,
      content_size: true,
      dict_id: true,
      streamed: true,
    });
    cases.push({
      op: "frame",
      data: toB64(text),
      dict: b64(trained),
      level: 3,
      checksum: true,
      content_size: true,
      dict_id: true,
      streamed: true,
    });
    const frames = await peer(cases);
    for (const [i, c] of cases.entries()) {
      const dictionary = c.dict === undefined ? undefined : trained;
      const frame = fromB64(frames[i]!.frame!);
      const want = fromB64(c.data as string);
      const opts = { ...LIMITS, dictionary };
      assert.deepEqual(
        zstd.decompress(frame, opts),
        want,
        JSON.stringify({ ...c, data: undefined }),
      );
      assert.deepEqual(await streamDecompress(zstd, frame, opts, 4096), want);
    }
  });
});

Deno.test("interop: a dictionary we train works in python-zstandard, and python's works here", async () => {
  await withZstd(async (zstd) => {
    const train = corpus.slice(0, 3000);
    const held = corpus.slice(3000, 3100);
    const ours = zstd.train!(train, 16384);
    const [theirs, ourId] = await peer([
      { op: "train", size: 16384, samples: train.map(toB64) },
      { op: "dict_id", dict: toB64(ours) },
    ]);
    using ourDict = zstd.loadDictionary(ours);
    using theirDict = zstd.loadDictionary(fromB64(theirs!.dict!));
    assert.equal(ourId!.id, ourDict.id);
    const ops: Op[] = held.flatMap((m) => [
      { op: "compress", mode: "one_shot", data: toB64(m), level: 3, dict: toB64(ours) },
      {
        op: "decompress",
        frame: toB64(zstd.compress(m, { level: 3, dictionary: ourDict })),
        dict: toB64(ours),
      },
    ]);
    const results = await peer(ops);
    let ourBytes = 0;
    let theirBytes = 0;
    for (const [i, m] of held.entries()) {
      const frame = zstd.compress(m, { level: 3, dictionary: ourDict });
      const python = results[2 * i]!.frame!;
      assert.equal(header(python), header(frame), "python compresses with our dictionary alike");
      if (sameLibzstd(zstd)) assert.equal(python, toB64(frame));
      assert.deepEqual(zstd.decompress(fromB64(python), { ...LIMITS, dictionary: ourDict }), m);
      assert.deepEqual(
        fromB64(results[2 * i + 1]!.data!),
        m,
        "python decodes our dictionary frames",
      );
      ourBytes += frame.length;
      theirBytes += zstd.compress(m, { level: 3, dictionary: theirDict }).length;
      const back = zstd.decompress(frame, { ...LIMITS, dictionary: ourDict });
      assert.deepEqual(back, m);
    }
    // ZDICT_trainFromBuffer's fastCover defaults against python's optimizing trainer
    assert.ok(ourBytes < theirBytes * 1.15, `ours ${ourBytes} vs python's ${theirBytes}`);
  });
});

Deno.test("interop: a window above the limit is refused by both sides alike", async () => {
  await withZstd(async (zstd) => {
    const frame = rleBomb(2, 24); // 16 MiB window
    const [limited, unlimited] = await peer([
      { op: "decompress", frame: toB64(frame), max_window_size: 8 << 20 },
      { op: "decompress", frame: toB64(frame), max_window_size: 16 << 20 },
    ]);
    assert.match(limited!.error ?? "", /window|memory/i);
    assert.equal(fromB64(unlimited!.data!).length, 256 << 10);
    assert.throws(() => zstd.decompress(frame, LIMITS), /too much memory/);
    assert.equal(zstd.decompress(frame, { ...LIMITS, maxWindowBytes: 16 << 20 }).length, 256 << 10);
  });
});
