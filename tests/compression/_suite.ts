/**
 * One behaviour suite for every zstd backend, run in-process on Deno and by
 * `run_suite.ts` on Bun and Node: the reference's vectors, round trips with
 * and without dictionaries (one-shot and streaming), frame parameters, and
 * hostile input (bombs, corrupt, truncated, trailing bytes, oversized windows).
 * Runtime-neutral: only `node:` modules and web APIs.
 *
 * @module
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ZstdError, type ZstdErrorKind } from "../../src/compression/errors.ts";
import { trainInWorker } from "../../src/compression/train.ts";
import type {
  CompressStreamOptions,
  DecompressOptions,
  Zstd,
} from "../../src/compression/types.ts";
import { messageCorpus } from "./_corpus.ts";
import { rawFrame, rleBomb } from "./_frames.ts";
import { concat, fromB64, fromHex, toHex } from "./_bytes.ts";

/** One named check against a backend. */
export interface Check {
  /** What it shows, as a test name. */
  readonly name: string;
  /** Throws when the backend misbehaves. */
  run(zstd: Zstd): Promise<void>;
}

interface Vectors {
  zstd_no_dictionary_id_1: { plain_b64: string; compressed_one_shot_hex: string; level: number };
  preset_dictionary_session: DictVector & { decompressed_utf8: string };
  custom_dictionary_example: DictVector & { plain_utf8: string };
}
interface DictVector {
  dictionary_b64: string;
  compressed_hex: string;
  level: number;
  dictionary_id_in_header?: number;
}

/** The reference's compression vectors (tests/vectors/compression.json). */
export const VECTORS: Vectors = JSON.parse(
  readFileSync(new URL("../vectors/compression.json", import.meta.url), "utf8"),
);

const LIMITS = { maxOutputBytes: 64 << 20, maxWindowBytes: 8 << 20 } as const;
const ID1 = VECTORS.zstd_no_dictionary_id_1;
const enc = new TextEncoder();

/** Runs `fn` and checks it rejects with a {@link ZstdError} of `kind`. */
export async function rejectsKind(fn: () => unknown, kind: ZstdErrorKind): Promise<ZstdError> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof ZstdError, `expected a ZstdError, got ${e}`);
    assert.equal(e.kind, kind, e.message);
    return e;
  }
  assert.fail(`expected a ZstdError of kind ${kind}`);
}

/** Streams `data` through a new compressor in `step`-byte pushes. */
export async function streamCompress(
  zstd: Zstd,
  data: Uint8Array,
  opts: CompressStreamOptions,
  step = 8192,
): Promise<Uint8Array> {
  const c = zstd.compressStream(opts);
  const parts: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += step) {
    parts.push(...await c.push(data.subarray(at, at + step)));
  }
  parts.push(...await c.finish());
  return concat(parts);
}

/** Streams `frame` through a new decompressor in `step`-byte pushes. */
export async function streamDecompress(
  zstd: Zstd,
  frame: Uint8Array,
  opts: DecompressOptions,
  step = 1000,
): Promise<Uint8Array> {
  using d = zstd.decompressStream(opts);
  const parts: Uint8Array[] = [];
  for (let at = 0; at < frame.length; at += step) {
    parts.push(...await d.push(frame.subarray(at, at + step)));
  }
  parts.push(...await d.finish());
  return concat(parts);
}

/** Both decoders on `frame`: one-shot and streaming must agree. */
async function decodeBoth(zstd: Zstd, frame: Uint8Array, opts: DecompressOptions) {
  const one = zstd.decompress(frame, opts);
  assert.deepEqual(await streamDecompress(zstd, frame, opts), one);
  return one;
}

/** Each way of decoding `frame` fails with `kind`. */
async function bothReject(
  zstd: Zstd,
  frame: Uint8Array,
  kind: ZstdErrorKind,
  maxOutputBytes = 1 << 20,
) {
  const opts = { ...LIMITS, maxOutputBytes };
  await rejectsKind(() => zstd.decompress(frame, opts), kind);
  await rejectsKind(() => streamDecompress(zstd, frame, opts), kind);
}

const corpus = messageCorpus(2000, 7);
const corpusText = concat(corpus.slice(0, 400));

/** Every check. */
export const CHECKS: readonly Check[] = [
  {
    name: "the id-1 vector: one-shot and size-pledged streaming give the reference's bytes",
    async run(zstd) {
      const plain = fromB64(ID1.plain_b64);
      assert.equal(toHex(zstd.compress(plain, { level: ID1.level })), ID1.compressed_one_shot_hex);
      const streamed = await streamCompress(zstd, plain, { level: 3, pledgedSize: plain.length });
      assert.equal(toHex(streamed), ID1.compressed_one_shot_hex);
      assert.deepEqual(await decodeBoth(zstd, fromHex(ID1.compressed_one_shot_hex), LIMITS), plain);
    },
  },
  {
    name: "the preset and custom dictionary vectors decode and recompress to the same bytes",
    async run(zstd) {
      for (const v of [VECTORS.preset_dictionary_session, VECTORS.custom_dictionary_example]) {
        using dictionary = zstd.loadDictionary(fromB64(v.dictionary_b64));
        const plain = enc.encode("plain_utf8" in v ? v.plain_utf8 : v.decompressed_utf8);
        const frame = fromHex(v.compressed_hex);
        assert.deepEqual(await decodeBoth(zstd, frame, { ...LIMITS, dictionary }), plain);
        assert.equal(toHex(zstd.compress(plain, { level: v.level, dictionary })), v.compressed_hex);
        const streamed = await streamCompress(zstd, plain, {
          level: v.level,
          dictionary,
          pledgedSize: plain.length,
        });
        assert.equal(toHex(streamed), v.compressed_hex);
      }
      using preset = zstd.loadDictionary(fromB64(VECTORS.preset_dictionary_session.dictionary_b64));
      assert.equal(preset.id, VECTORS.preset_dictionary_session.dictionary_id_in_header);
    },
  },
  {
    name: "round trips without a dictionary, one-shot and streaming, from 0 bytes to 3 MiB",
    async run(zstd) {
      const random = crypto.getRandomValues(new Uint8Array(65536));
      const big = concat([corpusText, random, corpusText, corpusText, corpusText]);
      for (
        const data of [
          new Uint8Array(0),
          enc.encode("x"),
          corpus[0]!,
          random,
          big,
          repeat(big, 3 << 20),
        ]
      ) {
        for (const level of [1, 3, 10]) {
          const frame = zstd.compress(data, { level });
          assert.equal(frame[4], 0, "no checksum, content size, dictionary id, single segment");
          assert.deepEqual(await decodeBoth(zstd, frame, LIMITS), data);
          const streamed = await streamCompress(zstd, data, { level }, 100_000);
          assert.deepEqual(await decodeBoth(zstd, streamed, LIMITS), data);
          if (data.length > 1 << 20 && level === 10) break; // keep the slow level to smaller inputs
        }
      }
    },
  },
  {
    name: "round trips with a raw-content dictionary, one-shot and streaming",
    async run(zstd) {
      using dictionary = zstd.loadDictionary(concat(corpus.slice(1000, 1040)));
      assert.equal(dictionary.id, 0);
      for (const data of [corpus[5]!, corpusText]) {
        const frame = zstd.compress(data, { level: 3, dictionary });
        assert.ok(frame.length < zstd.compress(data, { level: 3 }).length);
        assert.deepEqual(await decodeBoth(zstd, frame, { ...LIMITS, dictionary }), data);
        const streamed = await streamCompress(zstd, data, { level: 3, dictionary }, 300);
        assert.deepEqual(await decodeBoth(zstd, streamed, { ...LIMITS, dictionary }), data);
      }
    },
  },
  {
    name: "frames with a content size decode, and a declared size over the limit fails at once",
    async run(zstd) {
      const data = enc.encode("declared size");
      assert.deepEqual(await decodeBoth(zstd, rawFrame(data, data.length), LIMITS), data);
      assert.deepEqual(await decodeBoth(zstd, rawFrame(data), LIMITS), data);
      await rejectsKind(() => zstd.decompress(rawFrame(data, 1 << 30), LIMITS), "too-large");
    },
  },
  {
    name: "the output limit is exact: the frame's size passes, one byte less fails",
    async run(zstd) {
      const frame = zstd.compress(corpusText, { level: 3 });
      const n = corpusText.length;
      assert.equal((await decodeBoth(zstd, frame, { ...LIMITS, maxOutputBytes: n })).length, n);
      await bothReject(zstd, frame, "too-large", n - 1);
      await bothReject(zstd, zstd.compress(enc.encode("x"), { level: 3 }), "too-large", 0);
    },
  },
  {
    name: "a zstd bomb (4 KiB expanding to 128 MiB) fails fast without passing the limit",
    async run(zstd) {
      const bomb = rleBomb(1024);
      const limit = 1 << 20;
      const started = performance.now();
      await bothReject(zstd, bomb, "too-large", limit);
      using d = zstd.decompressStream({ ...LIMITS, maxOutputBytes: limit });
      await rejectsKind(() => d.push(bomb), "too-large");
      // libzstd stops at limit + 1; node:zlib after at most one more 16 KiB chunk
      assert.ok(d.outputBytes <= limit + 16384, `produced ${d.outputBytes}`);
      await rejectsKind(() => d.push(bomb), "too-large");
      assert.ok(performance.now() - started < 2000, "bounded work");
    },
  },
  {
    name: "corrupt input is rejected: no magic, a reserved header bit, damaged blocks",
    async run(zstd) {
      await bothReject(zstd, enc.encode("this is not a zstd frame at all"), "corrupt");
      const reserved = rawFrame(enc.encode("abc"));
      reserved[4] = 0x08; // reserved bit of the frame header descriptor
      await bothReject(zstd, reserved, "corrupt");
      const damaged = rawFrame(enc.encode("abc"));
      damaged[6]! |= 0x06; // block type 3 (reserved)
      await bothReject(zstd, damaged, "corrupt");
    },
  },
  {
    name: "truncated frames are rejected wherever they are cut",
    async run(zstd) {
      const frame = zstd.compress(corpusText, { level: 3 });
      for (const cut of [1, 4, 5, 6, 10, frame.length >> 1, frame.length - 1]) {
        const part = frame.subarray(0, cut);
        await rejectsKind(() => zstd.decompress(part, LIMITS), "truncated");
        await rejectsKind(() => streamDecompress(zstd, part, LIMITS), "truncated");
      }
    },
  },
  {
    name: "bytes after the frame are rejected",
    async run(zstd) {
      const frame = zstd.compress(corpus[3]!, { level: 3 });
      await bothReject(zstd, concat([frame, frame]), "corrupt");
      await bothReject(zstd, concat([frame, new Uint8Array([0])]), "corrupt");
    },
  },
  {
    name: "a window above maxWindowBytes is rejected; 0 keeps libzstd's default limit",
    async run(zstd) {
      const big = rleBomb(2, 24); // declares a 16 MiB window
      const opts = { maxOutputBytes: 1 << 20, maxWindowBytes: 8 << 20 };
      await rejectsKind(() => zstd.decompress(big, opts), "window-too-large");
      await rejectsKind(() => streamDecompress(zstd, big, opts), "window-too-large");
      const ok = { ...opts, maxWindowBytes: 16 << 20 };
      assert.equal(zstd.decompress(big, ok).length, 256 << 10);
      assert.equal(zstd.decompress(big, { ...opts, maxWindowBytes: 0 }).length, 256 << 10);
      await rejectsKind(
        () => zstd.decompress(rleBomb(1, 28), { ...opts, maxWindowBytes: 0 }),
        "window-too-large",
      );
    },
  },
  {
    name: "a dictionary frame without its dictionary fails",
    async run(zstd) {
      const v = VECTORS.preset_dictionary_session;
      await rejectsKind(() => zstd.decompress(fromHex(v.compressed_hex), LIMITS), "corrupt");
    },
  },
  {
    name: "a closed dictionary is refused, but a stream that started with it finishes",
    async run(zstd) {
      const dictionary = zstd.loadDictionary(concat(corpus.slice(0, 20)));
      const c = zstd.compressStream({ level: 3, dictionary });
      const d = zstd.decompressStream({ ...LIMITS, dictionary });
      dictionary.close();
      dictionary.close();
      await rejectsKind(() => zstd.compress(corpus[1]!, { level: 3, dictionary }), "closed");
      const frame = concat([...await c.push(corpus[1]!), ...await c.finish()]);
      const plain = concat([...await d.push(frame), ...await d.finish()]);
      assert.deepEqual(plain, corpus[1]);
      await rejectsKind(() => c.push(corpus[1]!), "closed");
    },
  },
  {
    name: "training in a worker works where the backend can train, and fails cleanly elsewhere",
    async run(zstd) {
      const train = () => trainInWorker(corpus.slice(0, 1000), 4096, { timeoutMs: 60_000 });
      if (!zstd.canTrain) {
        assert.equal(zstd.train, undefined);
        await rejectsKind(train, "training");
        return;
      }
      const dict = await train();
      using dictionary = zstd.loadDictionary(dict);
      assert.notEqual(dictionary.id, 0);
      const frame = zstd.compress(corpus[1500]!, { level: 3, dictionary });
      assert.ok(frame.length < zstd.compress(corpus[1500]!, { level: 3 }).length);
      assert.deepEqual(zstd.decompress(frame, { ...LIMITS, dictionary }), corpus[1500]);
    },
  },
  {
    name: "a pledged size that does not match fails at finish",
    async run(zstd) {
      const c = zstd.compressStream({ level: 3, pledgedSize: 10 });
      await c.push(enc.encode("only five"));
      await assert.rejects(() => c.finish(), ZstdError);
    },
  },
];

function repeat(data: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let at = 0; at < size; at += data.length) out.set(data.subarray(0, size - at), at);
  return out;
}
