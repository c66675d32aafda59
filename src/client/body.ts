/**
 * Outgoing bodies for `notify`: whatever the caller passes becomes a length,
 * a SHA-512 and a way to read the bytes (again, for a retry, where the source
 * allows it). A stream of unknown length or hash is spooled to a temp file
 * while it is hashed, never held whole in memory.
 *
 * @module
 */

import { rm } from "node:fs/promises";
import { bytesEqual } from "../protocol/mod.ts";
import { sha512, sha512Stream } from "../crypto/sha512.ts";
import { abortError, ClientError } from "./errors.ts";
import { readFileStream, type SpoolDir, SpoolWriter } from "./spool.ts";

/** What `notify` accepts as a body. */
export type NotifyBody = Uint8Array | string | Blob | ReadableStream<Uint8Array>;

/** Options of `notify`. */
export interface NotifyOptions {
  /** The body's length, when known (required with `sha512` to stream a body without spooling). */
  readonly length?: number;
  /** The body's SHA-512, when known (64 bytes; checked by the broadcaster). */
  readonly sha512?: Uint8Array;
  /** Aborts the notify. */
  readonly signal?: AbortSignal;
}

/** A body ready to send. */
export interface PreparedBody {
  /** Length in bytes. */
  readonly length: number;
  /** SHA-512 of the bytes. */
  readonly sha512: Uint8Array;
  /** The whole body when it is in memory. */
  readonly bytes: Uint8Array | null;
  /** Whether {@link PreparedBody.open} may be called more than once (a retry is possible). */
  readonly replayable: boolean;
  /** The bytes as a stream. */
  open(): ReadableStream<Uint8Array>;
  /** Releases a temp file. Idempotent. */
  release(): Promise<void>;
}

/**
 * Prepares `body`, hashing (and, for a stream without both `length` and
 * `sha512`, spooling) as needed.
 *
 * @throws {ClientError} `"invalid"` when a given length or hash does not fit the body
 */
export async function prepareBody(
  body: NotifyBody,
  opts: NotifyOptions,
  spool: SpoolDir,
): Promise<PreparedBody> {
  if (opts.sha512 !== undefined && opts.sha512.length !== 64) {
    throw new ClientError("invalid", `Invalid sha512 length: ${opts.sha512.length}, expected 64`);
  }
  if (typeof body === "string" || body instanceof Uint8Array) {
    const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
    checkLength(opts.length, bytes.length);
    const digest = opts.sha512 ?? sha512(bytes);
    return memory(bytes, digest);
  }
  if (body instanceof Blob) {
    checkLength(opts.length, body.size);
    const digest = opts.sha512 ?? await hashStream(body.stream(), opts.signal);
    return {
      length: body.size,
      sha512: digest,
      bytes: null,
      replayable: true,
      open: () => body.stream(),
      release: () => Promise.resolve(),
    };
  }
  if (opts.length !== undefined && opts.sha512 !== undefined) {
    return oneShot(body, opts.length, opts.sha512);
  }
  return await spoolStream(body, opts, spool);
}

function memory(bytes: Uint8Array, digest: Uint8Array): PreparedBody {
  return {
    length: bytes.length,
    sha512: digest,
    bytes,
    replayable: true,
    open: () =>
      new ReadableStream({
        start(c) {
          if (bytes.length > 0) c.enqueue(bytes);
          c.close();
        },
      }),
    release: () => Promise.resolve(),
  };
}

function checkLength(given: number | undefined, actual: number): void {
  if (given !== undefined && given !== actual) {
    throw new ClientError("invalid", `Body length ${actual} differs from options.length ${given}`);
  }
}

async function hashStream(
  s: ReadableStream<Uint8Array>,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  const hash = sha512Stream(true);
  try {
    for await (const chunk of s) {
      if (signal?.aborted) throw abortError(signal);
      await hash.update(chunk);
    }
    return hash.digest();
  } catch (e) {
    hash.dispose();
    throw e;
  }
}

/** A stream with a known length and hash, sent as it is read: it cannot be retried. */
function oneShot(
  body: ReadableStream<Uint8Array>,
  length: number,
  digest: Uint8Array,
): PreparedBody {
  let opened = false;
  return {
    length,
    sha512: digest,
    bytes: null,
    replayable: false,
    open() {
      if (opened) throw new ClientError("unavailable", "The body stream was already sent once");
      opened = true;
      return body;
    },
    release: () => Promise.resolve(),
  };
}

async function spoolStream(
  body: ReadableStream<Uint8Array>,
  opts: NotifyOptions,
  spool: SpoolDir,
): Promise<PreparedBody> {
  const writer = await SpoolWriter.create(spool);
  let digest: Uint8Array;
  try {
    for await (const chunk of body) {
      if (opts.signal?.aborted) throw abortError(opts.signal);
      await writer.write(chunk);
    }
    digest = await writer.finish();
  } catch (e) {
    await writer.discard();
    throw e;
  }
  const path = writer.path;
  const release = () => rm(path, { force: true }).catch(() => {});
  if (
    (opts.length !== undefined && opts.length !== writer.length) ||
    (opts.sha512 !== undefined && !bytesEqual(opts.sha512, digest))
  ) {
    await release();
    throw new ClientError("invalid", "The body stream does not match options.length/sha512");
  }
  return {
    length: writer.length,
    sha512: digest,
    bytes: null,
    replayable: true,
    open: () => readFileStream(path),
    release,
  };
}
