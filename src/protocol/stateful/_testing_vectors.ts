/**
 * Test-only access to the stateful vectors (`tests/vectors/stateful.json`,
 * `tests/vectors/stateful_sessions.json`) and the translation of each
 * vector class's reference fields into our message shapes. Never imported by
 * src code; excluded from publishing.
 *
 * @module
 */

import statefulJson from "../../../tests/vectors/stateful.json" with { type: "json" };
import sessionsJson from "../../../tests/vectors/stateful_sessions.json" with { type: "json" };
import { fromHex } from "../bytes.ts";
import type { B2SMessage, S2BMessage, StreamStart } from "./types.ts";

/** Reference field values of one vector (snake_case, bytes as hex). */
export type Fields = Record<string, string | number | null>;

/** One entry of `messages` in stateful.json. */
export interface MessageVector {
  /** Reference class name, e.g. `S2B_Configure`. */
  class: string;
  /** `s2b` or `b2s`. */
  direction: "s2b" | "b2s";
  /** The reference's fields. */
  fields: Fields;
  /** The frame with minimal headers. */
  minimal_hex: string;
  /** The frame with expanded headers. */
  expanded_hex: string;
}

/** stateful.json. */
export const STATEFUL = statefulJson as unknown as {
  subscriber_to_broadcaster: Record<string, number>;
  broadcaster_to_subscriber: Record<string, number>;
  flags: Record<string, number>;
  messages: MessageVector[];
};

/** One recorded frame. */
export interface SessionFrame {
  /** Position in the session. */
  i: number;
  /** Direction. */
  dir: "s2b" | "b2s";
  /** Reference type name, e.g. `CONFIRM_SUBSCRIBE_EXACT`. */
  type: string;
  /** The type number. */
  type_value: number;
  /** Frame length. */
  len: number;
  /** The frame. */
  hex: string;
  /** The url the frame is signed over, if counter-bound. */
  pseudo_url?: string;
  /** Subscriber counter consumed by the frame. */
  subscriber_counter?: number;
  /** Broadcaster counter consumed by the frame. */
  broadcaster_counter?: number;
  /** The frame's authorization text (null with `none` auth). */
  authorization: string | null;
}

/** One recorded session. */
export interface Session {
  /** Session name. */
  name: string;
  /** `none` or `hmac`. */
  auth: string;
  /** The nonces. */
  subscriber_nonce_hex: string;
  /** The nonces. */
  broadcaster_nonce_hex: string;
  /** SHA-256 of both nonces. */
  connection_nonce_hex: string;
  /** Its standard base64. */
  connection_nonce_b64: string;
  /** The frames, in the order the proxy saw them. */
  frames: SessionFrame[];
}

/** stateful_sessions.json (the parts the codec tests read). */
export const SESSIONS = sessionsJson as unknown as {
  sessions: Session[];
  compression: {
    custom_dictionary_example: Record<string, string | number>;
    enable_zstd_preset_id1_frame_hex_auth_none: string;
  };
};

function hex(f: Fields, key: string): Uint8Array {
  const v = f[key];
  if (typeof v !== "string") throw new Error(`Vector field ${key} is not hex: ${v}`);
  return fromHex(v);
}

function num(f: Fields, key: string): number {
  const v = f[key];
  if (typeof v !== "number") throw new Error(`Vector field ${key} is not a number: ${v}`);
  return v;
}

function text(f: Fields, key: string): string {
  const v = f[key];
  if (typeof v !== "string") throw new Error(`Vector field ${key} is not text: ${v}`);
  return v;
}

function common(f: Fields): { authorization: string | null; tracing: Uint8Array } {
  const auth = f.authorization;
  return {
    authorization: auth === "" || auth === null ? null : String(auth),
    tracing: hex(f, "tracing"),
  };
}

/** NOTIFY / stream-start headers from the compressed or uncompressed reference shape. */
function start(f: Fields, payloadKey: string, shaKey: string): StreamStart {
  const compressed = f.compressor_id !== null;
  const payloadLength = BigInt(hex(f, payloadKey).length);
  const length = compressed
    ? BigInt(f.compressed_length === undefined ? payloadLength : num(f, "compressed_length"))
    : BigInt(f.uncompressed_length === undefined ? payloadLength : num(f, "uncompressed_length"));
  return {
    topic: hex(f, "topic"),
    compressor: compressed ? num(f, "compressor_id") : 0,
    compressedLength: length,
    decompressedLength: compressed ? BigInt(num(f, "decompressed_length")) : length,
    compressedSha512: hex(f, `${shaKey}_${compressed ? "compressed" : "uncompressed"}_sha512`),
  };
}

function streamPart(f: Fields) {
  const partId = f.part_id === null ? 0 : num(f, "part_id");
  return {
    ...common(f),
    identifier: hex(f, "identifier"),
    partId,
    first: partId === 0 ? start(f, "payload", "unverified") : null,
    body: hex(f, "payload"),
  };
}

function notify(f: Fields): S2BMessage {
  const compressed = f.compressor_id !== null;
  const bodyKey = compressed ? "compressed_message" : "uncompressed_message";
  return {
    type: "notify",
    ...common(f),
    identifier: hex(f, "identifier"),
    ...start(f, bodyKey, "verified"),
    body: hex(f, bodyKey),
  };
}

function zstd(f: Fields) {
  return {
    identifier: num(f, "identifier"),
    compressionLevel: num(f, "compression_level"),
    minSize: num(f, "min_size"),
    maxSize: BigInt(num(f, "max_size")),
    ...common(f),
  };
}

/** Every vector class and how its reference fields read as our message. */
export const FROM_VECTOR: Record<string, (f: Fields) => S2BMessage | B2SMessage> = {
  S2B_Configure: (f) => ({
    type: "configure",
    subscriberNonce: hex(f, "subscriber_nonce"),
    enableZstd: num(f, "enable_zstd") === 1,
    enableTraining: num(f, "enable_training") === 1,
    initialDict: num(f, "initial_dict"),
    ...common(f),
  }),
  S2B_SubscribeExact: (f) => ({ type: "subscribe_exact", ...common(f), topic: hex(f, "topic") }),
  S2B_UnsubscribeExact: (f) => ({
    type: "unsubscribe_exact",
    ...common(f),
    topic: hex(f, "topic"),
  }),
  S2B_SubscribeGlob: (f) => ({ type: "subscribe_glob", ...common(f), glob: text(f, "glob") }),
  S2B_UnsubscribeGlob: (f) => ({ type: "unsubscribe_glob", ...common(f), glob: text(f, "glob") }),
  S2B_NotifyUncompressed: notify,
  S2B_NotifyCompressed: notify,
  S2B_NotifyStreamStartUncompressed: (f) => ({ type: "notify_stream", ...streamPart(f) }),
  S2B_NotifyStreamStartCompressed: (f) => ({ type: "notify_stream", ...streamPart(f) }),
  S2B_NotifyStreamContinuation: (f) => ({ type: "notify_stream", ...streamPart(f) }),
  S2B_ContinueReceive: (f) => ({
    type: "continue_receive",
    identifier: hex(f, "identifier"),
    partId: num(f, "part_id"),
    ...common(f),
  }),
  S2B_ConfirmReceive: (f) => ({
    type: "confirm_receive",
    identifier: hex(f, "identifier"),
    ...common(f),
    numSubscribers: num(f, "num_subscribers"),
  }),
  B2S_ConfirmConfigure: (f) => ({
    type: "confirm_configure",
    broadcasterNonce: hex(f, "broadcaster_nonce"),
    ...common(f),
  }),
  B2S_ConfirmSubscribeExact: (f) => ({
    type: "confirm_subscribe_exact",
    topic: hex(f, "topic"),
    ...common(f),
  }),
  B2S_ConfirmUnsubscribeExact: (f) => ({
    type: "confirm_unsubscribe_exact",
    topic: hex(f, "topic"),
    ...common(f),
  }),
  B2S_ConfirmSubscribeGlob: (f) => ({
    type: "confirm_subscribe_glob",
    glob: text(f, "glob"),
    ...common(f),
  }),
  B2S_ConfirmUnsubscribeGlob: (f) => ({
    type: "confirm_unsubscribe_glob",
    glob: text(f, "glob"),
    ...common(f),
  }),
  B2S_ConfirmNotify: (f) => ({
    type: "confirm_notify",
    identifier: hex(f, "identifier"),
    subscribers: num(f, "subscribers"),
    ...common(f),
  }),
  B2S_ContinueNotify: (f) => ({
    type: "continue_notify",
    identifier: hex(f, "identifier"),
    partId: num(f, "part_id"),
    ...common(f),
  }),
  B2S_ReceiveStreamStartUncompressed: (f) => ({ type: "receive_stream", ...streamPart(f) }),
  B2S_ReceiveStreamStartCompressed: (f) => ({ type: "receive_stream", ...streamPart(f) }),
  B2S_ReceiveStreamContinuation: (f) => ({ type: "receive_stream", ...streamPart(f) }),
  B2S_EnableZstdPreset: (f) => ({ type: "enable_zstd_preset", ...zstd(f) }),
  B2S_EnableZstdCustom: (f) => ({
    type: "enable_zstd_custom",
    ...zstd(f),
    sha512: hex(f, "sha512"),
    dictionary: hex(f, "dictionary"),
  }),
  B2S_DisableZstdCustom: (f) => ({
    type: "disable_zstd_custom",
    identifier: num(f, "identifier"),
    ...common(f),
  }),
  B2S_Missed: (f) => ({ type: "missed", ...common(f), topic: hex(f, "topic") }),
};

/** The vector of class `name` (throws if the file has none, so a rename fails loudly). */
export function messageVector(name: string): MessageVector {
  const found = STATEFUL.messages.find((m) => m.class === name);
  if (found === undefined) throw new Error(`No stateful vector named: ${name}`);
  return found;
}

/** The vector's fields as our message. */
export function expectedMessage(v: MessageVector): S2BMessage | B2SMessage {
  const convert = FROM_VECTOR[v.class];
  if (convert === undefined) throw new Error(`Vector class without a test mapping: ${v.class}`);
  return convert(v.fields);
}
