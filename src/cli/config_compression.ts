/**
 * The `compression` section of `lonelypss.json`: zstd on websockets. Paths
 * (preset dictionaries, libzstd) are resolved against the file's directory;
 * the dictionaries themselves are read when `serve` starts.
 *
 * @module
 */

import { readBytesFile } from "../portable.ts";
import { COMPRESSION_DEFAULTS, type CompressionOptions } from "../ws/mod.ts";
import { CliError, errorMessage } from "./errors.ts";

/** A preset as the file names it. */
export interface FilePreset {
  /** Compressor id, 2–65,535. */
  readonly id: number;
  /** Path of the raw zstd dictionary. */
  readonly dictionary: string;
  /** Compression level (default 3). */
  readonly level: number;
}

/** The section as parsed: `CompressionOptions` with presets as files. */
export type FileCompression = Omit<CompressionOptions, "presets"> & {
  readonly presets?: readonly FilePreset[];
};

const NUMBER_KEYS = Object.entries(COMPRESSION_DEFAULTS)
  .filter(([, v]) => typeof v === "number").map(([k]) => k);
const BOOLEAN_KEYS = ["enabled", "training"];
const KEYS = [...BOOLEAN_KEYS, ...NUMBER_KEYS, "libraryPath", "presets"];

/** Parses the section; `fail` names the field; `path` resolves file paths. */
export function parseCompression(
  raw: unknown,
  fail: (field: string, what: string) => never,
  path: (p: string) => string,
): FileCompression {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return fail('"compression"', "must be an object");
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(raw)) {
    const field = `"compression.${key}"`;
    if (!KEYS.includes(key)) fail(field, `is not an option (expected one of ${KEYS.join(", ")})`);
    if (BOOLEAN_KEYS.includes(key)) {
      if (typeof v !== "boolean") fail(field, "must be true or false");
      out[key] = v;
    } else if (NUMBER_KEYS.includes(key)) {
      if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
        fail(field, "must be a positive number");
      }
      out[key] = v;
    } else if (key === "libraryPath") {
      if (typeof v !== "string" || v === "") fail(field, "must be a non-empty path");
      out.libraryPath = path(v as string);
    } else {
      out.presets = parsePresets(v, fail, path);
    }
  }
  return out as FileCompression;
}

function parsePresets(
  v: unknown,
  fail: (field: string, what: string) => never,
  path: (p: string) => string,
): FilePreset[] {
  if (!Array.isArray(v)) return fail('"compression.presets"', "must be an array");
  const seen = new Set<number>();
  return v.map((p, i) => {
    const field = (sub = "") => `"compression.presets[${i}]${sub}"`;
    if (typeof p !== "object" || p === null) return fail(field(), "must be an object");
    const { id, dictionary, level = 3, ...rest } = p as Record<string, unknown>;
    if (Object.keys(rest).length > 0) {
      fail(
        field(),
        `has unknown keys ${Object.keys(rest).join(", ")} (expected id, dictionary, level)`,
      );
    }
    if (typeof id !== "number" || !Number.isInteger(id) || id < 2 || id > 65_535) {
      fail(field(".id"), "must be an integer from 2 to 65535");
    }
    if (seen.has(id as number)) fail(field(".id"), `repeats id ${id}`);
    seen.add(id as number);
    if (typeof dictionary !== "string" || dictionary === "") {
      fail(field(".dictionary"), "must be the path of a zstd dictionary file");
    }
    if (typeof level !== "number" || !Number.isInteger(level) || level < -7 || level > 22) {
      fail(field(".level"), "must be an integer from -7 to 22");
    }
    return { id: id as number, dictionary: path(dictionary as string), level: level as number };
  });
}

/**
 * Reads the preset dictionaries: the options `createBroadcaster` takes.
 *
 * @throws {CliError} naming a dictionary file that cannot be read
 */
export async function loadCompression(section: FileCompression): Promise<CompressionOptions> {
  const presets = [];
  for (const p of section.presets ?? []) {
    let dictionary: Uint8Array;
    try {
      dictionary = await readBytesFile(p.dictionary);
    } catch (e) {
      throw new CliError(`Cannot read zstd dictionary ${p.dictionary}: ${errorMessage(e)}`, 1, {
        cause: e,
      });
    }
    presets.push({ id: p.id, level: p.level, dictionary });
  }
  return { ...section, presets };
}
