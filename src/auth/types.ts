/**
 * The authorization contract (docs/protocol/auth.md). Every authorized operation is
 * one {@link AuthMessage}; a strategy (`none`, `token`, `hmac`) produces and
 * verifies the `Authorization` text for it. Each direction (to broadcaster,
 * to subscriber) has its own strategy and secret.
 *
 * @module
 */

/** Verification outcome (docs/protocol/auth.md#directions). */
export type AuthResult = "ok" | "unauthorized" | "forbidden" | "unavailable";

/** The strong etag as signed: format byte (always 0) and 64 digest bytes. */
export interface SignedEtag {
  /** Etag format, 0. */
  readonly format: number;
  /** The SHA-512 digest. */
  readonly etag: Uint8Array;
}

/**
 * Every authorized operation with the fields it signs (docs/protocol/auth.md#operations,
 * docs/protocol/auth.md#signed-bytes). `tracing` is always signed.
 */
export type AuthMessage =
  // to_broadcaster (subscriber produces, broadcaster verifies)
  | {
    readonly type: "subscribe_exact";
    readonly url: string;
    readonly recovery: string | null;
    readonly topic: Uint8Array;
  }
  | {
    readonly type: "subscribe_glob";
    readonly url: string;
    readonly recovery: string | null;
    readonly glob: string;
  }
  | {
    readonly type: "notify";
    readonly topic: Uint8Array;
    readonly identifier: Uint8Array;
    readonly sha512: Uint8Array;
  }
  | {
    readonly type: "stateful_configure";
    readonly subscriberNonce: Uint8Array;
    readonly enableZstd: boolean;
    readonly enableTraining: boolean;
    readonly initialDict: number;
  }
  | { readonly type: "check_subscriptions"; readonly url: string }
  | { readonly type: "set_subscriptions"; readonly url: string; readonly etag: SignedEtag }
  | {
    readonly type: "stateful_continue_receive";
    readonly identifier: Uint8Array;
    readonly partId: number;
    readonly url: string;
  }
  | {
    readonly type: "confirm_receive";
    readonly identifier: Uint8Array;
    readonly numSubscribers: number;
    readonly url: string;
  }
  | { readonly type: "confirm_missed"; readonly topic: Uint8Array; readonly url: string }
  // to_subscriber (broadcaster produces, subscriber verifies)
  | {
    readonly type: "receive";
    readonly url: string;
    readonly topic: Uint8Array;
    readonly identifier: Uint8Array;
    readonly sha512: Uint8Array;
  }
  | { readonly type: "missed"; readonly recovery: string; readonly topic: Uint8Array }
  | {
    readonly type: "confirm_subscribe_exact";
    readonly url: string;
    readonly recovery: string | null;
    readonly topic: Uint8Array;
  }
  | {
    readonly type: "confirm_subscribe_glob";
    readonly url: string;
    readonly recovery: string | null;
    readonly glob: string;
  }
  | {
    readonly type: "confirm_notify";
    readonly identifier: Uint8Array;
    readonly subscribers: number;
    readonly topic: Uint8Array;
    readonly sha512: Uint8Array;
  }
  | { readonly type: "check_subscriptions_response"; readonly etag: SignedEtag }
  | { readonly type: "set_subscriptions_response"; readonly etag: SignedEtag }
  | { readonly type: "stateful_confirm_configure"; readonly broadcasterNonce: Uint8Array }
  | {
    readonly type: "stateful_enable_zstd_preset";
    readonly url: string;
    readonly compressorId: number;
    readonly level: number;
    readonly minSize: number;
    /** Signed as u64: 2⁶⁴−1 (no limit, what the reference sends) needs a bigint. */
    readonly maxSize: number | bigint;
  }
  | {
    readonly type: "stateful_enable_zstd_custom";
    readonly url: string;
    readonly compressorId: number;
    readonly level: number;
    readonly minSize: number;
    /** Signed as u64: 2⁶⁴−1 (no limit, what the reference sends) needs a bigint. */
    readonly maxSize: number | bigint;
    readonly dictionarySha512: Uint8Array;
  }
  | {
    readonly type: "stateful_disable_zstd_custom";
    readonly compressorId: number;
    readonly url: string;
  }
  | {
    readonly type: "stateful_continue_notify";
    readonly identifier: Uint8Array;
    readonly partId: number;
  };

/** The operation names. */
export type AuthMessageType = AuthMessage["type"];

/**
 * One direction's strategy. `now` is epoch seconds (fractional allowed);
 * `tracing` is exactly the bytes that travel with the message.
 */
export interface AuthStrategy {
  /** `none`, `token` or `hmac` (for banners and logs). */
  readonly kind: "none" | "token" | "hmac";
  /** The authorization text to send, or null for none (no header / length-0 field). */
  authorize(message: AuthMessage, tracing: Uint8Array, now: number): Promise<string | null>;
  /**
   * Checks a received authorization (null = absent). Never throws for any
   * input: malformed or over-long text is `forbidden`; a failing replay
   * store is `unavailable`.
   */
  verify(
    message: AuthMessage,
    tracing: Uint8Array,
    authorization: string | null,
    now: number,
  ): Promise<AuthResult>;
  /** Releases background work (replay-store cleanup). Idempotent. */
  close(): Promise<void>;
}

/** Both directions, as a broadcaster (or a subscriber) holds them. */
export interface AuthConfig {
  /** Messages whose recipient is a broadcaster. */
  readonly toBroadcaster: AuthStrategy;
  /** Messages whose recipient is a subscriber. */
  readonly toSubscriber: AuthStrategy;
}
