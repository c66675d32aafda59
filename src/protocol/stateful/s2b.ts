/**
 * Codec of the subscriber → broadcaster websocket messages
 * (docs/protocol/websocket.md#subscriber-messages).
 *
 * Parsed byte fields and bodies are views into the frame; copy them to keep
 * them beyond the frame's lifetime. Parsing checks the wire format only: a
 * NOTIFY's length and hash are the session's to verify (docs/protocol/websocket.md#notify).
 *
 * @module
 */

import { decodeUtf8, encodeUtf8, ParseError } from "../bytes.ts";
import { MAX_GLOB_BYTES } from "../types.ts";
import { encodeFrame, FrameReader, headerLayout } from "./frame.ts";
import { type S2BMessage, S2BType } from "./types.ts";
import {
  NOTIFY_LAYOUT,
  pushStart,
  readIdentifier,
  readStart,
  readStreamPart,
  STREAM_LAYOUT,
  streamValues,
  writeIdentifier,
} from "./_stream.ts";
import {
  EMPTY,
  readAuth,
  readExact,
  readFlag,
  readUint,
  writeAuth,
  writeExact,
  writeFixed,
  writeFlag,
  writeUint,
} from "./_values.ts";

const CONFIGURE = headerLayout(
  "x-subscriber-nonce",
  "x-enable-zstd",
  "x-enable-training",
  "x-initial-dict",
  "authorization",
  "x-tracing",
);
const EXACT = headerLayout("authorization", "x-tracing", "x-topic");
const GLOB = headerLayout("authorization", "x-tracing", "x-glob");
const CONTINUE_RECEIVE = headerLayout("x-identifier", "x-part-id", "authorization", "x-tracing");
const CONFIRM_RECEIVE = headerLayout(
  "x-identifier",
  "authorization",
  "x-tracing",
  "x-num-subscribers",
);

/**
 * Parses one binary frame a subscriber sent (minimal or expanded headers).
 *
 * @throws {ParseError} for unknown flag bits or type, truncation, a missing
 * header, a value of the wrong size or invalid UTF-8
 */
export function parseS2B(frame: Uint8Array): S2BMessage {
  const h = new FrameReader(frame);
  switch (h.type) {
    case S2BType.CONFIGURE: {
      const subscriberNonce = readExact(h.value("x-subscriber-nonce"), 32, "x-subscriber-nonce");
      const enableZstd = readFlag(h.value("x-enable-zstd"));
      const enableTraining = readFlag(h.value("x-enable-training"));
      // An expanded CONFIGURE without x-initial-dict asks for no preset
      // (docs/decisions.md#strictness-the-client-never-notices).
      const dict = h.optional("x-initial-dict");
      const initialDict = dict === undefined ? 0 : readUint(dict, 2, "x-initial-dict");
      const authorization = readAuth(h.value("authorization"));
      const tracing = h.value("x-tracing");
      return {
        type: "configure",
        subscriberNonce,
        enableZstd,
        enableTraining,
        initialDict,
        authorization,
        tracing,
      };
    }
    case S2BType.SUBSCRIBE_EXACT:
    case S2BType.UNSUBSCRIBE_EXACT: {
      const authorization = readAuth(h.value("authorization"));
      const tracing = h.value("x-tracing");
      const topic = h.value("x-topic");
      const type = h.type === S2BType.SUBSCRIBE_EXACT ? "subscribe_exact" : "unsubscribe_exact";
      return { type, authorization, tracing, topic };
    }
    case S2BType.SUBSCRIBE_GLOB:
    case S2BType.UNSUBSCRIBE_GLOB: {
      const authorization = readAuth(h.value("authorization"));
      const tracing = h.value("x-tracing");
      const raw = h.value("x-glob");
      if (raw.length > MAX_GLOB_BYTES) {
        throw new ParseError(`Glob too long: ${raw.length} bytes, at most ${MAX_GLOB_BYTES}`);
      }
      const glob = decodeUtf8(raw, "x-glob");
      const type = h.type === S2BType.SUBSCRIBE_GLOB ? "subscribe_glob" : "unsubscribe_glob";
      return { type, authorization, tracing, glob };
    }
    case S2BType.NOTIFY: {
      const authorization = readAuth(h.value("authorization"));
      const tracing = h.value("x-tracing");
      const identifier = readIdentifier(h);
      const start = readStart(h);
      return { type: "notify", authorization, tracing, identifier, ...start, body: h.body() };
    }
    case S2BType.NOTIFY_STREAM:
      return { type: "notify_stream", ...readStreamPart(h) };
    case S2BType.CONTINUE_RECEIVE: {
      const identifier = readIdentifier(h);
      const partId = readUint(h.value("x-part-id"), 8, "x-part-id");
      const authorization = readAuth(h.value("authorization"));
      const tracing = h.value("x-tracing");
      return { type: "continue_receive", identifier, partId, authorization, tracing };
    }
    case S2BType.CONFIRM_RECEIVE: {
      const identifier = readIdentifier(h);
      const authorization = readAuth(h.value("authorization"));
      const tracing = h.value("x-tracing");
      const numSubscribers = readUint(h.value("x-num-subscribers"), 4, "x-num-subscribers");
      return { type: "confirm_receive", identifier, authorization, tracing, numSubscribers };
    }
    default:
      throw new ParseError(`Unknown subscriber message type: ${h.type}`);
  }
}

/**
 * Encodes a subscriber → broadcaster message, with minimal headers unless
 * `minimal` is false (then with the names and order the reference writes).
 *
 * @throws {RangeError} when a value does not fit its header (over 65 535
 * bytes, a nonce or hash of the wrong size, an identifier over 64 bytes, a
 * number out of range) or a stream part's `first` does not match its part id
 */
export function encodeS2B(msg: S2BMessage, minimal = true): Uint8Array {
  switch (msg.type) {
    case "configure":
      return encodeFrame(S2BType.CONFIGURE, minimal, CONFIGURE, [
        writeExact(msg.subscriberNonce, 32, "x-subscriber-nonce"),
        writeFlag(msg.enableZstd),
        writeFlag(msg.enableTraining),
        writeFixed(msg.initialDict, 2, "x-initial-dict"),
        writeAuth(msg.authorization),
        msg.tracing,
      ], EMPTY);
    case "subscribe_exact":
    case "unsubscribe_exact": {
      const type = msg.type === "subscribe_exact"
        ? S2BType.SUBSCRIBE_EXACT
        : S2BType.UNSUBSCRIBE_EXACT;
      return encodeFrame(type, minimal, EXACT, [
        writeAuth(msg.authorization),
        msg.tracing,
        msg.topic,
      ], EMPTY);
    }
    case "subscribe_glob":
    case "unsubscribe_glob": {
      const type = msg.type === "subscribe_glob"
        ? S2BType.SUBSCRIBE_GLOB
        : S2BType.UNSUBSCRIBE_GLOB;
      return encodeFrame(type, minimal, GLOB, [
        writeAuth(msg.authorization),
        msg.tracing,
        encodeUtf8(msg.glob),
      ], EMPTY);
    }
    case "notify": {
      const values = [writeAuth(msg.authorization), msg.tracing, writeIdentifier(msg.identifier)];
      pushStart(values, msg);
      return encodeFrame(S2BType.NOTIFY, minimal, NOTIFY_LAYOUT, values, msg.body);
    }
    case "notify_stream":
      return encodeFrame(
        S2BType.NOTIFY_STREAM,
        minimal,
        STREAM_LAYOUT,
        streamValues(msg),
        msg.body,
      );
    case "continue_receive":
      return encodeFrame(S2BType.CONTINUE_RECEIVE, minimal, CONTINUE_RECEIVE, [
        writeIdentifier(msg.identifier),
        writeUint(msg.partId, 8, "x-part-id"),
        writeAuth(msg.authorization),
        msg.tracing,
      ], EMPTY);
    case "confirm_receive":
      return encodeFrame(S2BType.CONFIRM_RECEIVE, minimal, CONFIRM_RECEIVE, [
        writeIdentifier(msg.identifier),
        writeAuth(msg.authorization),
        msg.tracing,
        writeFixed(msg.numSubscribers, 4, "x-num-subscribers"),
      ], EMPTY);
  }
}
