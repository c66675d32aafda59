/**
 * Message type numbers and message shapes of the stateful (websocket) protocol
 * (docs/protocol/websocket.md#message-types, docs/protocol/websocket.md#subscriber-messages,
 * docs/protocol/websocket.md#broadcaster-messages).
 *
 * Field conventions: `authorization` null is sent as the zero-length value
 * (and read back as null); `tracing` is opaque bytes; fields typed `number`
 * hold safe integers, fields that may use all 64 bits are `bigint`.
 *
 * @module
 */

/**
 * Types of messages a subscriber sends over the websocket
 * (docs/protocol/websocket.md#message-types).
 */
export const S2BType = {
  CONFIGURE: 1,
  SUBSCRIBE_EXACT: 2,
  SUBSCRIBE_GLOB: 3,
  UNSUBSCRIBE_EXACT: 4,
  UNSUBSCRIBE_GLOB: 5,
  NOTIFY: 6,
  NOTIFY_STREAM: 7,
  CONTINUE_RECEIVE: 8,
  CONFIRM_RECEIVE: 9,
} as const;

/**
 * Types of messages a broadcaster sends over the websocket
 * (docs/protocol/websocket.md#message-types).
 */
export const B2SType = {
  CONFIRM_CONFIGURE: 1,
  CONFIRM_SUBSCRIBE_EXACT: 2,
  CONFIRM_SUBSCRIBE_GLOB: 3,
  CONFIRM_UNSUBSCRIBE_EXACT: 4,
  CONFIRM_UNSUBSCRIBE_GLOB: 5,
  CONFIRM_NOTIFY: 6,
  CONTINUE_NOTIFY: 7,
  RECEIVE_STREAM: 8,
  ENABLE_ZSTD_PRESET: 9,
  ENABLE_ZSTD_CUSTOM: 10,
  DISABLE_ZSTD_CUSTOM: 11,
  MISSED: 12,
} as const;

/** The headers only the first part (part id 0) of NOTIFY_STREAM / RECEIVE_STREAM carries. */
export interface StreamStart {
  /** Topic of the message. */
  topic: Uint8Array;
  /** Compressor id; 0 = uncompressed. */
  compressor: number;
  /** Length of the payload as sent (compressed bytes when compressed). */
  compressedLength: bigint;
  /** Length after decompression (equal to `compressedLength` when uncompressed). */
  decompressedLength: bigint;
  /** SHA-512 of the payload as sent (64 bytes). */
  compressedSha512: Uint8Array;
}

/** Fields every stateful message carries. */
export interface StatefulCommon {
  /** Authorization text; null is written as the zero-length value. */
  authorization: string | null;
  /** Opaque tracing bytes (both official peers send empty). */
  tracing: Uint8Array;
}

/** CONFIGURE (docs/protocol/websocket.md#configure). */
export interface S2BConfigure extends StatefulCommon {
  /** Discriminator. */
  type: "configure";
  /** The subscriber's 32 random bytes. */
  subscriberNonce: Uint8Array;
  /** True iff `x-enable-zstd` is exactly `01`. */
  enableZstd: boolean;
  /** True iff `x-enable-training` is exactly `01`. */
  enableTraining: boolean;
  /** Preset dictionary id the subscriber suggests (0 = none, 1 = ignored); u16. */
  initialDict: number;
}

/**
 * SUBSCRIBE_EXACT / UNSUBSCRIBE_EXACT (docs/protocol/websocket.md#subscribe,
 * docs/protocol/websocket.md#unsubscribe).
 */
export interface S2BExact extends StatefulCommon {
  /** Discriminator. */
  type: "subscribe_exact" | "unsubscribe_exact";
  /** Topic bytes. */
  topic: Uint8Array;
}

/**
 * SUBSCRIBE_GLOB / UNSUBSCRIBE_GLOB (docs/protocol/websocket.md#subscribe,
 * docs/protocol/websocket.md#unsubscribe).
 */
export interface S2BGlob extends StatefulCommon {
  /** Discriminator. */
  type: "subscribe_glob" | "unsubscribe_glob";
  /** Glob pattern (strict UTF-8, at most `MAX_GLOB_BYTES` bytes when parsed). */
  glob: string;
}

/** NOTIFY (docs/protocol/websocket.md#notify): a whole message in one frame. */
export interface S2BNotify extends StatefulCommon, StreamStart {
  /** Discriminator. */
  type: "notify";
  /** The notifier's identifier (at most 64 bytes). */
  identifier: Uint8Array;
  /** The payload as sent (compressed when `compressor` ≠ 0). */
  body: Uint8Array;
}

/** One part of NOTIFY_STREAM or RECEIVE_STREAM (docs/protocol/websocket.md#notify_stream). */
export interface StreamPart extends StatefulCommon {
  /** Identifier of the whole message (at most 64 bytes). */
  identifier: Uint8Array;
  /** Index of this part, from 0. */
  partId: number;
  /** The first part's extra headers: present iff `partId` is 0. */
  first: StreamStart | null;
  /** The next chunk of the payload. */
  body: Uint8Array;
}

/** NOTIFY_STREAM (docs/protocol/websocket.md#notify_stream). */
export interface S2BNotifyStream extends StreamPart {
  /** Discriminator. */
  type: "notify_stream";
}

/**
 * CONTINUE_RECEIVE (docs/protocol/websocket.md#continue_receive): acknowledges a non-final
 * RECEIVE_STREAM part.
 */
export interface S2BContinueReceive extends StatefulCommon {
  /** Discriminator. */
  type: "continue_receive";
  /** The delivery's identifier (at most 64 bytes). */
  identifier: Uint8Array;
  /** The part just received. */
  partId: number;
}

/** CONFIRM_RECEIVE (docs/protocol/websocket.md#confirm_receive): acknowledges a whole delivery. */
export interface S2BConfirmReceive extends StatefulCommon {
  /** Discriminator. */
  type: "confirm_receive";
  /** The delivery's identifier (at most 64 bytes). */
  identifier: Uint8Array;
  /** Subscribers the client delivered to; written as u32. */
  numSubscribers: number;
}

/** Any subscriber → broadcaster message. */
export type S2BMessage =
  | S2BConfigure
  | S2BExact
  | S2BGlob
  | S2BNotify
  | S2BNotifyStream
  | S2BContinueReceive
  | S2BConfirmReceive;

/** CONFIRM_CONFIGURE (docs/protocol/websocket.md#confirm_configure). */
export interface B2SConfirmConfigure extends StatefulCommon {
  /** Discriminator. */
  type: "confirm_configure";
  /** The broadcaster's 32 random bytes. */
  broadcasterNonce: Uint8Array;
}

/**
 * CONFIRM_SUBSCRIBE_EXACT / CONFIRM_UNSUBSCRIBE_EXACT (docs/protocol/websocket.md#confirmations).
 */
export interface B2SConfirmExact extends StatefulCommon {
  /** Discriminator. */
  type: "confirm_subscribe_exact" | "confirm_unsubscribe_exact";
  /** Echo of the request's topic. */
  topic: Uint8Array;
}

/** CONFIRM_SUBSCRIBE_GLOB / CONFIRM_UNSUBSCRIBE_GLOB (docs/protocol/websocket.md#confirmations). */
export interface B2SConfirmGlob extends StatefulCommon {
  /** Discriminator. */
  type: "confirm_subscribe_glob" | "confirm_unsubscribe_glob";
  /** Echo of the request's glob. */
  glob: string;
}

/** CONFIRM_NOTIFY (docs/protocol/websocket.md#confirm_notify). */
export interface B2SConfirmNotify extends StatefulCommon {
  /** Discriminator. */
  type: "confirm_notify";
  /** The notifier's identifier. */
  identifier: Uint8Array;
  /** Successful deliveries (0 is written as the zero-length value). */
  subscribers: number;
}

/**
 * CONTINUE_NOTIFY (docs/protocol/websocket.md#continue_notify): acknowledges a non-final
 * NOTIFY_STREAM part.
 */
export interface B2SContinueNotify extends StatefulCommon {
  /** Discriminator. */
  type: "continue_notify";
  /** The notifier's identifier. */
  identifier: Uint8Array;
  /** The part just accepted (0 is written as the zero-length value). */
  partId: number;
}

/** RECEIVE_STREAM (docs/protocol/websocket.md#receive_stream): one part of a delivery. */
export interface B2SReceiveStream extends StreamPart {
  /** Discriminator. */
  type: "receive_stream";
}

/**
 * Compressor settings ENABLE_ZSTD_PRESET and ENABLE_ZSTD_CUSTOM share
 * (docs/protocol/websocket.md#enable_zstd_preset).
 */
export interface ZstdSettings extends StatefulCommon {
  /** Compressor id (1 = no dictionary, 2–65 535 = preset, ≥ 65 536 = custom). */
  identifier: number;
  /** zstd compression level; i16. */
  compressionLevel: number;
  /** Smallest message to compress; at most 4 bytes on the wire. */
  minSize: number;
  /** Largest message to compress; 2⁶⁴−1 = no limit. */
  maxSize: bigint;
}

/** ENABLE_ZSTD_PRESET (docs/protocol/websocket.md#enable_zstd_preset). */
export interface B2SEnableZstdPreset extends ZstdSettings {
  /** Discriminator. */
  type: "enable_zstd_preset";
}

/** ENABLE_ZSTD_CUSTOM (docs/protocol/websocket.md#enable_zstd_custom). */
export interface B2SEnableZstdCustom extends ZstdSettings {
  /** Discriminator. */
  type: "enable_zstd_custom";
  /** SHA-512 of the dictionary (64 bytes). */
  sha512: Uint8Array;
  /** The raw zstd dictionary (the body). */
  dictionary: Uint8Array;
}

/** DISABLE_ZSTD_CUSTOM (docs/protocol/websocket.md#disable_zstd_custom). */
export interface B2SDisableZstdCustom extends StatefulCommon {
  /** Discriminator. */
  type: "disable_zstd_custom";
  /** The compressor id to forget. */
  identifier: number;
}

/** MISSED (docs/protocol/websocket.md#missed). */
export interface B2SMissed extends StatefulCommon {
  /** Discriminator. */
  type: "missed";
  /** Topic that may have lost messages. */
  topic: Uint8Array;
}

/** Any broadcaster → subscriber message. */
export type B2SMessage =
  | B2SConfirmConfigure
  | B2SConfirmExact
  | B2SConfirmGlob
  | B2SConfirmNotify
  | B2SContinueNotify
  | B2SReceiveStream
  | B2SEnableZstdPreset
  | B2SEnableZstdCustom
  | B2SDisableZstdCustom
  | B2SMissed;
