/**
 * The bytes of one websocket delivery as they go on the wire
 * (docs/protocol/websocket.md#delivery): the message itself, or its zstd-compressed form when the
 * connection has a compressor for it (docs/compression.md); a spooled message is read through
 * one descriptor for the whole delivery, not one per part (`HeldMessage.parts`,
 * `src/core/spool_reader.ts`).
 *
 * @module
 */

import type { OutgoingMessage, PartReader } from "../core/message.ts";
import type { ConnectionCompression } from "./conn_compression.ts";

const NOTHING_TO_CLOSE = () => Promise.resolve();

/** The bytes of one delivery as they go on the wire. */
export interface Payload {
  readonly length: number;
  /** SHA-512 of exactly these bytes. */
  readonly sha512: Uint8Array;
  /** Compressor id, 0 for none. */
  readonly compressor: number;
  /** Bytes `[start, end)`, into `into` (exactly `end - start` bytes) when given. */
  read(start: number, end: number, into?: Uint8Array): Promise<Uint8Array>;
  /** Done reading: closes what reading opened. */
  close(): Promise<void>;
}

/**
 * What goes on the wire for `msg`: compressed when `compression` has a
 * compressor for its length (messages held in memory; larger ones go as
 * they are), else the message itself. Small messages are training samples.
 */
export async function payloadOf(
  msg: OutgoingMessage,
  compression: ConnectionCompression | null,
): Promise<Payload> {
  const { message } = msg;
  const length = Number(message.length);
  // A spooled message goes as it is, its parts read through one descriptor when it offers that.
  if (!message.inMemory) return spooled(msg, message.parts?.());
  const plain = asIs(msg);
  if (compression === null) return plain;
  const settings = compression.service.settings;
  const chosen = compression.choose(length);
  if (chosen === null && length >= settings.trainedMaxSize) return plain;
  const bytes = await message.read(0, length);
  compression.sample(bytes);
  if (chosen === null) return plain;
  const compressed = await compression.service.compress(message, bytes, chosen);
  return {
    length: compressed.bytes.length,
    sha512: compressed.sha512,
    compressor: chosen.id,
    read: (start, end, into) => {
      const part = compressed.bytes.subarray(start, end);
      into?.set(part);
      return Promise.resolve(into ?? part);
    },
    close: NOTHING_TO_CLOSE,
  };
}

/** The message itself, read through its own `read`. */
function asIs({ message, sha512 }: OutgoingMessage): Payload {
  return {
    length: Number(message.length),
    sha512,
    compressor: 0,
    read: (start, end, into) => message.read(start, end, into),
    close: NOTHING_TO_CLOSE,
  };
}

/** A spooled message as it is (never compressed), read through `parts` when there is one. */
function spooled(msg: OutgoingMessage, parts: PartReader | undefined): Payload {
  if (parts === undefined) return asIs(msg);
  return {
    length: Number(msg.message.length),
    sha512: msg.sha512,
    compressor: 0,
    read: (start, end, into) => parts.read(start, end, into ?? new Uint8Array(end - start)),
    close: () => parts.close(),
  };
}
