/**
 * Publishing over a websocket (docs/protocol/websocket.md#publishing): NOTIFY in one
 * message, NOTIFY_STREAM in parts (each part authorized, the body hashed as
 * it comes and spooled above the spool threshold), then the same fan-out as
 * an HTTP notify and CONFIRM_NOTIFY with its count.
 *
 * @module
 */

import type { Context } from "../core/context.ts";
import { fanOut } from "../fanout/fanout.ts";
import { bytesMessage } from "../intake/intake.ts";
import { bytesEqual } from "../protocol/mod.ts";
import { encodeB2S, type S2BMessage, type StreamStart } from "../protocol/stateful/mod.ts";
import type { HeldMessage } from "../core/message.ts";
import { authClose, CloseCode, WsClose } from "./close.ts";
import { type Compressor, sha512 } from "./compression.ts";
import type { ConnectionCompression } from "./conn_compression.ts";
import { decompressOrClose, IncomingBody } from "./incoming_body.ts";
import type { Sender } from "./sender.ts";

const EMPTY = new Uint8Array(0);
const U32_MAX = 0xffff_ffff;

type NotifyMessage = Extract<S2BMessage, { type: "notify" | "notify_stream" }>;

interface Stream {
  readonly identifier: Uint8Array;
  readonly tracing: Uint8Array;
  readonly first: StreamStart;
  readonly body: IncomingBody;
  nextPart: number;
}

/** A connection's publishing side: at most one NOTIFY_STREAM in progress. */
export class NotifyIntake {
  readonly #ctx: Context;
  readonly #compression: () => ConnectionCompression | null;
  #stream: Stream | null = null;
  #aborted = false;

  /** For one connection; `compression` gives its compressors (null: none announced). */
  constructor(ctx: Context, compression: () => ConnectionCompression | null = () => null) {
    this.#ctx = ctx;
    this.#compression = compression;
  }

  /** Handles one NOTIFY or NOTIFY_STREAM part; answers go through `sender`. */
  async handle(msg: S2BMessage, sender: Sender): Promise<void> {
    if (msg.type === "notify") return await this.#notify(msg, sender);
    if (msg.type === "notify_stream") return await this.#part(msg, sender);
    throw new WsClose(CloseCode.PROTOCOL, `Unexpected ${msg.type} message`);
  }

  /** Drops a partial stream (its spool file included). */
  async abort(): Promise<void> {
    this.#aborted = true;
    const stream = this.#stream;
    this.#stream = null;
    await stream?.body.abort();
  }

  async #notify(msg: Extract<NotifyMessage, { type: "notify" }>, sender: Sender): Promise<void> {
    const decoder = this.#check(msg);
    if (BigInt(msg.body.length) !== msg.compressedLength) {
      throw new WsClose(CloseCode.PROTOCOL, "NOTIFY body length differs from its header");
    }
    await this.#verify(msg.tracing, msg.topic, msg.identifier, msg.compressedSha512, msg);
    const compressedSha512 = sha512(msg.body);
    if (!bytesEqual(compressedSha512, msg.compressedSha512)) {
      throw new WsClose(CloseCode.PROTOCOL, "NOTIFY SHA-512 does not match");
    }
    if (decoder === null) {
      // A plain NOTIFY is a training sample as much as a decompressed one
      // (docs/protocol/zstd.md#training).
      this.#compression()?.sample(msg.body);
      return await this.#publish(
        msg.identifier,
        msg.topic,
        compressedSha512,
        bytesMessage(msg.body),
        sender,
      );
    }
    const { service } = this.#compression()!;
    if (msg.decompressedLength <= BigInt(this.#ctx.limits.spoolThresholdBytes)) {
      // One frame, in memory: decompressed in one call.
      const plain = decompressOrClose(() =>
        service.zstd.decompress(msg.body, {
          maxOutputBytes: Number(msg.decompressedLength),
          maxWindowBytes: service.settings.maxWindowBytes,
          dictionary: decoder.dictionary ?? undefined,
        })
      );
      if (BigInt(plain.length) !== msg.decompressedLength) {
        throw new WsClose(CloseCode.PROTOCOL, "NOTIFY decompressed shorter than announced");
      }
      this.#compression()?.sample(plain);
      return await this.#publish(
        msg.identifier,
        msg.topic,
        sha512(plain),
        bytesMessage(plain),
        sender,
      );
    }
    const body = await IncomingBody.open("NOTIFY", msg, decoder, this.#compression(), this.#ctx);
    try {
      await body.write(msg.body);
      const done = await body.finish();
      await this.#publish(msg.identifier, msg.topic, done.sha512, done.message, sender);
    } finally {
      await body.abort();
    }
  }

  async #part(msg: Extract<NotifyMessage, { type: "notify_stream" }>, sender: Sender) {
    let stream = this.#stream;
    if (msg.partId === 0) {
      if (stream !== null) throw new WsClose(CloseCode.PROTOCOL, "NOTIFY_STREAM already open");
      const first = msg.first!;
      const decoder = this.#check(first);
      await this.#verify(msg.tracing, first.topic, msg.identifier, first.compressedSha512, msg);
      const body = await IncomingBody.open(
        "NOTIFY_STREAM",
        first,
        decoder,
        this.#compression(),
        this.#ctx,
      );
      if (this.#aborted) {
        // The connection ended while this part was verified or its spool file
        // created: abort() found no stream to drop, so the file is ours to delete.
        await body.abort();
        return;
      }
      stream = { identifier: msg.identifier, tracing: msg.tracing, first, body, nextPart: 0 };
      this.#stream = stream;
    } else {
      if (stream === null) {
        throw new WsClose(CloseCode.PROTOCOL, "NOTIFY_STREAM part without start");
      }
      if (!bytesEqual(stream.identifier, msg.identifier) || msg.partId !== stream.nextPart) {
        throw new WsClose(CloseCode.PROTOCOL, "NOTIFY_STREAM part out of order");
      }
      // Every part carries its own authorization over the first part's fields.
      const { topic, compressedSha512 } = stream.first;
      await this.#verify(stream.tracing, topic, stream.identifier, compressedSha512, msg);
    }
    stream.nextPart++;
    await stream.body.write(msg.body);
    if (!stream.body.complete) {
      const { ctx } = { ctx: this.#ctx };
      const authorization = await ctx.auth.toSubscriber.authorize(
        { type: "stateful_continue_notify", identifier: msg.identifier, partId: msg.partId },
        EMPTY,
        ctx.now(),
      );
      sender.send(encodeB2S({
        type: "continue_notify",
        identifier: msg.identifier,
        partId: msg.partId,
        authorization,
        tracing: EMPTY,
      }));
      return;
    }
    this.#stream = null;
    try {
      const done = await stream.body.finish();
      await this.#publish(stream.identifier, stream.first.topic, done.sha512, done.message, sender);
    } finally {
      await stream.body.abort();
    }
  }

  /**
   * Checks a message's start headers; returns the compressor it used (null
   * for none), which must be one announced on this connection.
   */
  #check(start: StreamStart): Compressor | null {
    if (start.compressor === 0) {
      if (start.compressedLength !== start.decompressedLength) {
        throw new WsClose(CloseCode.PROTOCOL, "Uncompressed message with two different lengths");
      }
      return null;
    }
    const decoder = this.#compression()?.decoder(start.compressor);
    if (decoder === undefined) {
      throw new WsClose(CloseCode.PROTOCOL, `Compressor ${start.compressor} was not announced`);
    }
    if (start.compressedLength === 0n) {
      throw new WsClose(CloseCode.PROTOCOL, "A compressed message cannot be empty");
    }
    const max = this.#compression()!.service.settings.maxDecompressedBytes;
    if (start.decompressedLength > BigInt(max)) {
      throw new WsClose(
        CloseCode.TOO_BIG,
        "Declared decompressed length over the limit",
        "compression.maxDecompressedBytes",
      );
    }
    return decoder;
  }

  async #verify(
    tracing: Uint8Array,
    topic: Uint8Array,
    identifier: Uint8Array,
    sha512: Uint8Array,
    msg: NotifyMessage,
  ): Promise<void> {
    const ctx = this.#ctx;
    const verdict = await ctx.auth.toBroadcaster.verify(
      { type: "notify", topic, identifier, sha512 },
      tracing,
      msg.authorization,
      ctx.now(),
    );
    if (verdict !== "ok") throw authClose(verdict, "NOTIFY");
  }

  /** Fans out (webhooks, other broadcasters, local websockets) and confirms with the count. */
  async #publish(
    identifier: Uint8Array,
    topic: Uint8Array,
    sha512: Uint8Array,
    message: HeldMessage,
    sender: Sender,
  ): Promise<void> {
    const ctx = this.#ctx;
    // Deliveries (this connection's own included) go out during the fan-out;
    // the confirmation follows it (the order between them is not fixed).
    let count: number | "unavailable";
    try {
      count = await fanOut(ctx, { topic, sha512, message });
    } finally {
      await message.dispose();
    }
    if (count === "unavailable") {
      throw new WsClose(CloseCode.TRY_AGAIN_LATER, "Storage unavailable");
    }
    const subscribers = Math.min(count, U32_MAX);
    // The hash of the message as delivered, on every path
    // (docs/decisions.md#confirm_notifys-hash).
    const authorization = await ctx.auth.toSubscriber.authorize(
      { type: "confirm_notify", identifier, subscribers, topic, sha512 },
      EMPTY,
      ctx.now(),
    );
    sender.send(encodeB2S({
      type: "confirm_notify",
      identifier,
      subscribers,
      authorization,
      tracing: EMPTY,
    }));
  }
}
