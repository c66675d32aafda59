/**
 * The `hmac` strategy (docs/protocol/auth.md#hmac): `X-HMAC <timestamp>:<nonce>:<code>`
 * where code is HMAC-SHA512 over {@link encodeToSign}'s bytes, checked
 * against a time window and a replay store.
 *
 * @module
 */

import { hmacSha512 } from "../crypto/sha512.ts";
import { randomIdentifier } from "../crypto/random.ts";
import { randomBytes, timingSafeEqual } from "../crypto/equal.ts";
import { encodeUtf8 } from "../protocol/mod.ts";
import { decodeBase64Exact, encodeBase64 } from "./_base64.ts";
import { replayExpiry, type ReplayStore } from "./replay_store.ts";
import { encodeToSign } from "./signed_fields.ts";
import type { AuthMessage, AuthResult, AuthStrategy } from "./types.ts";

/** Options for {@link hmacAuth}. */
export interface HmacAuthOptions {
  /** The direction's 64-byte secret. */
  readonly secret: Uint8Array;
  /** Where used codes are remembered; closed by the strategy's `close`. */
  readonly replay: ReplayStore;
  /** Accepted clock difference either way, seconds (default 120, as the reference). */
  readonly tokenLifetimeSeconds?: number;
  /** Nonce source (tests); default 4 random bytes as unpadded base64url. */
  readonly nonce?: () => string;
}

const PREFIX = "X-HMAC ";
// Canonical decimal only: real producers never emit signs, leading zeros,
// underscores or spaces, all of which Python's int() would accept.
const TIMESTAMP = /^(?:0|[1-9][0-9]{0,15})$/;

/** Creates the `hmac` strategy for one direction. */
export function hmacAuth(opts: HmacAuthOptions): AuthStrategy {
  if (opts.secret.length !== 64) {
    throw new Error(`Invalid hmac secret: ${opts.secret.length} bytes, expected 64`);
  }
  const lifetime = opts.tokenLifetimeSeconds ?? 120;
  const nonceOf = opts.nonce ?? randomNonce;
  const replay = opts.replay;
  const sign = hmacSha512(opts.secret);

  async function check(
    message: AuthMessage,
    tracing: Uint8Array,
    text: string,
    now: number,
  ): Promise<AuthResult> {
    if (!text.startsWith(PREFIX)) return "forbidden";
    const rest = text.slice(PREFIX.length);
    const c1 = rest.indexOf(":");
    const c2 = c1 < 0 ? -1 : rest.indexOf(":", c1 + 1);
    if (c2 < 0) return "forbidden";
    const tsText = rest.slice(0, c1);
    if (!TIMESTAMP.test(tsText)) return "forbidden";
    const timestamp = Number(tsText);
    if (!Number.isSafeInteger(timestamp) || !Number.isFinite(now)) return "forbidden";
    if (Math.abs(now - timestamp) > lifetime) return "forbidden";
    const nonce = rest.slice(c1 + 1, c2);
    if (encodeUtf8(nonce).length > 255) return "forbidden";
    const code = decodeBase64Exact(rest.slice(c2 + 1), false, 64);
    if (code === null) return "forbidden";
    let expected: Uint8Array;
    try {
      expected = sign(encodeToSign(message, timestamp, nonce, tracing));
    } catch {
      return "forbidden"; // a field too long to sign was never signed
    }
    if (!timingSafeEqual(code, expected)) return "forbidden";
    let marked: string;
    try {
      marked = await replay.markUsed(code, replayExpiry(timestamp, now, lifetime), now);
    } catch {
      return "unavailable";
    }
    if (marked === "fresh") return "ok";
    return marked === "replay" ? "forbidden" : "unavailable";
  }

  return {
    kind: "hmac",
    authorize(message, tracing, now) {
      const timestamp = Math.floor(now);
      const nonce = nonceOf();
      let toSign: Uint8Array;
      try {
        toSign = encodeToSign(message, timestamp, nonce, tracing);
      } catch (e) {
        const detail = e instanceof Error ? e.message : String(e);
        return Promise.reject(new RangeError(`Cannot authorize ${message.type}: ${detail}`));
      }
      const code = encodeBase64(sign(toSign), false, true);
      return Promise.resolve(`${PREFIX}${timestamp}:${nonce}:${code}`);
    },
    async verify(message, tracing, authorization, now) {
      if (authorization === null) return "unauthorized";
      try {
        return await check(message, tracing, authorization, now);
      } catch {
        // Never a 500 for anything a peer can send.
        return "forbidden";
      }
    },
    close: () => replay.close(),
  };
}

function randomNonce(): string {
  return encodeBase64(randomIdentifier(4), true, false);
}

/**
 * Decodes a secrets-file hmac secret: base64url, padding optional, exactly
 * 64 bytes.
 *
 * @throws {Error} when the text is not that
 */
export function decodeHmacSecret(text: string): Uint8Array {
  const bytes = decodeBase64Exact(text, true, 64);
  if (bytes === null) {
    throw new Error(
      `Invalid hmac secret: expected 64 bytes as base64url (86 characters of A-Z a-z 0-9 - _, ` +
        `optionally followed by ==), got ${text.length} characters`,
    );
  }
  return bytes;
}

/** Encodes a 64-byte secret as the secrets files do: base64url, no padding (86 characters). */
export function encodeHmacSecret(bytes: Uint8Array): string {
  if (bytes.length !== 64) {
    throw new Error(`Invalid hmac secret: ${bytes.length} bytes, expected 64`);
  }
  return encodeBase64(bytes, true, false);
}

/** Draws a new 64-byte secret from the CSPRNG. */
export function generateHmacSecret(): Uint8Array {
  return randomBytes(64);
}
