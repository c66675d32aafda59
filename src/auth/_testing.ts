/**
 * Test support: turns the `inputs` object of an auth vector
 * (`tests/vectors/auth*.json`) into an {@link AuthMessage}.
 *
 * @module
 */

import { fromHex } from "../protocol/mod.ts";
import type { AuthMessage, AuthMessageType, SignedEtag } from "./types.ts";

/** A vector's `inputs`, as loosely typed JSON. */
export type VectorInputs = Record<string, unknown>;

/** Maps a vector `operation` (which includes unsubscribe variants) to its signed type. */
export function operationType(operation: string): AuthMessageType {
  return operation
    .replace("_no_recovery", "")
    .replace("unsubscribe", "subscribe") as AuthMessageType;
}

/** Builds the message of `type` from a vector's inputs. */
export function messageFromInputs(type: AuthMessageType, i: VectorInputs): AuthMessage {
  const hex = (k: string): Uint8Array => fromHex(str(i, k));
  const num = (k: string): number => i[k] as number;
  const recovery = (i.recovery ?? null) as string | null;
  switch (type) {
    case "subscribe_exact":
    case "confirm_subscribe_exact":
      return { type, url: str(i, "url"), recovery, topic: hex("exact_hex") };
    case "subscribe_glob":
    case "confirm_subscribe_glob":
      return { type, url: str(i, "url"), recovery, glob: str(i, "glob") };
    case "notify":
      return {
        type,
        topic: hex("topic_hex"),
        identifier: hex("identifier_hex"),
        sha512: hex("message_sha512_hex"),
      };
    case "stateful_configure":
      return {
        type,
        subscriberNonce: hex("subscriber_nonce_hex"),
        enableZstd: i.enable_zstd === true,
        enableTraining: i.enable_training === true,
        initialDict: num("initial_dict"),
      };
    case "check_subscriptions":
      return { type, url: str(i, "url") };
    case "set_subscriptions":
      return { type, url: str(i, "url"), etag: etag(i) };
    case "stateful_continue_receive":
      return {
        type,
        identifier: hex("identifier_hex"),
        partId: num("part_id"),
        url: str(i, "url"),
      };
    case "confirm_receive":
      return {
        type,
        identifier: hex("identifier_hex"),
        numSubscribers: num("num_subscribers"),
        url: str(i, "url"),
      };
    case "confirm_missed":
      return { type, topic: hex("topic_hex"), url: str(i, "url") };
    case "receive":
      return {
        type,
        url: str(i, "url"),
        topic: hex("topic_hex"),
        identifier: hex("identifier_hex"),
        sha512: hex("message_sha512_hex"),
      };
    case "missed":
      return { type, recovery: str(i, "recovery"), topic: hex("topic_hex") };
    case "confirm_notify":
      return {
        type,
        identifier: hex("identifier_hex"),
        subscribers: num("subscribers"),
        topic: hex("topic_hex"),
        sha512: hex("message_sha512_hex"),
      };
    case "check_subscriptions_response":
    case "set_subscriptions_response":
      return { type, etag: etag(i) };
    case "stateful_confirm_configure":
      return { type, broadcasterNonce: hex("broadcaster_nonce_hex") };
    case "stateful_enable_zstd_preset":
      return { type, ...zstd(i) };
    case "stateful_enable_zstd_custom":
      return { type, ...zstd(i), dictionarySha512: hex("sha512_hex") };
    case "stateful_disable_zstd_custom":
      return { type, compressorId: num("compressor_identifier"), url: str(i, "url") };
    case "stateful_continue_notify":
      return { type, identifier: hex("identifier_hex"), partId: num("part_id") };
  }
}

function str(i: VectorInputs, k: string): string {
  const v = i[k];
  if (typeof v !== "string") throw new Error(`Vector input ${k} is not a string`);
  return v;
}

function etag(i: VectorInputs): SignedEtag {
  const e = i.strong_etag as { format: number; etag_hex: string };
  return { format: e.format, etag: fromHex(e.etag_hex) };
}

function zstd(i: VectorInputs) {
  return {
    url: str(i, "url"),
    compressorId: i.compressor_identifier as number,
    level: i.compression_level as number,
    minSize: i.min_size as number,
    maxSize: i.max_size as number,
  };
}
