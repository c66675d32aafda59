/**
 * The `token` strategy (docs/protocol/auth.md#token): every authorization is
 * `Bearer <secret>`, compared as a whole in constant time.
 *
 * @module
 */

import { randomBytes, timingSafeEqual } from "../crypto/equal.ts";
import { hmacSha512 } from "../crypto/sha512.ts";
import { encodeUtf8 } from "../protocol/mod.ts";
import type { AuthStrategy } from "./types.ts";

/**
 * Creates the `token` strategy. Absent → `unauthorized`; exactly
 * `Bearer <secret>` (same UTF-8 bytes) → `ok`; anything else, including
 * non-ASCII text, → `forbidden`.
 */
export function tokenAuth(secret: string): AuthStrategy {
  // Comparing keyed digests instead of the texts gives equal-length inputs
  // to timingSafeEqual whatever was received, so neither the secret's length
  // nor its content leaks through an early exit. The key only has to be
  // unknown to the peer, so a random one per strategy suffices.
  const digest = hmacSha512(randomBytes(32));
  const value = `Bearer ${secret}`;
  // Computed at the first check, not here: hashing now would open libcrypto
  // at start where its opening is deferred (src/crypto/defer.ts).
  let expected: Uint8Array | null = null;
  return {
    kind: "token",
    authorize: () => Promise.resolve(value),
    verify(_message, _tracing, authorization, _now) {
      if (authorization === null) return Promise.resolve("unauthorized");
      try {
        expected ??= digest(encodeUtf8(value));
        const ok = timingSafeEqual(digest(encodeUtf8(authorization)), expected);
        return Promise.resolve(ok ? "ok" : "forbidden");
      } catch {
        return Promise.resolve("forbidden");
      }
    },
    close: () => Promise.resolve(),
  };
}
