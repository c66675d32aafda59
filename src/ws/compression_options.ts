/**
 * The options of zstd on websockets and their defaults, apart from the
 * compression code itself (`./compression.ts`), which the first websocket
 * upgrade loads: options are checked when the broadcaster is created.
 *
 * @module
 */

/** A preset dictionary agreed out of band (ids 2–65,535). */
export interface ZstdPreset {
  /** Compressor id, 2–65,535. */
  readonly id: number;
  /** The raw zstd dictionary. */
  readonly dictionary: Uint8Array;
  /** Compression level. */
  readonly level: number;
}

/** Compression settings (all optional). */
export interface CompressionOptions {
  /** Offer zstd to clients that ask for it. Default true. */
  readonly enabled?: boolean;
  /** libzstd to load (Deno, Bun); default the system's (`LONELYPSS_LIBZSTD` also works). */
  readonly libraryPath?: string;
  /** Preset dictionaries, announced to clients that ask for their id. */
  readonly presets?: readonly ZstdPreset[];
  /** Train dictionaries for clients that allow it. Default true (where the backend can). */
  readonly training?: boolean;
  /** Smallest message a preset or trained dictionary is used for, and sampled. Default 32. */
  readonly minSize?: number;
  /** Trained dictionaries are used (and samples taken) below this size; id 1 from it. Default 16,384. */
  readonly trainedMaxSize?: number;
  /** Sample bytes that trigger the first training (16 KiB dictionary, level 3). Default 100 KiB. */
  readonly lowWatermark?: number;
  /** Sample bytes that trigger the second (64 KiB, level 10). Default 10 MiB. */
  readonly highWatermark?: number;
  /** After two, retrain this often (with enough new samples), seconds. Default 86,400. */
  readonly retrainIntervalSeconds?: number;
  /** Sample bytes held for training across all connections. Default 64 MiB. */
  readonly maxSampleBytes?: number;
  /** Decoder window limit, bytes. Default 8 MiB. */
  readonly maxWindowBytes?: number;
  /** Largest decompressed length a client may declare; more → close 1009. Default 256 MiB. */
  readonly maxDecompressedBytes?: number;
  /** A training taking longer is abandoned, ms. Default 60,000. */
  readonly trainTimeoutMs?: number;
}

/** {@link CompressionOptions} with every default applied. */
export type CompressionSettings = Required<Omit<CompressionOptions, "libraryPath" | "presets">>;

/** The defaults of {@link CompressionOptions}. */
export const COMPRESSION_DEFAULTS: CompressionSettings = {
  enabled: true,
  training: true,
  minSize: 32,
  trainedMaxSize: 16_384,
  lowWatermark: 100 * 1024,
  highWatermark: 10 * 1024 * 1024,
  retrainIntervalSeconds: 86_400,
  maxSampleBytes: 64 * 1024 * 1024,
  maxWindowBytes: 8 * 1024 * 1024,
  maxDecompressedBytes: 256 * 1024 * 1024,
  trainTimeoutMs: 60_000,
};

/**
 * `options` with the defaults applied, or null when compression is off.
 *
 * @throws {RangeError} for an invalid option
 */
export function compressionSettings(options: CompressionOptions): CompressionSettings | null {
  const settings = { ...COMPRESSION_DEFAULTS, ...definedOnly(options) } as CompressionSettings;
  checkSettings(settings);
  if (!settings.enabled) return null;
  for (const preset of options.presets ?? []) {
    if (!Number.isInteger(preset.id) || preset.id < 2 || preset.id > 65_535) {
      throw new RangeError(`Invalid option: zstd preset id ${preset.id} is not in 2–65535`);
    }
  }
  return settings;
}

function checkSettings(s: CompressionSettings): void {
  for (const [key, value] of Object.entries(s)) {
    if (typeof value === "number" && (!Number.isFinite(value) || value <= 0)) {
      throw new RangeError(`Invalid option: compression.${key} must be a positive number`);
    }
  }
  if (s.lowWatermark > s.highWatermark) {
    throw new RangeError("Invalid option: compression.lowWatermark exceeds highWatermark");
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
