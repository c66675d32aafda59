/**
 * Temporary files for notify bodies too large to keep in memory
 * (`spoolThresholdBytes`, docs/operating.md#limits).
 *
 * @module
 */

import { joinPath } from "../portable.ts";
import type { FileHandle } from "node:fs/promises";
import { randomHex } from "../crypto/equal.ts";

type NodeFs = typeof import("node:fs");
type NodeFsPromises = typeof import("node:fs/promises");

let loading: Promise<NodeFsPromises> | null = null;
let syncFs: NodeFs | null = null;

/**
 * `node:fs`, imported when the first spool file is made or read: on Deno it
 * loads part of the Node compatibility layer (several MiB resident), which a
 * broadcaster that never spools does not need.
 */
function fsp(): Promise<NodeFsPromises> {
  return loading ??= Promise.all([import("node:fs"), import("node:fs/promises")]).then(
    ([fs, promises]) => {
      syncFs = fs;
      return promises;
    },
    (error) => {
      loading = null;
      throw error;
    },
  );
}

/** Why a spool file could not be used: `spool_full` is a 507, the rest 503. */
export type SpoolFailure = "spool_quota" | "spool_full" | "spool_unavailable";

/**
 * The spool directory could not take a message: the environment, not the
 * request (a full disk or quota is 507 Insufficient Storage, anything else
 * 503). The message says what, without paths.
 */
export class SpoolError extends Error {
  /** The HTTP status it maps to. */
  readonly status: 503 | 507;
  /** What failed. */
  readonly kind: SpoolFailure;

  /** Records the kind of failure and its cause. */
  constructor(kind: SpoolFailure, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SpoolError";
    this.kind = kind;
    this.status = kind === "spool_unavailable" ? 503 : 507;
  }

  /** Classifies a file-system error met while creating or writing a spool file. */
  static from(error: unknown): SpoolError {
    if (error instanceof SpoolError) return error;
    const code = (error as { code?: unknown } | null)?.code;
    if (code === "ENOSPC" || code === "EDQUOT") {
      return new SpoolError("spool_full", "Insufficient storage: the spool directory is full", {
        cause: error,
      });
    }
    return new SpoolError("spool_unavailable", "Spool directory unavailable", { cause: error });
  }
}

/** An open, exclusively created spool file. */
export class SpoolFile {
  readonly #path: string;
  #handle: FileHandle | null;

  private constructor(path: string, handle: FileHandle) {
    this.#path = path;
    this.#handle = handle;
  }

  /**
   * Creates a uniquely named file in `dir` (created if missing). The name is
   * random and the open is exclusive, so concurrent requests and processes
   * sharing the directory never collide.
   */
  static async create(dir: string): Promise<SpoolFile> {
    const path = joinPath(dir, `lonelypss-${randomHex(12)}.spool`);
    try {
      const { mkdir, open } = await fsp();
      await mkdir(dir, { recursive: true });
      const handle = await open(path, "wx", 0o600);
      return new SpoolFile(path, handle);
    } catch (error) {
      throw SpoolError.from(error);
    }
  }

  /** Where the file lives. */
  get path(): string {
    return this.#path;
  }

  /**
   * Appends all of `chunk` (looping over short writes).
   *
   * Synchronous on purpose: in Deno, awaiting an async file write per chunk
   * while a large request body is being read stalls both (measured: a 2 GiB
   * upload fell to ~3 MB/s after the first GiB, with the backlog held in
   * memory), while a synchronous write of one chunk to the page cache takes
   * tens of microseconds and keeps the intake linear (2 GiB in ~5 s).
   */
  write(chunk: Uint8Array): Promise<void> {
    if (this.#handle === null) return Promise.reject(new Error("Spool file is closed"));
    try {
      let done = 0;
      while (done < chunk.length) {
        // syncFs is loaded: create() awaited fsp() before this file existed.
        done += syncFs!.writeSync(this.#handle.fd, chunk, done, chunk.length - done);
      }
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(SpoolError.from(error));
    }
  }

  /** Closes the descriptor (the file stays until {@link SpoolFile.remove}). Idempotent. */
  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = null;
    await handle?.close();
  }

  /** Closes and deletes the file. Idempotent; never throws. */
  async remove(): Promise<void> {
    try {
      await this.close();
    } catch {
      // The file is deleted below either way.
    }
    await fsp().then(({ rm }) => rm(this.#path, { force: true })).catch(() => {});
  }
}

/** Bytes read from a spool file per stream chunk. */
const READ_CHUNK = 256 * 1024;

/**
 * How far a spool file still being written may be read (`./growing_spool.ts`): readers of a
 * message delivered while it arrives go through one, so they never pass what the writer has
 * released, and fail once the message is abandoned.
 */
export interface SpoolGate {
  /** Bytes from the start a reader may hand out now. */
  readonly readable: number;
  /** Bytes the writer has appended so far. */
  readonly written: number;
  /**
   * Resolves true once more than `position` bytes are readable — at least `atLeast` more, or
   * all there will be before the end is released — false when no more will come; rejects with
   * the reason once the message is abandoned. A reader that keeps up with the writer asks for
   * a good chunk at a time, not for each piece the writer appends.
   */
  waitBeyond(position: number, atLeast?: number): Promise<boolean>;
  /** Throws the reason if the message was abandoned (after a read that raced with it). */
  check(): void;
}

/**
 * A byte stream of `prefix` followed by the file at `path`, read on demand
 * through its own descriptor (so any number can run at once; it opens on the
 * first read, so a stream never read holds none). The descriptor closes at
 * the end, on error, and on cancel. It also says what it is made of
 * (`prefix`, `path`, `fileBytes`, `gate`), so a client that can read the file itself
 * sends it with Content-Length instead of reading the stream. With a `gate`, the file is
 * still being written: the stream reads only what the gate releases, and fails with the
 * gate's reason when the message is abandoned.
 */
export class FileStream extends ReadableStream<Uint8Array> {
  /** Bytes before the file's. */
  readonly prefix: Uint8Array;
  /** The file. */
  readonly path: string;
  /** How many of the file's bytes the stream carries (the whole file when unknown: -1). */
  readonly fileBytes: number;
  /** Set when the file is still being written (then `fileBytes` is known). */
  readonly gate: SpoolGate | null;

  /** A stream of `prefix` then the file's first `fileBytes` bytes (all when -1). */
  constructor(prefix: Uint8Array, path: string, fileBytes = -1, gate: SpoolGate | null = null) {
    let handle: FileHandle | null = null;
    let position = 0;
    let finished = false;
    const close = async () => {
      finished = true;
      const h = handle;
      handle = null;
      await h?.close().catch(() => {});
    };
    super({
      start(controller) {
        if (prefix.length > 0) controller.enqueue(prefix.slice());
      },
      async pull(controller) {
        if (finished) return;
        try {
          if (gate !== null && !await gate.waitBeyond(position, READ_CHUNK)) {
            await close();
            controller.close();
            return;
          }
          handle ??= await (await fsp()).open(path, "r");
          const limit = gate !== null ? gate.readable : fileBytes;
          const want = limit < 0 ? READ_CHUNK : Math.min(READ_CHUNK, limit - position);
          // A fresh buffer per chunk: the consumer may keep it.
          const buf = new Uint8Array(want);
          const { bytesRead } = want === 0
            ? { bytesRead: 0 }
            : await handle.read(buf, 0, buf.length, position);
          gate?.check();
          if (bytesRead === 0) {
            if (gate !== null) throw new Error("Spool file shorter than written");
            await close();
            controller.close();
            return;
          }
          position += bytesRead;
          controller.enqueue(buf.subarray(0, bytesRead));
        } catch (error) {
          await close();
          controller.error(error);
        }
      },
      cancel: close,
    }, { highWaterMark: 0 });
    this.prefix = prefix;
    this.path = path;
    this.fileBytes = fileBytes;
    this.gate = gate;
  }
}

/** A {@link FileStream} of `prefix` then the whole file at `path`. */
export function fileStream(prefix: Uint8Array, path: string): FileStream {
  return new FileStream(prefix, path);
}

/**
 * How far behind the writer a read of a growing spool file is done synchronously: bytes written
 * that recently are in the page cache, and a synchronous read of them costs a fraction of an
 * asynchronous one (measured on Deno, 1 GiB in 512 KiB reads: 0.07–0.09 s against 0.49 s of the
 * event loop's time through `node:fs/promises`), as the writes are synchronous for the same reason.
 */
export const RECENT_SPOOL_BYTES = 64 * 1024 * 1024;

/**
 * Reads up to `length` bytes at `position` of an open spool file into `buf`, synchronously: only
 * for bytes written within {@link RECENT_SPOOL_BYTES} (in the page cache). The bytes read.
 */
export function readRecentSync(
  fd: number,
  buf: Uint8Array,
  length: number,
  position: number,
): number {
  // syncFs is loaded: the file was created through fsp() first.
  return syncFs!.readSync(fd, buf, 0, length, position);
}

/**
 * Bytes `[start, end)` of the spool file at `path`, read synchronously (into `into` when given):
 * only for bytes written within {@link RECENT_SPOOL_BYTES}. Fails if the file is shorter.
 */
export function readRangeRecentSync(
  path: string,
  start: number,
  end: number,
  into?: Uint8Array,
): Uint8Array {
  const out = into ?? new Uint8Array(Math.max(0, end - start));
  const fd = syncFs!.openSync(path, "r");
  try {
    let done = 0;
    while (done < out.length) {
      const n = syncFs!.readSync(fd, out, done, out.length - done, start + done);
      if (n === 0) throw new Error("Spool file shorter than the message");
      done += n;
    }
    return out;
  } finally {
    syncFs!.closeSync(fd);
  }
}

/**
 * Reads bytes `[start, end)` of the file at `path` through a descriptor of its
 * own (a websocket part; at most a few MiB), into `into` when given (exactly
 * `end - start` bytes). Fails if the file is shorter.
 */
export async function readFileRange(
  path: string,
  start: number,
  end: number,
  into?: Uint8Array,
): Promise<Uint8Array> {
  const out = into ?? new Uint8Array(Math.max(0, end - start));
  const handle = await (await fsp()).open(path, "r");
  try {
    let done = 0;
    while (done < out.length) {
      const { bytesRead } = await handle.read(out, done, out.length - done, start + done);
      if (bytesRead === 0) throw new Error("Spool file shorter than the message");
      done += bytesRead;
    }
    return out;
  } finally {
    await handle.close();
  }
}
