/**
 * Codec of the broadcaster → subscriber websocket messages
 * (docs/protocol/websocket.md#broadcaster-messages).
 *
 * Parsed byte fields and bodies are views into the frame; copy them to keep
 * them beyond the frame's lifetime.
 *
 * @module
 */

import { decodeUtf8, encodeUtf8, ParseError } from "../bytes.ts";
import { encodeFrame, FrameReader, headerLayout } from "./frame.ts";
import { type B2SMessage, type B2SReceiveStream, B2SType, type ZstdSettings } from "./types.ts";
import { readStreamPart, STREAM_LAYOUT, streamValues } from "./_stream.ts";
import {
  EMPTY,
  readAuth,
  readBigUint,
  readExact,
  readI16,
  readUint,
  writeAuth,
  writeBigUint,
  writeExact,
  writeI16,
  writeUint,
} from "./_values.ts";

const CONFIRM_CONFIGURE = headerLayout("x-broadcaster-nonce", "authorization", "x-tracing");
const CONFIRM_EXACT = headerLayout("x-topic", "authorization", "x-tracing");
const CONFIRM_GLOB = headerLayout("x-glob", "authorization", "x-tracing");
const CONFIRM_NOTIFY = headerLayout("x-identifier", "x-subscribers", "authorization", "x-tracing");
const CONTINUE_NOTIFY = headerLayout("x-identifier", "x-part-id", "authorization", "x-tracing");
const ZSTD = [
  "x-identifier",
  "x-compression-level",
  "x-min-size",
  "x-max-size",
  "authorization",
  "x-tracing",
];
const ENABLE_ZSTD_PRESET = headerLayout(...ZSTD);
const ENABLE_ZSTD_CUSTOM = headerLayout(...ZSTD, "x-sha512");
const DISABLE_ZSTD_CUSTOM = headerLayout("x-identifier", "authorization", "x-tracing");
const MISSED = headerLayout("authorization", "x-tracing", "x-topic");

const CONFIRM_TYPES = {
  [B2SType.CONFIRM_SUBSCRIBE_EXACT]: "confirm_subscribe_exact",
  [B2SType.CONFIRM_UNSUBSCRIBE_EXACT]: "confirm_unsubscribe_exact",
  [B2SType.CONFIRM_SUBSCRIBE_GLOB]: "confirm_subscribe_glob",
  [B2SType.CONFIRM_UNSUBSCRIBE_GLOB]: "confirm_unsubscribe_glob",
} as const;

/**
 * Parses one binary frame a broadcaster sent (minimal or expanded headers).
 *
 * @throws {ParseError} for unknown flag bits or type, truncation, a missing
 * header, a value of the wrong size or invalid UTF-8
 */
export function parseB2S(frame: Uint8Array): B2SMessage {
  const h = new FrameReader(frame);
  switch (h.type) {
    case B2SType.CONFIRM_CONFIGURE: {
      const broadcasterNonce = readExact(h.value("x-broadcaster-nonce"), 32, "x-broadcaster-nonce");
      const authorization = readAuth(h.value("authorization"));
      const tracing = h.value("x-tracing");
      return { type: "confirm_configure", broadcasterNonce, authorization, tracing };
    }
    case B2SType.CONFIRM_SUBSCRIBE_EXACT:
    case B2SType.CONFIRM_UNSUBSCRIBE_EXACT: {
      const topic = h.value("x-topic");
      const authorization = readAuth(h.value("authorization"));
      const tracing = h.value("x-tracing");
      return { type: CONFIRM_TYPES[h.type], topic, authorization, tracing };
    }
    case B2SType.CONFIRM_SUBSCRIBE_GLOB:
    case B2SType.CONFIRM_UNSUBSCRIBE_GLOB: {
      const glob = decodeUtf8(h.value("x-glob"), "x-glob");
      const authorization = readAuth(h.value("authorization"));
      const tracing = h.value("x-tracing");
      return { type: CONFIRM_TYPES[h.type], glob, authorization, tracing };
    }
    case B2SType.CONFIRM_NOTIFY: {
      const identifier = h.value("x-identifier");
      const subscribers = readUint(h.value("x-subscribers"), 8, "x-subscribers");
      const authorization = readAuth(h.value("authorization"));
      const tracing = h.value("x-tracing");
      return { type: "confirm_notify", identifier, subscribers, authorization, tracing };
    }
    case B2SType.CONTINUE_NOTIFY: {
      const identifier = h.value("x-identifier");
      const partId = readUint(h.value("x-part-id"), 8, "x-part-id");
      const authorization = readAuth(h.value("authorization"));
      const tracing = h.value("x-tracing");
      return { type: "continue_notify", identifier, partId, authorization, tracing };
    }
    case B2SType.RECEIVE_STREAM:
      return { type: "receive_stream", ...readStreamPart(h) };
    case B2SType.ENABLE_ZSTD_PRESET:
      return { type: "enable_zstd_preset", ...readZstdSettings(h) };
    case B2SType.ENABLE_ZSTD_CUSTOM: {
      const settings = readZstdSettings(h);
      const sha512 = readExact(h.value("x-sha512"), 64, "x-sha512");
      return { type: "enable_zstd_custom", ...settings, sha512, dictionary: h.body() };
    }
    case B2SType.DISABLE_ZSTD_CUSTOM: {
      const identifier = readUint(h.value("x-identifier"), 8, "x-identifier");
      const authorization = readAuth(h.value("authorization"));
      const tracing = h.value("x-tracing");
      return { type: "disable_zstd_custom", identifier, authorization, tracing };
    }
    case B2SType.MISSED: {
      const authorization = readAuth(h.value("authorization"));
      const tracing = h.value("x-tracing");
      const topic = h.value("x-topic");
      return { type: "missed", authorization, tracing, topic };
    }
    default:
      throw new ParseError(`Unknown broadcaster message type: ${h.type}`);
  }
}

function readZstdSettings(h: FrameReader): ZstdSettings {
  const identifier = readUint(h.value("x-identifier"), 8, "x-identifier");
  const compressionLevel = readI16(h.value("x-compression-level"), "x-compression-level");
  const minSize = readUint(h.value("x-min-size"), 4, "x-min-size");
  const maxSize = readBigUint(h.value("x-max-size"), 8, "x-max-size");
  const authorization = readAuth(h.value("authorization"));
  const tracing = h.value("x-tracing");
  return { identifier, compressionLevel, minSize, maxSize, authorization, tracing };
}

function zstdValues(m: ZstdSettings): Uint8Array[] {
  return [
    writeUint(m.identifier, 8, "x-identifier"),
    writeI16(m.compressionLevel, "x-compression-level"),
    writeUint(m.minSize, 4, "x-min-size"),
    writeBigUint(m.maxSize, "x-max-size"),
    writeAuth(m.authorization),
    m.tracing,
  ];
}

/**
 * Encodes a broadcaster → subscriber message, with minimal headers unless
 * `minimal` is false (then with the names and order the reference writes).
 *
 * @throws {RangeError} when a value does not fit its header (over 65 535
 * bytes, a nonce or hash of the wrong size, a stream identifier over 64
 * bytes, a number out of range) or a stream part's `first` does not match
 * its part id
 */
export function encodeB2S(msg: B2SMessage, minimal = true): Uint8Array {
  switch (msg.type) {
    case "confirm_configure":
      return encodeFrame(B2SType.CONFIRM_CONFIGURE, minimal, CONFIRM_CONFIGURE, [
        writeExact(msg.broadcasterNonce, 32, "x-broadcaster-nonce"),
        writeAuth(msg.authorization),
        msg.tracing,
      ], EMPTY);
    case "confirm_subscribe_exact":
    case "confirm_unsubscribe_exact": {
      const type = msg.type === "confirm_subscribe_exact"
        ? B2SType.CONFIRM_SUBSCRIBE_EXACT
        : B2SType.CONFIRM_UNSUBSCRIBE_EXACT;
      return encodeFrame(type, minimal, CONFIRM_EXACT, [
        msg.topic,
        writeAuth(msg.authorization),
        msg.tracing,
      ], EMPTY);
    }
    case "confirm_subscribe_glob":
    case "confirm_unsubscribe_glob": {
      const type = msg.type === "confirm_subscribe_glob"
        ? B2SType.CONFIRM_SUBSCRIBE_GLOB
        : B2SType.CONFIRM_UNSUBSCRIBE_GLOB;
      return encodeFrame(type, minimal, CONFIRM_GLOB, [
        encodeUtf8(msg.glob),
        writeAuth(msg.authorization),
        msg.tracing,
      ], EMPTY);
    }
    case "confirm_notify":
      return encodeFrame(B2SType.CONFIRM_NOTIFY, minimal, CONFIRM_NOTIFY, [
        msg.identifier,
        writeUint(msg.subscribers, 8, "x-subscribers"),
        writeAuth(msg.authorization),
        msg.tracing,
      ], EMPTY);
    case "continue_notify":
      return encodeFrame(B2SType.CONTINUE_NOTIFY, minimal, CONTINUE_NOTIFY, [
        msg.identifier,
        writeUint(msg.partId, 8, "x-part-id"),
        writeAuth(msg.authorization),
        msg.tracing,
      ], EMPTY);
    case "receive_stream":
      return encodeFrame(
        B2SType.RECEIVE_STREAM,
        minimal,
        STREAM_LAYOUT,
        streamValues(msg),
        msg.body,
      );
    case "enable_zstd_preset":
      return encodeFrame(
        B2SType.ENABLE_ZSTD_PRESET,
        minimal,
        ENABLE_ZSTD_PRESET,
        zstdValues(msg),
        EMPTY,
      );
    case "enable_zstd_custom": {
      const values = zstdValues(msg);
      values.push(writeExact(msg.sha512, 64, "x-sha512"));
      return encodeFrame(
        B2SType.ENABLE_ZSTD_CUSTOM,
        minimal,
        ENABLE_ZSTD_CUSTOM,
        values,
        msg.dictionary,
      );
    }
    case "disable_zstd_custom":
      return encodeFrame(B2SType.DISABLE_ZSTD_CUSTOM, minimal, DISABLE_ZSTD_CUSTOM, [
        writeUint(msg.identifier, 8, "x-identifier"),
        writeAuth(msg.authorization),
        msg.tracing,
      ], EMPTY);
    case "missed":
      return encodeFrame(B2SType.MISSED, minimal, MISSED, [
        writeAuth(msg.authorization),
        msg.tracing,
        msg.topic,
      ], EMPTY);
  }
}

/**
 * Encodes a RECEIVE_STREAM part's flags, type and minimal headers, without
 * the body: the hot delivery loop sends `head ‖ body` and so copies each
 * payload chunk once.
 *
 * @throws {RangeError} as {@link encodeB2S} does
 */
export function encodeReceiveStreamHead(
  msg: Omit<B2SReceiveStream, "body" | "type">,
): Uint8Array {
  return encodeFrame(B2SType.RECEIVE_STREAM, true, STREAM_LAYOUT, streamValues(msg), EMPTY);
}
