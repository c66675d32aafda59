/**
 * One connection's compressors (docs/protocol/zstd.md#negotiation to
 * docs/protocol/zstd.md#training): what was announced to it, which compressor an outgoing message
 * uses, which ids its messages may use, and the dictionaries trained from its traffic.
 *
 * Announcements are counter-bound messages, queued like every other; a
 * compressor is used for outgoing messages only once its announcement is on
 * the wire, and stops being used as soon as its withdrawal is queued.
 *
 * @module
 */

import type { Context } from "../core/context.ts";
import { encodeB2S } from "../protocol/stateful/mod.ts";
import {
  type Compression,
  type Compressor,
  FIRST_CUSTOM_ID,
  NO_MAX_SIZE,
  sha512,
} from "./compression.ts";

const EMPTY = new Uint8Array(0);
/** How many withdrawn custom dictionaries stay decodable (a client may still use them). */
const RETIRED_KEPT = 2;

/** Queues a counter-bound message: `make` builds it with its pseudo-url when its turn comes. */
export type QueueControl = (
  make: (url: string) => Promise<Uint8Array>,
  onSent?: () => void,
) => void;

/** What CONFIGURE asked for. */
export interface CompressionRequest {
  /** `x-enable-training`. */
  readonly enableTraining: boolean;
  /** `x-initial-dict`: a preset id (≥ 2) to announce if configured. */
  readonly initialDict: number;
}

/** A connection's compression state. */
export class ConnectionCompression {
  readonly #service: Compression;
  readonly #ctx: Context;
  readonly #queue: QueueControl;
  readonly #training: boolean;
  /** Usable for outgoing messages, in the order announced. */
  readonly #active: Compressor[] = [];
  /** Every id the client may use (announced, or recently withdrawn). */
  readonly #decoders = new Map<number, Compressor>();
  readonly #retired: Compressor[] = [];
  /** Announced but not on the wire yet (their dictionaries are freed if they never go out). */
  readonly #announcing = new Set<Compressor>();
  #samples: Uint8Array[] = [];
  #sampleBytes = 0;
  #sinceLastTraining = 0;
  #trainings = 0;
  #lastTrainingAt = 0;
  #inTraining = false;
  #nextId = FIRST_CUSTOM_ID;
  #closed = false;

  /**
   * Announces id 1 and the preset asked for (an unknown preset is ignored,
   * docs/decisions.md#unknown-presets).
   */
  constructor(
    service: Compression,
    ctx: Context,
    request: CompressionRequest,
    queue: QueueControl,
  ) {
    this.#service = service;
    this.#ctx = ctx;
    this.#queue = queue;
    this.#training = request.enableTraining && service.canTrain;
    const s = service.settings;
    this.#announce({
      id: 1,
      level: 3,
      minSize: s.trainedMaxSize,
      maxSize: null,
      dictionary: null,
      shareKey: "1",
    });
    const preset = request.initialDict >= 2 ? service.preset(request.initialDict) : undefined;
    if (preset !== undefined) {
      this.#announce({
        id: request.initialDict,
        level: preset.level,
        minSize: s.minSize,
        maxSize: null,
        dictionary: preset.dictionary,
        shareKey: `p${request.initialDict}`,
      });
    }
  }

  /** The backend. */
  get service(): Compression {
    return this.#service;
  }

  /** The compressor for an outgoing message of `length` bytes: the latest whose range fits. */
  choose(length: number): Compressor | null {
    for (let i = this.#active.length - 1; i >= 0; i--) {
      const c = this.#active[i]!;
      if (length >= c.minSize && (c.maxSize === null || length < c.maxSize)) return c;
    }
    return null;
  }

  /** The compressor a client message says it used, if this connection has it. */
  decoder(id: number): Compressor | undefined {
    return this.#decoders.get(id);
  }

  /** How many custom dictionaries are announced and in use. */
  get customCount(): number {
    return this.#active.filter((c) => c.id >= FIRST_CUSTOM_ID).length;
  }

  /**
   * Offers a message (either direction, uncompressed) as a training sample;
   * trains when a watermark or the retrain interval says so.
   */
  sample(bytes: Uint8Array): void {
    const s = this.#service.settings;
    if (!this.#training || this.#closed) return;
    if (bytes.length < s.minSize || bytes.length >= s.trainedMaxSize) return;
    // After the second dictionary the samples roll: the newest within the cap.
    while (this.#trainings >= 2 && this.#sampleBytes + bytes.length > s.highWatermark) {
      const old = this.#samples.shift();
      if (old === undefined) break;
      this.#sampleBytes -= old.length;
      this.#service.returnSampleBytes(old.length);
    }
    // Before it, collection stops once the high watermark is reached (and
    // the second training starts).
    if (this.#sampleBytes >= s.highWatermark) return;
    if (!this.#service.takeSampleBytes(bytes.length)) return;
    this.#samples.push(bytes.slice());
    this.#sampleBytes += bytes.length;
    this.#sinceLastTraining += bytes.length;
    this.#maybeTrain();
  }

  /** Frees the dictionaries trained for this connection and its samples. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#service.returnSampleBytes(this.#sampleBytes);
    this.#samples = [];
    this.#sampleBytes = 0;
    for (const c of [...this.#decoders.values(), ...this.#announcing]) {
      if (c.id >= FIRST_CUSTOM_ID) c.dictionary?.close();
    }
    this.#decoders.clear();
    this.#announcing.clear();
    this.#active.length = 0;
  }

  #maybeTrain(): void {
    if (this.#inTraining) return;
    const s = this.#service.settings;
    let target: { bytes: number; level: number } | null = null;
    if (this.#trainings === 0 && this.#sampleBytes >= s.lowWatermark) {
      target = { bytes: 16_384, level: 3 };
    } else if (this.#trainings === 1 && this.#sampleBytes >= s.highWatermark) {
      target = { bytes: 65_536, level: 10 };
    } else if (
      this.#trainings >= 2 && this.#sinceLastTraining >= s.lowWatermark &&
      Date.now() - this.#lastTrainingAt >= s.retrainIntervalSeconds * 1000
    ) {
      target = { bytes: 65_536, level: 10 };
    }
    if (target === null) return;
    this.#inTraining = true;
    const samples = this.#samples.slice();
    // zstd's trainer wants far more samples than dictionary: a small sample
    // set (low watermarks) gets a smaller dictionary.
    const dictBytes = Math.min(target.bytes, Math.max(1024, Math.floor(this.#sampleBytes / 4)));
    void this.#service.train(samples, dictBytes).then(
      (dictionary) => this.#trained(dictionary, target.level),
      (error) => this.#service.log.warn("Dictionary training failed", { error }),
    ).catch((error) =>
      // e.g. the dictionary would not load: never an unhandled rejection
      this.#service.log.warn("Trained dictionary not used", { error })
    ).finally(() => {
      this.#inTraining = false;
      this.#trainings++;
      this.#lastTrainingAt = Date.now();
      this.#sinceLastTraining = 0;
      // The high watermark may have been reached meanwhile: the samples that
      // would notice it are refused now (collection has stopped), so look here.
      if (!this.#closed) this.#maybeTrain();
    });
  }

  #trained(bytes: Uint8Array, level: number): void {
    if (this.#closed) return;
    const s = this.#service.settings;
    const compressor: Compressor = {
      id: this.#nextId++,
      level,
      minSize: s.minSize,
      maxSize: s.trainedMaxSize,
      dictionary: this.#service.zstd.loadDictionary(bytes),
      shareKey: null,
    };
    this.#ctx.log.debug("Trained a dictionary", { id: compressor.id, bytes: bytes.length });
    this.#announce(compressor, bytes);
  }

  /** Queues the announcement; the compressor is used once it has gone out. */
  #announce(c: Compressor, dictionary?: Uint8Array): void {
    const ctx = this.#ctx;
    this.#announcing.add(c);
    this.#queue(async (url) => {
      const common = { level: c.level, minSize: c.minSize, maxSize: maxSizeOf(c) };
      if (dictionary === undefined) {
        const authorization = await ctx.auth.toSubscriber.authorize(
          { type: "stateful_enable_zstd_preset", url, compressorId: c.id, ...common },
          EMPTY,
          ctx.now(),
        );
        return encodeB2S({
          type: "enable_zstd_preset",
          identifier: c.id,
          compressionLevel: c.level,
          minSize: c.minSize,
          maxSize: maxSizeOf(c),
          authorization,
          tracing: EMPTY,
        });
      }
      const dictionarySha512 = sha512(dictionary);
      const authorization = await ctx.auth.toSubscriber.authorize(
        {
          type: "stateful_enable_zstd_custom",
          url,
          compressorId: c.id,
          ...common,
          dictionarySha512,
        },
        EMPTY,
        ctx.now(),
      );
      return encodeB2S({
        type: "enable_zstd_custom",
        identifier: c.id,
        compressionLevel: c.level,
        minSize: c.minSize,
        maxSize: maxSizeOf(c),
        sha512: dictionarySha512,
        authorization,
        tracing: EMPTY,
        dictionary,
      });
    }, () => {
      this.#announcing.delete(c);
      if (this.#closed) {
        if (c.id >= FIRST_CUSTOM_ID) c.dictionary?.close();
        return;
      }
      this.#active.push(c);
      this.#decoders.set(c.id, c);
      if (c.id >= FIRST_CUSTOM_ID && this.customCount > 2) this.#withdrawOldestCustom();
    });
  }

  /** At most two custom dictionaries: the oldest goes with DISABLE_ZSTD_CUSTOM. */
  #withdrawOldestCustom(): void {
    const at = this.#active.findIndex((c) => c.id >= FIRST_CUSTOM_ID);
    const [old] = this.#active.splice(at, 1);
    if (old === undefined) return;
    const ctx = this.#ctx;
    this.#queue(async (url) => {
      const authorization = await ctx.auth.toSubscriber.authorize(
        { type: "stateful_disable_zstd_custom", compressorId: old.id, url },
        EMPTY,
        ctx.now(),
      );
      return encodeB2S({
        type: "disable_zstd_custom",
        identifier: old.id,
        authorization,
        tracing: EMPTY,
      });
    });
    // Messages the client compressed before it saw the withdrawal still decode.
    this.#retired.push(old);
    while (this.#retired.length > RETIRED_KEPT) {
      const gone = this.#retired.shift()!;
      this.#decoders.delete(gone.id);
      gone.dictionary?.close();
    }
  }
}

function maxSizeOf(c: Compressor): bigint {
  return c.maxSize === null ? NO_MAX_SIZE : BigInt(c.maxSize);
}
