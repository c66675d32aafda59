/**
 * RECEIVE_STREAM: one delivery at a time, part by part. Part 0's
 * authorization is checked with the next broadcaster counter (later parts
 * consume nothing, as lonelypsc counts them); every non-final part is acknowledged with
 * CONTINUE_RECEIVE as soon as it is stored, the last with CONFIRM_RECEIVE
 * once the SHA-512 matches; then the body is decompressed if needed and
 * handed to every matching subscription.
 *
 * @module
 */

import { sha512 } from "../../crypto/sha512.ts";
import { bytesEqual } from "../../protocol/mod.ts";
import { type B2SReceiveStream, encodeS2B, type StreamStart } from "../../protocol/stateful/mod.ts";
import { ClientError } from "../errors.ts";
import { IncomingBody } from "../incoming.ts";
import { MemoryMessage, type Message } from "../message.ts";
import { now } from "../settings.ts";
import type { DeliveryHost } from "./context.ts";

const EMPTY = new Uint8Array(0);

interface InProgress {
  readonly identifier: Uint8Array;
  readonly start: StreamStart;
  readonly body: IncomingBody;
  next: number;
}

/** The delivery state of one connection. */
export class Deliveries {
  readonly #conn: DeliveryHost;
  #current: InProgress | null = null;

  /** For `conn`. */
  constructor(conn: DeliveryHost) {
    this.#conn = conn;
  }

  /** Whether a delivery is half received. */
  get busy(): boolean {
    return this.#current !== null;
  }

  /** Handles one RECEIVE_STREAM part. */
  async part(m: B2SReceiveStream): Promise<void> {
    const conn = this.#conn;
    const { ctx } = conn;
    let d = this.#current;
    if (m.partId === 0) {
      if (d !== null) {
        throw new ClientError("protocol", "RECEIVE_STREAM part 0 during another delivery");
      }
      const first = m.first;
      if (first === null) {
        throw new ClientError("protocol", "RECEIVE_STREAM part 0 without its start headers");
      }
      const url = conn.nextBroadcasterUrl();
      await conn.verify(
        {
          type: "receive",
          url,
          topic: first.topic,
          identifier: m.identifier,
          sha512: first.compressedSha512,
        },
        m.tracing,
        m.authorization,
        "RECEIVE_STREAM",
      );
      const limit = BigInt(ctx.maxMessageBytes);
      if (first.compressedLength > limit || first.decompressedLength > limit) {
        throw new ClientError("protocol", `Delivery over maxMessageBytes (${ctx.maxMessageBytes})`);
      }
      if (first.compressor === 0 && first.compressedLength !== first.decompressedLength) {
        throw new ClientError("protocol", "Uncompressed delivery with two different lengths");
      }
      if (first.compressor !== 0) ctx.compression.get(first.compressor);
      const start = {
        ...first,
        topic: first.topic.slice(),
        compressedSha512: first.compressedSha512.slice(),
      };
      const body = await IncomingBody.start(
        Number(first.compressedLength),
        ctx.spoolThresholdBytes,
        ctx.spool,
      );
      d = { identifier: m.identifier.slice(), start, body, next: 0 };
      this.#current = d;
    } else if (d === null || !bytesEqual(d.identifier, m.identifier) || m.partId !== d.next) {
      throw new ClientError("protocol", `Unexpected RECEIVE_STREAM part ${m.partId}`);
    }
    d.next = m.partId + 1;
    await d.body.push(m.body);
    const identifier = d.identifier;
    if (BigInt(d.body.received) < d.start.compressedLength) {
      const partId = m.partId;
      void conn.socket.send(async () => {
        const url = conn.nextSubscriberUrl();
        const authorization = await ctx.auth.toBroadcaster.authorize(
          { type: "stateful_continue_receive", identifier, partId, url },
          EMPTY,
          now(),
        );
        return encodeS2B({
          type: "continue_receive",
          identifier,
          partId,
          authorization,
          tracing: EMPTY,
        });
      }).catch(() => {});
      return;
    }
    this.#current = null;
    let message = await d.body.finish(d.start.topic, d.start.compressedSha512);
    void conn.socket.send(async () => {
      const url = conn.nextSubscriberUrl();
      const authorization = await ctx.auth.toBroadcaster.authorize(
        { type: "confirm_receive", identifier, numSubscribers: 1, url },
        EMPTY,
        now(),
      );
      return encodeS2B({
        type: "confirm_receive",
        identifier,
        authorization,
        tracing: EMPTY,
        numSubscribers: 1,
      });
    }).catch(() => {});
    if (d.start.compressor !== 0) {
      try {
        message = await this.#decompress(message, d.start);
      } catch (e) {
        await message.discard();
        throw e;
      }
    }
    ctx.registry.deliver(ctx.registry.matching(message.topic), message);
  }

  async #decompress(m: Message, start: StreamStart): Promise<Message> {
    const { ctx } = this.#conn;
    const c = ctx.compression.get(start.compressor);
    const zstd = ctx.compression.zstd!;
    const length = Number(start.decompressedLength);
    const opts = {
      maxOutputBytes: length,
      maxWindowBytes: ctx.compression.options.maxWindowBytes ?? 8 * 1024 * 1024,
      dictionary: c.dictionary,
    };
    try {
      if (m instanceof MemoryMessage && length <= ctx.spoolThresholdBytes) {
        const out = zstd.decompress(await m.bytes(), opts);
        if (out.length !== length) throw new Error(`${out.length} bytes, announced ${length}`);
        return new MemoryMessage(m.topic, sha512(out), out);
      }
      const out = await IncomingBody.start(length, ctx.spoolThresholdBytes, ctx.spool);
      using dec = zstd.decompressStream(opts);
      try {
        for await (const chunk of m.stream()) {
          for (const o of await dec.push(chunk)) await out.push(o);
        }
        for (const o of await dec.finish()) await out.push(o);
        return await out.finish(m.topic, null);
      } catch (e) {
        await out.discard();
        throw e;
      }
    } catch (e) {
      throw new ClientError("protocol", `Cannot decompress a delivery: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }

  /** Drops a half-received delivery. */
  async discard(): Promise<void> {
    const d = this.#current;
    this.#current = null;
    await d?.body.discard();
  }
}
