/**
 * zstd on websockets (docs/protocol/zstd.md): which compressors a
 * connection has (id 1, a configured preset, dictionaries trained for it),
 * which one an outgoing message uses, decoding what the client sends, and
 * training from the connection's own traffic (docs/protocol/zstd.md#training, done for real
 * here: the reference never trains).
 *
 * The process holds one {@link Compression} (the backend, presets, the
 * training budget, a cache of shared compressed payloads); each connection
 * one {@link ConnectionCompression}.
 *
 * @module
 */

import { sha512 } from "../crypto/sha512.ts";
import type { HeldMessage } from "../core/message.ts";
import type { Logger } from "../log.ts";
import { loadZstd, trainInWorker, type Zstd, type ZstdDictionary } from "../compression/mod.ts";
import {
  type CompressionOptions,
  type CompressionSettings,
  compressionSettings,
  type ZstdPreset,
} from "./compression_options.ts";

export {
  COMPRESSION_DEFAULTS,
  type CompressionOptions,
  type CompressionSettings,
  type ZstdPreset,
} from "./compression_options.ts";

/** 2^64 − 1: "no upper bound" in ENABLE_ZSTD_*. */
export const NO_MAX_SIZE = 0xffff_ffff_ffff_ffffn;
/** The first id of a dictionary trained for a connection. */
export const FIRST_CUSTOM_ID = 65_536;

/** One compressor of a connection. */
export interface Compressor {
  /** Its id on the wire. */
  readonly id: number;
  /** Compression level. */
  readonly level: number;
  /** Smallest message length it is used for. */
  readonly minSize: number;
  /** Messages shorter than this use it; null = no bound. */
  readonly maxSize: number | null;
  /** The dictionary, if any. */
  readonly dictionary: ZstdDictionary | null;
  /** For id 1 and presets: the key of payloads shared across connections. */
  readonly shareKey: string | null;
}

/** A payload compressed for the wire. */
export interface Compressed {
  /** The zstd frame. */
  readonly bytes: Uint8Array;
  /** Its SHA-512 (what the wire signs). */
  readonly sha512: Uint8Array;
}

/**
 * The process-wide part: backend, presets, training budget, shared payloads.
 * The backend (libzstd on Deno and Bun) is loaded on first need, by the first
 * connection whose CONFIGURE asks for zstd, not at start: an idle broadcaster,
 * or one whose clients never compress, does not map the library (about 3.5
 * MiB resident on Deno).
 */
export class Compression {
  readonly settings: CompressionSettings;
  readonly #presetOptions: readonly ZstdPreset[];
  readonly #presets = new Map<number, { dictionary: ZstdDictionary; level: number }>();
  readonly #log: Logger;
  readonly #libraryPath: string | undefined;
  readonly #shared = new WeakMap<HeldMessage, Map<string, Promise<Compressed>>>();
  #sampleBytes = 0;
  /** The backend once {@link load} found one. */
  #zstd: Zstd | null = null;
  /** The one load (every later {@link load} waits for it). */
  #loading: Promise<boolean> | null = null;
  #closed = false;

  private constructor(
    settings: CompressionSettings,
    presets: readonly ZstdPreset[],
    log: Logger,
    lib?: string,
  ) {
    this.settings = settings;
    this.#presetOptions = presets;
    this.#log = log;
    this.#libraryPath = lib;
  }

  /**
   * Checks the settings; null when compression is off. Nothing is loaded yet:
   * see {@link load}.
   *
   * @throws {RangeError} for an invalid preset or setting
   */
  static create(options: CompressionOptions, log: Logger): Compression | null {
    const settings = compressionSettings(options);
    if (settings === null) return null;
    return new Compression(settings, options.presets ?? [], log, options.libraryPath);
  }

  /**
   * Loads the backend and the presets, once; false (with one log line saying
   * why, on the first call) when no backend is usable or this was closed —
   * then no compressor is ever announced.
   */
  load(): Promise<boolean> {
    this.#loading ??= this.#load();
    return this.#loading;
  }

  async #load(): Promise<boolean> {
    const zstd = await loadZstd(
      this.#libraryPath === undefined ? {} : { libraryPath: this.#libraryPath },
    );
    if ("unavailable" in zstd) {
      this.#log.warn(`zstd compression disabled: ${zstd.unavailable}`);
      return false;
    }
    if (this.#closed) {
      zstd.close();
      return false;
    }
    try {
      for (const preset of this.#presetOptions) {
        this.#presets.set(preset.id, {
          dictionary: zstd.loadDictionary(preset.dictionary),
          level: preset.level,
        });
      }
    } catch (error) {
      for (const { dictionary } of this.#presets.values()) dictionary.close();
      this.#presets.clear();
      zstd.close();
      this.#log.warn(`zstd compression disabled: a preset does not load (${String(error)})`);
      return false;
    }
    this.#zstd = zstd;
    if (this.settings.training && !zstd.canTrain) {
      this.#log.info(
        `zstd dictionary training is not available with ${zstd.name}; presets and id 1 only`,
      );
    }
    this.#log.debug("zstd compression available", { backend: zstd.name });
    return true;
  }

  /**
   * The backend; only after {@link load} resolved true.
   *
   * @throws {Error} before that
   */
  get zstd(): Zstd {
    if (this.#zstd === null) throw new Error("zstd is not loaded");
    return this.#zstd;
  }

  /** Whether connections may train dictionaries. */
  get canTrain(): boolean {
    return this.settings.training && this.#zstd !== null && this.#zstd.canTrain;
  }

  /** The preset with this id, if configured. */
  preset(id: number): { dictionary: ZstdDictionary; level: number } | undefined {
    return this.#presets.get(id);
  }

  /**
   * `message` compressed with `compressor` (whole, in memory). Payloads of id 1
   * and presets are shared by every connection delivering the same message.
   */
  compress(message: HeldMessage, bytes: Uint8Array, compressor: Compressor): Promise<Compressed> {
    const make = () => {
      const frame = this.zstd.compress(bytes, {
        level: compressor.level,
        dictionary: compressor.dictionary ?? undefined,
      });
      return { bytes: frame, sha512: sha512(frame) };
    };
    if (compressor.shareKey === null) return Promise.resolve(make());
    let byKey = this.#shared.get(message);
    if (byKey === undefined) this.#shared.set(message, byKey = new Map());
    let made = byKey.get(compressor.shareKey);
    if (made === undefined) {
      made = Promise.resolve().then(make);
      byKey.set(compressor.shareKey, made);
    }
    return made;
  }

  /** Takes `bytes` of the process-wide sample budget; false when it is spent. */
  takeSampleBytes(bytes: number): boolean {
    if (this.#sampleBytes + bytes > this.settings.maxSampleBytes) return false;
    this.#sampleBytes += bytes;
    return true;
  }

  /** Returns sample bytes to the budget. */
  returnSampleBytes(bytes: number): void {
    this.#sampleBytes -= bytes;
  }

  /** Trains a dictionary off the request thread. */
  train(samples: readonly Uint8Array[], dictBytes: number): Promise<Uint8Array> {
    return trainInWorker(samples, dictBytes, {
      timeoutMs: this.settings.trainTimeoutMs,
      ...(this.#libraryPath === undefined ? {} : { libraryPath: this.#libraryPath }),
    });
  }

  /** Diagnostics. */
  get log(): Logger {
    return this.#log;
  }

  /** Frees the presets and the backend (a load still running frees them when it ends). */
  close(): void {
    this.#closed = true;
    for (const { dictionary } of this.#presets.values()) dictionary.close();
    this.#presets.clear();
    this.#zstd?.close();
    this.#zstd = null;
  }
}

/** SHA-512 of `bytes` (the broadcaster's one implementation, `src/crypto`). */
export { sha512 };
