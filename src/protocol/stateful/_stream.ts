/**
 * The header layout NOTIFY, NOTIFY_STREAM and RECEIVE_STREAM share
 * (docs/protocol/websocket.md#notify, docs/protocol/websocket.md#notify_stream,
 * docs/protocol/websocket.md#receive_stream).
 *
 * @module
 */

import { type FrameReader, headerLayout } from "./frame.ts";
import type { StreamPart, StreamStart } from "./types.ts";
import {
  readAtMost,
  readAuth,
  readBigUint,
  readExact,
  readUint,
  writeAtMost,
  writeAuth,
  writeBigUint,
  writeExact,
  writeUint,
} from "./_values.ts";

/** Longest `x-identifier` of a notification or delivery. */
export const MAX_IDENTIFIER_BYTES = 64;

/** NOTIFY's headers (docs/protocol/websocket.md#notify). */
export const NOTIFY_LAYOUT = headerLayout(
  "authorization",
  "x-tracing",
  "x-identifier",
  "x-topic",
  "x-compressor",
  "x-compressed-length",
  "x-decompressed-length",
  "x-compressed-sha512",
);

/** NOTIFY_STREAM's and RECEIVE_STREAM's headers; parts after the first stop after x-part-id. */
export const STREAM_LAYOUT = headerLayout(
  "authorization",
  "x-tracing",
  "x-identifier",
  "x-part-id",
  "x-topic",
  "x-compressor",
  "x-compressed-length",
  "x-decompressed-length",
  "x-compressed-sha512",
);

/** Reads x-identifier (at most 64 bytes). */
export function readIdentifier(h: FrameReader): Uint8Array {
  return readAtMost(h.value("x-identifier"), MAX_IDENTIFIER_BYTES, "x-identifier");
}

/** Checks an identifier to write (at most 64 bytes). */
export function writeIdentifier(identifier: Uint8Array): Uint8Array {
  return writeAtMost(identifier, MAX_IDENTIFIER_BYTES, "x-identifier");
}

/** Reads x-topic through x-compressed-sha512. */
export function readStart(h: FrameReader): StreamStart {
  const topic = h.value("x-topic");
  const compressor = readUint(h.value("x-compressor"), 8, "x-compressor");
  const compressedLength = readBigUint(h.value("x-compressed-length"), 8, "x-compressed-length");
  const decompressedLength = readBigUint(
    h.value("x-decompressed-length"),
    8,
    "x-decompressed-length",
  );
  const compressedSha512 = readExact(h.value("x-compressed-sha512"), 64, "x-compressed-sha512");
  return { topic, compressor, compressedLength, decompressedLength, compressedSha512 };
}

/** Appends the values of x-topic through x-compressed-sha512 (uncompressed → x-compressor `00`). */
export function pushStart(values: Uint8Array[], s: StreamStart): void {
  values.push(
    s.topic,
    writeUint(s.compressor, 8, "x-compressor", true),
    writeBigUint(s.compressedLength, "x-compressed-length"),
    writeBigUint(s.decompressedLength, "x-decompressed-length"),
    writeExact(s.compressedSha512, 64, "x-compressed-sha512"),
  );
}

/** Reads one stream part: the first part's extra headers iff the part id is 0, then the body. */
export function readStreamPart(h: FrameReader): StreamPart {
  const authorization = readAuth(h.value("authorization"));
  const tracing = h.value("x-tracing");
  const identifier = readIdentifier(h);
  const partId = readUint(h.value("x-part-id"), 8, "x-part-id");
  const first = partId === 0 ? readStart(h) : null;
  return { authorization, tracing, identifier, partId, first, body: h.body() };
}

/**
 * The header values of one stream part (x-part-id of part 0 written as `00`).
 *
 * @throws {RangeError} when `first` is given for a part other than 0, or missing for part 0
 */
export function streamValues(m: Omit<StreamPart, "body">): Uint8Array[] {
  const values = [
    writeAuth(m.authorization),
    m.tracing,
    writeIdentifier(m.identifier),
    writeUint(m.partId, 8, "x-part-id", true),
  ];
  if ((m.partId === 0) !== (m.first !== null)) {
    throw new RangeError("Invalid stream part: first is required for part 0 and only for it");
  }
  if (m.first !== null) pushStart(values, m.first);
  return values;
}
