/**
 * Takes a notify message off the request stream (docs/protocol/http.md#notify): exact length (u64,
 * bigint), incremental SHA-512, memory or a spool file depending on the announced length. Nothing
 * is ever concatenated.
 *
 * @module
 */

import { sha512, sha512Stream } from "../crypto/sha512.ts";
import type { ByteBudget } from "../core/byte_budget.ts";
import { bytesEqual, concatParts } from "../protocol/mod.ts";
import { type ChunkReader, readChunk, UNREADABLE_BODY } from "./chunks.ts";
import type { HeldMessage, OutgoingBody } from "../core/message.ts";
import { SpoolError, SpoolFile } from "../core/spool.ts";
import { GrowingSpool, MessageAbandoned } from "../core/growing_spool.ts";
import { SpoolRangeReader } from "../core/spool_reader.ts";
import { StagedSpool } from "./_staged_spool.ts";

export type { HeldMessage, OutgoingBody } from "../core/message.ts";

/**
 * Messages up to this size are sent as one fresh byte array per subscriber:
 * copying them costs less than assembling a Blob from parts per request.
 */
export const SMALL_MESSAGE_BYTES = 64 * 1024;

/** Outcome of {@link takeMessage}. */
export type Intake =
  | { readonly ok: true; readonly message: HeldMessage }
  | {
    readonly ok: false;
    readonly reason: string;
    /** Set when the spool failed (507/503); otherwise the body was bad (400). */
    readonly spool?: SpoolError;
  };

/** Where large messages go. */
export interface IntakeLimits {
  /** Messages announcing at most this many bytes stay in memory. */
  readonly spoolThresholdBytes: number;
  /** Directory for spool files. */
  readonly spoolDir: string;
}

/** Spool bytes in use against a quota (`core/spool_budget.ts`). */
export interface SpoolReservations {
  /** Takes `bytes` if they fit; false otherwise. */
  reserve(bytes: number): boolean;
  /** Gives back what `reserve` took. */
  release(bytes: number): void;
}

/**
 * Reads exactly `length` message bytes: `first` (bytes that came with the
 * header) then the rest of `reader`. Stops reading as soon as the body is
 * longer than announced. On failure nothing is left on disk; on success the
 * caller must call `dispose` (in a finally). A throwing stream (client abort)
 * also leaves nothing behind. With `memory`, a message small enough to stay
 * in memory does so only if the budget has room for it (see
 * {@link MessageSink.open}).
 *
 * With `onSpooled`, a message that goes to a spool file is handed to it before its first byte is
 * read (see {@link MessageSink.early}): deliveries may start while the body arrives. That
 * message is the one returned on success; on any failure it is abandoned (its readers fail).
 */
export async function takeMessage(
  reader: ChunkReader,
  first: readonly Uint8Array[],
  length: bigint,
  claimedSha512: Uint8Array,
  limits: IntakeLimits,
  budget?: SpoolReservations,
  memory?: ByteBudget,
  onSpooled?: (message: HeldMessage) => void,
): Promise<Intake> {
  let sink: MessageSink;
  try {
    sink = await MessageSink.open(length, limits, budget, memory);
  } catch (error) {
    if (!(error instanceof SpoolError)) throw error;
    return { ok: false, reason: error.message, spool: error };
  }
  // A spooled message is copied out of each chunk at once: one buffer will do.
  if (sink.spooled) reader.reuseBuffers?.();
  let finished = false;
  if (sink.early !== null) onSpooled?.(sink.early);
  try {
    for (const chunk of first) {
      if (!await sink.write(chunk)) return { ok: false, reason: "Body longer than announced" };
    }
    for (;;) {
      const next = await readChunk(reader);
      if (next === null) return { ok: false, reason: UNREADABLE_BODY };
      if (next.done) break;
      if (!await sink.write(next.value)) return { ok: false, reason: "Body longer than announced" };
    }
    finished = true;
    return await sink.finish(claimedSha512);
  } catch (error) {
    if (!(error instanceof SpoolError)) throw error;
    return { ok: false, reason: error.message, spool: error };
  } finally {
    if (!finished) await sink.abort();
  }
}

/**
 * {@link takeMessage} for a message whole in memory already (`bytes`, the rest of a small request
 * body read at once): checked and held without a reader or an await. Null when it would not be
 * held in memory (beyond the threshold, or the memory budget is short) or its length is not the
 * announced one: {@link takeMessage} then takes it, with the same outcomes as always.
 */
export function takeWholeMessage(
  bytes: Uint8Array,
  length: bigint,
  claimedSha512: Uint8Array,
  limits: IntakeLimits,
  memory?: ByteBudget,
): Intake | null {
  const n = bytes.length;
  if (BigInt(n) !== length || n > SMALL_MESSAGE_BYTES || !reservedInMemory(n, limits, memory)) {
    return null;
  }
  if (!bytesEqual(sha512(bytes), claimedSha512)) {
    memory?.release(n);
    return { ok: false, reason: "Message SHA-512 does not match" };
  }
  const message = bytesMessage(bytes);
  return {
    ok: true,
    message: memory === undefined ? message : new Releasing(message, () => memory.release(n)),
  };
}

/**
 * A message arriving in pieces (a request body, or websocket parts): exact
 * length, incremental SHA-512, memory or a spool file by the announced
 * length. Ends with {@link MessageSink.finish} or {@link MessageSink.abort};
 * either way nothing is left on disk unless a message is handed out.
 */
export class MessageSink {
  readonly #length: bigint;
  /** In memory: the chunks, hashed at the end (one call for the usual single chunk). */
  readonly #chunks: Uint8Array[] = [];
  readonly #staged: StagedSpool | null;
  readonly #growing: GrowingSpool | null;
  /** A spooled message, readable while it grows; handed out by {@link finish}. */
  readonly #held: HeldMessage | null;
  /** The digest, once computed (by finishing, or for {@link finishComputed}). */
  #digest: Promise<Uint8Array> | null = null;
  /** Gives back the memory or spool bytes reserved for this message (once). */
  readonly #release: () => void;
  #received = 0n;
  #ended = false;

  private constructor(length: bigint, spool: SpoolFile | null, release: () => void) {
    this.#length = length;
    this.#staged = spool === null ? null : new StagedSpool(spool, length);
    this.#growing = spool === null ? null : new GrowingSpool(spool.path, Number(length));
    this.#release = release;
    this.#held = spool === null ? null : spooledMessage(spool, length, release, this.#growing!);
  }

  /**
   * Starts a message of `length` bytes: in memory up to the threshold while
   * `memory` (the budget for request bodies) can hold it with a quarter left
   * free for other requests; else spooled, after reserving its length in
   * `budget`.
   *
   * @throws {SpoolError} when the quota cannot take it or the file cannot be created
   */
  static async open(
    length: bigint,
    limits: IntakeLimits,
    budget?: SpoolReservations,
    memory?: ByteBudget,
  ): Promise<MessageSink> {
    const bytes = Number(length);
    if (reservedInMemory(bytes, limits, memory)) {
      return new MessageSink(
        length,
        null,
        memory === undefined ? noop : once(() => memory.release(bytes)),
      );
    }
    if (budget !== undefined && !budget.reserve(bytes)) {
      throw new SpoolError(
        "spool_quota",
        "Insufficient storage: the spool quota cannot hold this message now",
      );
    }
    const release = once(() => budget?.release(bytes));
    try {
      return new MessageSink(length, await SpoolFile.create(limits.spoolDir), release);
    } catch (error) {
      release();
      throw error;
    }
  }

  /** True when the message goes to a spool file (each chunk is copied, never kept). */
  get spooled(): boolean {
    return this.#staged !== null;
  }

  /**
   * A spooled message's file as it grows, for readers that start before the body ends: they
   * get every byte but the last ones until this sink's own SHA-512 matched, and fail if it does
   * not (or the body is cut, or the sink is aborted). Null for a message held in memory.
   */
  get growing(): GrowingSpool | null {
    return this.#growing;
  }

  /**
   * A spooled message as a {@link HeldMessage} that can be delivered before it is complete: its
   * bodies and parts read {@link growing}, so they stop short of the end until the hash matched
   * and fail if it does not. The same object {@link finish} returns on success; the owner must
   * dispose it either way. Null for a message held in memory.
   */
  get early(): HeldMessage | null {
    return this.#held;
  }

  /** Bytes taken so far. */
  get received(): bigint {
    return this.#received;
  }

  /** True once every announced byte arrived. */
  get complete(): boolean {
    return this.#received === this.#length;
  }

  /**
   * Appends `chunk`; false (and nothing kept) when it runs past the announced
   * length.
   *
   * @throws {SpoolError} when the spool file cannot take it (the message is then dropped)
   */
  async write(chunk: Uint8Array): Promise<boolean> {
    if (chunk.length === 0) return true;
    this.#received += BigInt(chunk.length);
    if (this.#received > this.#length) return false;
    if (this.#staged === null) {
      this.#chunks.push(chunk);
      return true;
    }
    try {
      await this.#staged.write(chunk);
      this.#growing?.wrote(chunk.length);
    } catch (error) {
      await this.abort();
      throw error;
    }
    return true;
  }

  /** Checks length and hash; the message on success (the caller disposes it). */
  async finish(claimedSha512: Uint8Array): Promise<Intake> {
    if (this.#received < this.#length) {
      await this.abort("Body shorter than announced");
      return { ok: false, reason: "Body shorter than announced" };
    }
    if (!bytesEqual(await this.#digestOnce(), claimedSha512)) {
      await this.abort("Message SHA-512 does not match");
      return { ok: false, reason: "Message SHA-512 does not match" };
    }
    this.#ended = true;
    this.#growing?.verify();
    const spool = this.#staged?.spool ?? null;
    if (spool === null && this.#length <= SMALL_MESSAGE_BYTES) {
      const message = bytesMessage(concatParts(this.#chunks, Number(this.#length)));
      return { ok: true, message: releasing(message, this.#release) };
    }
    if (spool === null) {
      // One copy into the Blob; subscribers' Blobs then reference it.
      const blob = new Blob(this.#chunks as Uint8Array<ArrayBuffer>[]);
      this.#chunks.length = 0;
      return { ok: true, message: releasing(blobMessage(blob), this.#release) };
    }
    await spool.close();
    return { ok: true, message: this.#held! };
  }

  /**
   * Ends a message whose hash nobody claimed (decompressed bytes): checks the
   * length and hands out the message with the SHA-512 computed on the way.
   */
  async finishComputed(): Promise<
    { ok: true; message: HeldMessage; sha512: Uint8Array } | { ok: false; reason: string }
  > {
    const sha512 = await this.#digestOnce();
    const done = await this.finish(sha512);
    return done.ok ? { ok: true, message: done.message, sha512 } : done;
  }

  /** The SHA-512 of what was received, computed once. */
  #digestOnce(): Promise<Uint8Array> {
    this.#digest ??= this.#staged === null
      ? Promise.resolve(digestOf(this.#chunks))
      : this.#staged.finish();
    return this.#digest;
  }

  /**
   * Drops what was received (deletes the spool file); readers of {@link growing} fail with
   * `reason`. Idempotent.
   */
  async abort(reason = "Message abandoned"): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    this.#growing?.abort(new MessageAbandoned(reason));
    this.#chunks.length = 0;
    await this.#staged?.abort();
    await this.#staged?.spool.remove();
    this.#release();
  }
}

/**
 * Whether a message of `bytes` stays in memory: within the threshold, and reserved in `memory`
 * (the budget for request bodies) if it has room with a quarter left free for other requests.
 */
function reservedInMemory(bytes: number, limits: IntakeLimits, memory?: ByteBudget): boolean {
  return bytes <= limits.spoolThresholdBytes &&
    (memory === undefined || memory.tryReserve(bytes, memory.max / 4));
}

function noop(): void {}

/** `fn`, callable any number of times, running once. */
function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

/** `message`, whose disposal also returns its share of the memory budget. */
function releasing(message: HeldMessage, release: () => void): HeldMessage {
  return release === noop ? message : new Releasing(message, release);
}

/**
 * A held message whose disposal also calls `release` (once). A class that delegates, rather
 * than a spread (a class's methods live on its prototype) or closures: one object per notify.
 */
class Releasing implements HeldMessage {
  readonly #message: HeldMessage;
  #release: (() => void) | null;
  readonly length: bigint;
  readonly inMemory: boolean;

  constructor(message: HeldMessage, release: () => void) {
    this.#message = message;
    this.#release = release;
    this.length = message.length;
    this.inMemory = message.inMemory;
  }

  withPrefix(prefix: Uint8Array): OutgoingBody {
    return this.#message.withPrefix(prefix);
  }

  read(start: number, end: number, into?: Uint8Array): Promise<Uint8Array> {
    return this.#message.read(start, end, into);
  }

  retain(): () => Promise<void> {
    return this.#message.retain();
  }

  dispose(): Promise<void> {
    const release = this.#release;
    this.#release = null;
    release?.();
    return this.#message.dispose();
  }
}

/** A message held as one byte array (copied per RECEIVE, shared by websocket parts). */
export function bytesMessage(bytes: Uint8Array): HeldMessage {
  return new BytesMessage(bytes);
}

/** A class rather than closures: one small object per notify on the hot path. */
class BytesMessage implements HeldMessage {
  readonly #bytes: Uint8Array;
  readonly length: bigint;
  readonly inMemory = true;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.length = BigInt(bytes.length);
  }

  withPrefix(prefix: Uint8Array): Uint8Array {
    const body = new Uint8Array(prefix.length + this.#bytes.length);
    body.set(prefix);
    body.set(this.#bytes, prefix.length);
    return body;
  }

  read(start: number, end: number, into?: Uint8Array): Promise<Uint8Array> {
    return Promise.resolve(copyInto(this.#bytes.subarray(start, end), into));
  }

  retain(): () => Promise<void> {
    return NOTHING_TO_RELEASE;
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}

const NOTHING_TO_RELEASE = () => Promise.resolve();

function blobMessage(blob: Blob): HeldMessage {
  return {
    length: BigInt(blob.size),
    inMemory: true,
    withPrefix: (prefix) => new Blob([prefix as Uint8Array<ArrayBuffer>, blob]),
    read: async (start, end, into) =>
      copyInto(new Uint8Array(await blob.slice(start, end).arrayBuffer()), into),
    retain: () => () => Promise.resolve(),
    dispose: () => Promise.resolve(),
  };
}

/**
 * The file goes once the owner has disposed and every retainer has released. Bodies and parts
 * read through `growing`, so they may start while the file is still written; a delivery's parts
 * through one descriptor (`parts`).
 */
function spooledMessage(
  spool: SpoolFile,
  length: bigint,
  unreserve: () => void,
  growing: GrowingSpool,
): HeldMessage {
  let holders = 1;
  let owned = true;
  /** Drops one holder; the last one deletes the file (the returned promise). */
  const release = (): Promise<void> =>
    --holders === 0 ? spool.remove().finally(unreserve) : Promise.resolve();
  return {
    length,
    inMemory: false,
    get abandoned() {
      return growing.state === "aborted";
    },
    withPrefix: (prefix) => growing.stream(prefix),
    read: (start, end, into) => growing.read(start, end, into),
    parts: () => new SpoolRangeReader(growing.path, growing),
    retain: () => {
      holders++;
      let released = false;
      return () => {
        if (released) return Promise.resolve();
        released = true;
        return release();
      };
    },
    dispose: () => {
      if (!owned) return Promise.resolve();
      owned = false;
      return release();
    },
  };
}

/** `bytes`, or `into` holding them when given. */
function copyInto(bytes: Uint8Array, into: Uint8Array | undefined): Uint8Array {
  if (into === undefined) return bytes;
  into.set(bytes);
  return into;
}

function digestOf(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return sha512(chunks[0]!);
  const hash = sha512Stream();
  for (const c of chunks) hash.update(c);
  return hash.digest();
}
