/**
 * The `token` strategy (docs/protocol/auth.md#token): every authorization is
 * `Bearer <secret>`, compared as a whole in constant time.
 *
 * @module
 */

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { encodeUtf8 } from "../protocol/mod.ts";
import type { AuthStrategy } from "./types.ts";

// Comparing keyed digests instead of the texts gives equal-length inputs
// to timingSafeEqual whatever was received, so neither the secret's length
// nor its content leaks through an early exit. The key only has to be
// unknown to the peer, so a per-process random one suffices.
const DIGEST_KEY = randomBytes(32);

function digest(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac("sha256", DIGEST_KEY).update(bytes).digest());
}

/**
 * Creates the `token` strategy. Absent → `unauthorized`; exactly
 * `Bearer <secret>` (same UTF-8 bytes) → `ok`; anything else, including
 * non-ASCII text, → `forbidden`.
 */
export function tokenAuth(secret: string): AuthStrategy {
  const value = `Bearer ${secret}`;
  const expected = digest(encodeUtf8(value));
  return {
    kind: "token",
    authorize: () => Promise.resolve(value),
    verify(_message, _tracing, authorization, _now) {
      if (authorization === null) return Promise.resolve("unauthorized");
      try {
        const ok = timingSafeEqual(digest(encodeUtf8(authorization)), expected);
        return Promise.resolve(ok ? "ok" : "forbidden");
      } catch {
        return Promise.resolve("forbidden");
      }
    },
    close: () => Promise.resolve(),
  };
}
