/**
 * NOTIFY over the websocket: one frame when the (possibly compressed) body
 * is in memory and fits `maxFrameBytes`, else NOTIFY_STREAM parts, each
 * signed afresh. At most {@link NOTIFY_WINDOW} parts are sent ahead of their
 * CONTINUE_NOTIFY, so a huge body never piles up in the socket's buffer.
 *
 * @module
 */

import { sha512 } from "../../crypto/sha512.ts";
import { bytesEqual } from "../../protocol/mod.ts";
import { type B2SMessage, encodeS2B, type StreamStart } from "../../protocol/stateful/mod.ts";
import type { PreparedBody } from "../body.ts";
import { ClientError } from "../errors.ts";
import { now } from "../settings.ts";
import type { WsConnection } from "./connection.ts";
import { ConnectionLost } from "./socket.ts";

const EMPTY = new Uint8Array(0);

/** Parts in flight before waiting for their acknowledgement. */
export const NOTIFY_WINDOW = 4;

/** Room left in a frame for headers (topic and authorization included). */
const HEADER_ROOM = 1024;

/** Publishes `body` on `topic`; resolves to CONFIRM_NOTIFY's subscriber count. */
export async function wsNotify(
  conn: WsConnection,
  topic: Uint8Array,
  body: PreparedBody,
): Promise<number> {
  const { ctx } = conn;
  const identifier = crypto.getRandomValues(new Uint8Array(4));
  let payload = body.bytes;
  let compressor = 0;
  let digest = body.sha512;
  if (payload !== null) {
    const c = ctx.compression.pick(payload.length);
    if (c !== null) {
      payload = ctx.compression.zstd!.compress(payload, {
        level: c.level,
        dictionary: c.dictionary,
      });
      compressor = c.id;
      digest = sha512(payload);
    }
  }
  const sent = payload?.length ?? body.length;
  const start: StreamStart = {
    topic,
    compressor,
    compressedLength: BigInt(sent),
    decompressedLength: BigInt(body.length),
    compressedSha512: digest,
  };
  const authorize = () =>
    ctx.auth.toBroadcaster.authorize(
      { type: "notify", topic, identifier, sha512: digest },
      EMPTY,
      now(),
    );
  const isConfirm = (m: B2SMessage) =>
    m.type === "confirm_notify" && bytesEqual(m.identifier, identifier);
  if (payload !== null && payload.length + topic.length + HEADER_ROOM <= ctx.maxFrameBytes) {
    const one = payload;
    const confirm = await conn.socket.send(
      async () =>
        encodeS2B({
          type: "notify",
          authorization: await authorize(),
          tracing: EMPTY,
          identifier,
          ...start,
          body: one,
        }),
      { type: "confirm_notify", check: isConfirm },
    );
    return confirm?.type === "confirm_notify" ? confirm.subscribers : 0;
  }
  const partBytes = Math.max(512, ctx.maxFrameBytes - HEADER_ROOM - topic.length);
  const source = payload !== null ? single(payload) : body.open();
  const chunks = exactChunks(source, partBytes);
  const acks: Promise<B2SMessage | null>[] = [];
  let done = 0;
  let partId = 0;
  try {
    do {
      const next = await chunks.next();
      const chunk = next.done ? EMPTY : next.value;
      done += chunk.length;
      const last = done >= sent;
      const id = partId++;
      if (acks.length >= NOTIFY_WINDOW) await acks[acks.length - NOTIFY_WINDOW];
      const ack = conn.socket.send(
        async () =>
          encodeS2B({
            type: "notify_stream",
            authorization: await authorize(),
            tracing: EMPTY,
            identifier,
            partId: id,
            first: id === 0 ? start : null,
            body: chunk,
          }),
        last ? { type: "confirm_notify", check: isConfirm } : {
          type: "continue_notify",
          check: (m) =>
            m.type === "continue_notify" && m.partId === id && bytesEqual(m.identifier, identifier),
        },
      );
      ack.catch(() => {});
      acks.push(ack);
      if (next.done && !last) throw new Error("The body ended before its length");
    } while (done < sent);
  } catch (e) {
    // A half-sent stream cannot be taken back: drop the connection (the client reconnects).
    if (!(e instanceof ClientError)) {
      conn.socket.fail(new ConnectionLost("A notify body failed mid-stream"));
      throw new ClientError("invalid", `Cannot read the notify body: ${(e as Error).message}`, {
        cause: e,
      });
    }
    throw e;
  }
  const results = await Promise.all(acks);
  const confirm = results.at(-1);
  return confirm?.type === "confirm_notify" ? confirm.subscribers : 0;
}

function single(b: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      c.enqueue(b);
      c.close();
    },
  });
}

/** Re-chunks a stream into pieces of exactly `size` bytes (the last may be shorter). */
async function* exactChunks(
  s: ReadableStream<Uint8Array>,
  size: number,
): AsyncGenerator<Uint8Array> {
  let buf = new Uint8Array(size);
  let at = 0;
  for await (const chunk of s) {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(size - at, chunk.length - off);
      buf.set(chunk.subarray(off, off + n), at);
      at += n;
      off += n;
      if (at === size) {
        yield buf;
        buf = new Uint8Array(size);
        at = 0;
      }
    }
  }
  if (at > 0) yield buf.subarray(0, at);
}
