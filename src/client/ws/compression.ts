/**
 * zstd on the websocket, as the Python client does it: compression is asked
 * for in CONFIGURE; the broadcaster announces compressors (id 1: no
 * dictionary; 2–65 535: presets both sides hold; ≥ 65 536: dictionaries it
 * trained); the client decompresses deliveries with them and compresses its
 * own in-memory NOTIFYs with the announced compressor of smallest `minSize`
 * whose size range holds the message.
 *
 * @module
 */

import { loadZstd, type Zstd, type ZstdDictionary } from "../../compression/mod.ts";
import { ClientError } from "../errors.ts";

/** A preset dictionary agreed with the broadcaster's operator. */
export interface PresetDictionary {
  /** Compressor id, 2–65 535 (as configured on the broadcaster). */
  readonly id: number;
  /** The dictionary bytes. */
  readonly dictionary: Uint8Array;
}

/** Compression settings of the websocket client. */
export interface CompressionOptions {
  /** Ask for zstd (compressor id 1 and presets). */
  readonly enabled: boolean;
  /** Accept dictionaries the broadcaster trains for this connection. Default false. */
  readonly allowTraining?: boolean;
  /** Preset dictionaries this client holds. Default none. */
  readonly presets?: readonly PresetDictionary[];
  /** Preset id asked for in CONFIGURE (0: none). Default: the first preset's id, else 0. */
  readonly initialDictionary?: number;
  /** Largest zstd window accepted, bytes. Default 8 MiB. */
  readonly maxWindowBytes?: number;
}

/** An announced compressor. */
export interface Compressor {
  readonly id: number;
  readonly level: number;
  readonly minSize: number;
  readonly maxSize: bigint;
  readonly dictionary: ZstdDictionary | undefined;
}

/** The compressors of one connection plus the loaded backend. */
export class CompressorTable {
  readonly zstd: Zstd | null;
  readonly options: CompressionOptions;
  readonly #byId = new Map<number, Compressor>();
  readonly #presets: Map<number, ZstdDictionary>;

  private constructor(
    zstd: Zstd | null,
    options: CompressionOptions,
    presets: Map<number, ZstdDictionary>,
  ) {
    this.zstd = zstd;
    this.options = options;
    this.#presets = presets;
  }

  /**
   * Loads zstd when `options.enabled`.
   *
   * @throws {ClientError} `"invalid"` when zstd was asked for but cannot load
   */
  static async create(options: CompressionOptions): Promise<CompressorTable> {
    if (!options.enabled) return new CompressorTable(null, options, new Map());
    const zstd = await loadZstd();
    if ("unavailable" in zstd) throw new ClientError("invalid", `Compression: ${zstd.unavailable}`);
    const presets = new Map<number, ZstdDictionary>();
    for (const p of options.presets ?? []) {
      if (!(p.id >= 2 && p.id <= 65_535)) {
        throw new ClientError("invalid", `Invalid preset id: ${p.id}`);
      }
      presets.set(p.id, zstd.loadDictionary(p.dictionary));
    }
    return new CompressorTable(zstd, options, presets);
  }

  /** The `initialDict` to send in CONFIGURE. */
  get initialDictionary(): number {
    return this.options.initialDictionary ?? this.options.presets?.[0]?.id ?? 0;
  }

  /** Forgets the compressors of a connection that ended (presets are kept). */
  reset(): void {
    for (const c of this.#byId.values()) if (c.id >= 65_536) c.dictionary?.close();
    this.#byId.clear();
  }

  /** ENABLE_ZSTD_PRESET; throws {@link ClientError} `"protocol"` when it cannot be honoured. */
  enablePreset(id: number, level: number, minSize: number, maxSize: bigint): void {
    if (id === 0) return;
    if (this.zstd === null) {
      throw new ClientError("protocol", "ENABLE_ZSTD_PRESET without compression");
    }
    const dictionary = id === 1 ? undefined : this.#presets.get(id);
    if (id !== 1 && dictionary === undefined) {
      throw new ClientError("protocol", `ENABLE_ZSTD_PRESET for unknown preset ${id}`);
    }
    this.#byId.set(id, { id, level, minSize, maxSize, dictionary });
  }

  /** ENABLE_ZSTD_CUSTOM. */
  enableCustom(
    id: number,
    level: number,
    minSize: number,
    maxSize: bigint,
    dict: Uint8Array,
  ): void {
    if (this.zstd === null || !this.options.allowTraining) {
      throw new ClientError("protocol", "ENABLE_ZSTD_CUSTOM without training allowed");
    }
    this.#byId.get(id)?.dictionary?.close();
    this.#byId.set(id, { id, level, minSize, maxSize, dictionary: this.zstd.loadDictionary(dict) });
  }

  /** DISABLE_ZSTD_CUSTOM. */
  disable(id: number): void {
    const c = this.#byId.get(id);
    if (c === undefined) {
      throw new ClientError("protocol", `DISABLE_ZSTD_CUSTOM for unknown id ${id}`);
    }
    if (id >= 65_536) c.dictionary?.close();
    this.#byId.delete(id);
  }

  /** The compressor named by a delivery. */
  get(id: number): Compressor {
    const c = this.#byId.get(id);
    if (c === undefined || this.zstd === null) {
      throw new ClientError("protocol", `Delivery compressed with unannounced compressor ${id}`);
    }
    return c;
  }

  /** The compressor for an outgoing message of `length` bytes, or null. */
  pick(length: number): Compressor | null {
    let best: Compressor | null = null;
    for (const c of this.#byId.values()) {
      if (length < c.minSize || BigInt(length) >= c.maxSize) continue;
      if (best === null || c.minSize < best.minSize) best = c;
    }
    return best;
  }

  /** Frees everything. */
  close(): void {
    this.reset();
    for (const d of this.#presets.values()) d.close();
    this.zstd?.close();
  }
}
