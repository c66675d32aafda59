/**
 * The exact bytes an hmac authorization signs (docs/protocol/auth.md#signed-bytes): a common
 * prefix (type, timestamp, nonce, tracing) followed by the operation's fields.
 *
 * @module
 */

import { Writer } from "../protocol/mod.ts";
import type { AuthMessage, AuthMessageType, SignedEtag } from "./types.ts";

/**
 * The signed type discriminator per operation. The reference numbers them in
 * declaration order; the value is what stops a code made for one layout
 * being accepted for another with the same field bytes.
 */
export const MESSAGE_TYPE_VALUES: Readonly<Record<AuthMessageType, number>> = {
  subscribe_exact: 1,
  subscribe_glob: 2,
  notify: 3,
  stateful_configure: 4,
  check_subscriptions: 5,
  set_subscriptions: 6,
  stateful_continue_receive: 7,
  confirm_receive: 8,
  confirm_missed: 9,
  receive: 10,
  missed: 11,
  confirm_subscribe_exact: 12,
  confirm_subscribe_glob: 13,
  confirm_notify: 14,
  check_subscriptions_response: 15,
  set_subscriptions_response: 16,
  stateful_confirm_configure: 17,
  stateful_enable_zstd_preset: 18,
  stateful_enable_zstd_custom: 19,
  stateful_disable_zstd_custom: 20,
  stateful_continue_notify: 21,
};

/**
 * Builds `to_sign` for `message` with the given integer `timestamp`, `nonce`
 * text and `tracing` bytes.
 *
 * @throws {RangeError} when a field does not fit its length prefix or
 * integer width (nonce > 255 bytes, url > 65535 bytes, part id > 255, …), or
 * a hash is not 64 bytes
 */
export function encodeToSign(
  message: AuthMessage,
  timestamp: number,
  nonce: string,
  tracing: Uint8Array,
): Uint8Array {
  const w = new Writer(capacityFor(message, nonce, tracing));
  w.u8(MESSAGE_TYPE_VALUES[message.type]).u64(timestamp).lp8(nonce).lp16(tracing);
  switch (message.type) {
    case "subscribe_exact":
    case "confirm_subscribe_exact":
      w.lp16(message.url).lp16Optional(message.recovery).lp16(message.topic);
      break;
    case "subscribe_glob":
    case "confirm_subscribe_glob":
      w.lp16(message.url).lp16Optional(message.recovery).lp16(message.glob);
      break;
    case "notify":
      w.lp16(message.topic).lp8(message.identifier).bytes(sha512(message.sha512));
      break;
    case "stateful_configure":
      w.lp8(message.subscriberNonce).u8(message.enableZstd ? 1 : 0)
        .u8(message.enableTraining ? 1 : 0).u16(message.initialDict);
      break;
    case "check_subscriptions":
      w.lp16(message.url);
      break;
    case "set_subscriptions":
      w.lp16(message.url);
      etag(w, message.etag);
      break;
    case "stateful_continue_receive":
      w.lp8(message.identifier).u8(message.partId).lp16(message.url);
      break;
    case "confirm_receive":
      w.lp8(message.identifier).u32(message.numSubscribers).lp16(message.url);
      break;
    case "confirm_missed":
      w.lp16(message.topic).lp16(message.url);
      break;
    case "receive":
      w.lp16(message.url).lp16(message.topic).lp8(message.identifier)
        .bytes(sha512(message.sha512));
      break;
    case "missed":
      w.lp16(message.recovery).lp16(message.topic);
      break;
    case "confirm_notify":
      w.lp8(message.identifier).u32(message.subscribers).lp16(message.topic)
        .bytes(sha512(message.sha512));
      break;
    case "check_subscriptions_response":
    case "set_subscriptions_response":
      etag(w, message.etag);
      break;
    case "stateful_confirm_configure":
      w.lp8(message.broadcasterNonce);
      break;
    case "stateful_enable_zstd_preset":
    case "stateful_enable_zstd_custom":
      w.lp16(message.url).u32(message.compressorId).u32(message.level)
        .u64(message.minSize).u64(message.maxSize);
      if (message.type === "stateful_enable_zstd_custom") {
        w.bytes(sha512(message.dictionarySha512));
      }
      break;
    case "stateful_disable_zstd_custom":
      w.u32(message.compressorId).lp16(message.url);
      break;
    case "stateful_continue_notify":
      w.lp8(message.identifier).u32(message.partId);
      break;
  }
  // A view of the writer's buffer: the bytes are only hashed.
  return w.finish();
}

// An upper bound on the encoded size, so the writer never has to grow (and
// a field too long for its prefix still fails on the prefix check).
function capacityFor(message: AuthMessage, nonce: string, tracing: Uint8Array): number {
  let n = 16 + nonce.length * 3 + tracing.length;
  for (const v of Object.values(message)) {
    if (typeof v === "string") n += 2 + v.length * 3;
    else if (v instanceof Uint8Array) n += 2 + v.length;
    else if (typeof v === "object" && v !== null) n += 1 + (v as SignedEtag).etag.length;
    else n += 8;
  }
  return n;
}

// Hashes travel without a length prefix, so a wrong length would silently
// shift every later field; refuse it instead.
function sha512(hash: Uint8Array): Uint8Array {
  if (hash.length !== 64) {
    throw new RangeError(`Invalid sha512 length: ${hash.length}, expected 64`);
  }
  return hash;
}

function etag(w: Writer, e: SignedEtag): void {
  w.u8(e.format).bytes(sha512(e.etag));
}
