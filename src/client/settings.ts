/**
 * Checks and completes the common options.
 *
 * @module
 */

import { noneAuth } from "../auth/mod.ts";
import { ClientError } from "./errors.ts";
import { DEFAULT_QUEUE_LIMITS } from "./subscription.ts";
import type { CommonOptions, Settings } from "./types.ts";

/** Default {@link CommonOptions.spoolThresholdBytes}: 10 MiB. */
export const DEFAULT_SPOOL_THRESHOLD = 10 * 1024 * 1024;
/** Default {@link CommonOptions.maxMessageBytes}: 4 GiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024 * 1024;

/**
 * Resolves `o`, checking every url with `scheme`.
 *
 * @throws {ClientError} `"invalid"` for no broadcasters or a bad url or number
 */
export function resolveSettings(o: CommonOptions, schemes: readonly string[]): Settings {
  if (!Array.isArray(o.broadcasters) || o.broadcasters.length === 0) {
    throw new ClientError("invalid", "Invalid options.broadcasters: expected at least one url");
  }
  const broadcasters = o.broadcasters.map((b) => {
    let u: URL;
    try {
      u = new URL(b);
    } catch {
      throw new ClientError("invalid", `Invalid broadcaster url: ${b}`);
    }
    if (!schemes.includes(u.protocol)) {
      throw new ClientError(
        "invalid",
        `Invalid broadcaster url: ${b}: expected ${schemes.join(" or ")}`,
      );
    }
    return b.replace(/\/+$/, "");
  });
  const positive = (name: string, v: number | undefined, d: number): number => {
    if (v === undefined) return d;
    if (!Number.isFinite(v) || v < 0) throw new ClientError("invalid", `Invalid ${name}: ${v}`);
    return v;
  };
  return {
    broadcasters,
    auth: {
      toBroadcaster: o.auth?.toBroadcaster ?? noneAuth(),
      toSubscriber: o.auth?.toSubscriber ?? noneAuth(),
    },
    spoolThresholdBytes: positive(
      "spoolThresholdBytes",
      o.spoolThresholdBytes,
      DEFAULT_SPOOL_THRESHOLD,
    ),
    spoolDirectory: o.spoolDirectory,
    maxMessageBytes: positive("maxMessageBytes", o.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES),
    queue: {
      maxMessages: Math.max(
        1,
        positive("queue.maxMessages", o.queue?.maxMessages, DEFAULT_QUEUE_LIMITS.maxMessages),
      ),
      maxBytes: positive("queue.maxBytes", o.queue?.maxBytes, DEFAULT_QUEUE_LIMITS.maxBytes),
    },
  };
}

/** Epoch seconds, as the auth strategies take them. */
export function now(): number {
  return Date.now() / 1000;
}

/** Text topics are UTF-8. */
export function topicBytes(topic: string | Uint8Array): Uint8Array {
  const b = typeof topic === "string" ? new TextEncoder().encode(topic) : topic;
  if (b.length > 0xffff) {
    throw new ClientError("invalid", `Topic too long: ${b.length} bytes, at most 65535`);
  }
  return b;
}
