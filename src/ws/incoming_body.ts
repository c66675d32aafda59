/**
 * The body of one message a client publishes, taken as its parts arrive:
 * the bytes on the wire are counted and hashed against the declared
 * (compressed) length and SHA-512, and, when compressed, decompressed as they
 * come into memory or a spool file, never past the declared decompressed
 * length (so a zstd bomb stops early).
 *
 * @module
 */

import type { Context } from "../core/context.ts";
import { type Sha512Stream, sha512Stream } from "../crypto/sha512.ts";
import type { HeldMessage } from "../core/message.ts";
import { MessageSink } from "../intake/intake.ts";
import { SpoolError } from "../core/spool.ts";
import { bytesEqual } from "../protocol/mod.ts";
import { type StreamStart } from "../protocol/stateful/mod.ts";
import { ZstdError, type ZstdStreamDecompressor } from "../compression/mod.ts";
import { CloseCode, WsClose } from "./close.ts";
import type { Compressor } from "./compression.ts";
import type { ConnectionCompression } from "./conn_compression.ts";

/** A finished message and the SHA-512 of its (decompressed) bytes. */
export interface TakenMessage {
  /** The message as the fan-out holds it. */
  readonly message: HeldMessage;
  /** SHA-512 of the message as delivered. */
  readonly sha512: Uint8Array;
}

/** See the module doc. */
export class IncomingBody {
  readonly #start: StreamStart;
  /** The message type, for close reasons. */
  readonly #what: string;
  readonly #sink: MessageSink;
  readonly #decoder: ZstdStreamDecompressor | null;
  readonly #wireHash: Sha512Stream | null;
  #wireBytes = 0n;
  #ended = false;

  private constructor(
    what: string,
    start: StreamStart,
    sink: MessageSink,
    decoder: ZstdStreamDecompressor | null,
  ) {
    this.#what = what;
    this.#start = start;
    this.#sink = sink;
    this.#decoder = decoder;
    this.#wireHash = decoder === null ? null : sha512Stream();
  }

  /**
   * Starts a body of a `what` (NOTIFY, NOTIFY_STREAM); `compressor` is what it
   * was compressed with (null: plain).
   */
  static async open(
    what: string,
    start: StreamStart,
    compressor: Compressor | null,
    compression: ConnectionCompression | null,
    ctx: Context,
  ): Promise<IncomingBody> {
    const sink = await MessageSink.open(start.decompressedLength, ctx.limits, ctx.spool)
      .catch(spoolClose);
    if (compressor === null || compression === null) {
      return new IncomingBody(what, start, sink, null);
    }
    const { zstd, settings } = compression.service;
    const decoder = zstd.decompressStream({
      maxOutputBytes: Number(start.decompressedLength),
      maxWindowBytes: settings.maxWindowBytes,
      dictionary: compressor.dictionary ?? undefined,
    });
    return new IncomingBody(what, start, sink, decoder);
  }

  /** True once every declared byte on the wire has arrived. */
  get complete(): boolean {
    return this.#wireBytes === this.#start.compressedLength;
  }

  /** Takes the next bytes from the wire. */
  async write(bytes: Uint8Array): Promise<void> {
    this.#wireBytes += BigInt(bytes.length);
    if (this.#wireBytes > this.#start.compressedLength) {
      throw new WsClose(CloseCode.PROTOCOL, `${this.#what} longer than announced`);
    }
    if (this.#decoder === null) {
      await this.#sink.write(bytes).catch(spoolClose);
      return;
    }
    this.#wireHash!.update(bytes);
    const decoder = this.#decoder;
    await this.#keep(await decompressOrCloseAsync(() => decoder.push(bytes)));
  }

  /** Checks hashes and lengths and hands out the message (the caller disposes it). */
  async finish(): Promise<TakenMessage> {
    if (!this.complete) {
      throw new WsClose(CloseCode.PROTOCOL, `${this.#what} shorter than announced`);
    }
    if (this.#decoder === null) {
      const done = await this.#sink.finish(this.#start.compressedSha512);
      if (!done.ok) throw new WsClose(CloseCode.PROTOCOL, `${this.#what}: ${done.reason}`);
      this.#ended = true;
      return { message: done.message, sha512: this.#start.compressedSha512 };
    }
    const wire = this.#wireHash!.digest();
    if (!bytesEqual(wire, this.#start.compressedSha512)) {
      throw new WsClose(CloseCode.PROTOCOL, `${this.#what} SHA-512 does not match`);
    }
    const decoder = this.#decoder;
    await this.#keep(await decompressOrCloseAsync(() => decoder.finish()));
    if (!this.#sink.complete) {
      throw new WsClose(CloseCode.PROTOCOL, "Decompressed message shorter than announced");
    }
    const done = await this.#sink.finishComputed();
    if (!done.ok) throw new WsClose(CloseCode.PROTOCOL, done.reason);
    this.#ended = true;
    decoder.close();
    return { message: done.message, sha512: done.sha512 };
  }

  /** Drops what arrived (spool file, decoder); nothing once finished. Idempotent. */
  async abort(): Promise<void> {
    this.#decoder?.close();
    if (this.#ended) return;
    this.#ended = true;
    await this.#sink.abort();
  }

  async #keep(chunks: Uint8Array[]): Promise<void> {
    for (const chunk of chunks) {
      if (!await this.#sink.write(chunk).catch(spoolClose)) {
        throw new WsClose(CloseCode.PROTOCOL, "Decompressed message longer than announced");
      }
    }
  }
}

/** A spool that cannot take the message closes with 1013 (try again later) and its reason. */
function spoolClose(error: unknown): never {
  if (error instanceof SpoolError) {
    const limit = error.kind === "spool_quota" ? "spoolQuotaBytes" : undefined;
    throw new WsClose(CloseCode.TRY_AGAIN_LATER, error.message, limit);
  }
  throw error;
}

/** Runs a decompression; zstd's refusals become the close they call for. */
export function decompressOrClose<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw zstdClose(error);
  }
}

async function decompressOrCloseAsync<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw zstdClose(error);
  }
}

function zstdClose(error: unknown): unknown {
  if (!(error instanceof ZstdError)) return error;
  if (error.kind === "too-large") {
    return new WsClose(CloseCode.PROTOCOL, "Decompressed message longer than announced");
  }
  if (error.kind === "window-too-large") {
    return new WsClose(
      CloseCode.TOO_BIG,
      "zstd window larger than allowed",
      "compression.maxWindowBytes",
    );
  }
  return new WsClose(CloseCode.PROTOCOL, `Invalid zstd frame (${error.kind})`);
}
