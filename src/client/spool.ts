/**
 * Temp files for bodies too large to hold in memory: one directory per
 * client (removed by `close()`), one file per body, written while hashed.
 *
 * @module
 */

import { mkdtemp, open, rm } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha512Stream } from "../crypto/sha512.ts";
import type { Sha512Stream } from "../crypto/sha512.ts";

/** A directory of temp files owned by one client. */
export class SpoolDir {
  #dir: Promise<string> | null = null;
  #next = 0;
  readonly #base: string;

  /** Files go under `base` (default: the system's temp directory). */
  constructor(base?: string) {
    this.#base = base ?? tmpdir();
  }

  /** A fresh file path (the directory is created on first use). */
  async path(): Promise<string> {
    this.#dir ??= mkdtemp(join(this.#base, "lonelypsc-ts-"));
    return join(await this.#dir, `${this.#next++}.body`);
  }

  /** Removes the directory and everything left in it. Idempotent. */
  async remove(): Promise<void> {
    const dir = this.#dir;
    this.#dir = null;
    if (dir !== null) await rm(await dir, { recursive: true, force: true }).catch(() => {});
  }
}

/** Bytes written to a temp file while their SHA-512 is computed. */
export class SpoolWriter {
  readonly path: string;
  readonly #file: FileHandle;
  readonly #hash: Sha512Stream;
  /** Bytes written so far. */
  length = 0;

  private constructor(path: string, file: FileHandle, hash: Sha512Stream) {
    this.path = path;
    this.#file = file;
    this.#hash = hash;
  }

  /** Opens a new file in `dir`. */
  static async create(dir: SpoolDir): Promise<SpoolWriter> {
    const path = await dir.path();
    const file = await open(path, "w", 0o600);
    return new SpoolWriter(path, file, sha512Stream(true));
  }

  /** Appends `chunk` (which must not change until this resolves). */
  async write(chunk: Uint8Array): Promise<void> {
    await this.#hash.update(chunk);
    let at = 0;
    while (at < chunk.length) {
      const { bytesWritten } = await this.#file.write(chunk, at, chunk.length - at);
      at += bytesWritten;
    }
    this.length += chunk.length;
  }

  /** Closes the file; resolves to its SHA-512. */
  async finish(): Promise<Uint8Array> {
    await this.#file.close();
    return this.#hash.digest();
  }

  /** Closes and deletes the file (failure or abandon). */
  async discard(): Promise<void> {
    this.#hash.dispose();
    await this.#file.close().catch(() => {});
    await rm(this.path, { force: true }).catch(() => {});
  }
}

/** Reads a file as a stream of chunks of at most `chunkBytes`. */
export function readFileStream(path: string, chunkBytes = 256 * 1024): ReadableStream<Uint8Array> {
  let file: FileHandle | null = null;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      file ??= await open(path, "r");
      const buf = new Uint8Array(chunkBytes);
      const { bytesRead } = await file.read(buf, 0, chunkBytes, null);
      if (bytesRead === 0) {
        await file.close();
        file = null;
        controller.close();
        return;
      }
      controller.enqueue(buf.subarray(0, bytesRead));
    },
    async cancel() {
      await file?.close();
      file = null;
    },
  });
}
