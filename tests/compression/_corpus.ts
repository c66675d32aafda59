/**
 * A realistic, reproducible message corpus for compression tests and the
 * benchmark: JSON messages of 100–1,000 bytes such as a pub/sub broadcaster
 * carries — cache invalidations (keys and versions) and token revocations
 * (ids and expiry times) — with random ids, so they do not compress trivially.
 *
 * @module
 */

import { pick, prng } from "../../src/glob/_testing.ts";

const CACHES = ["user-profile", "org-settings", "feature-flags", "product", "price", "session"];
const REGIONS = ["eu-west-1", "us-east-1", "us-west-2", "ap-southeast-2"];
const REASONS = ["update", "delete", "ttl", "migration", "admin"];
const REVOKE = ["logout", "password-change", "compromised", "admin", "expired-session"];

function hex(rand: () => number, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += "0123456789abcdef"[Math.floor(rand() * 16)];
  return s;
}

/** Adds `item()`s to `list` while `msg` stays within `target` bytes; returns the JSON. */
function fill<T>(msg: object, list: T[], target: number, item: () => T): string {
  let json = JSON.stringify(msg);
  for (;;) {
    list.push(item());
    const next = JSON.stringify(msg);
    if (next.length > target) {
      list.pop();
      return json;
    }
    json = next;
  }
}

function invalidation(rand: () => number, target: number): string {
  const cache = pick(rand, CACHES);
  const msg = {
    type: "cache.invalidate",
    cache,
    keys: [] as string[],
    version: Math.floor(rand() * 1e9),
    at: new Date(1764500000000 + Math.floor(rand() * 1e9)).toISOString(),
    origin: `api-${Math.floor(rand() * 12)}.${pick(rand, REGIONS)}`,
    reason: pick(rand, REASONS),
  };
  return fill(
    msg,
    msg.keys,
    target,
    () => `${cache}:${Math.floor(rand() * 1e6)}:v${Math.floor(rand() * 100)}`,
  );
}

function revocation(rand: () => number, target: number): string {
  const revokedAt = 1764500000 + Math.floor(rand() * 1e6);
  const msg = {
    type: "auth.revoke",
    subject: `user:${Math.floor(rand() * 1e6)}`,
    request_id: `req_${hex(rand, 16)}`,
    tokens: [] as { id: string; expires_at: number }[],
    revoked_at: revokedAt,
    reason: pick(rand, REVOKE),
  };
  return fill(msg, msg.tokens, target, () => ({
    id: `tok_${hex(rand, 24)}`,
    expires_at: revokedAt + Math.floor(rand() * 86400 * 30),
  }));
}

/** `count` messages of 100–1,000 bytes, fixed by `seed`. */
export function messageCorpus(count: number, seed = 1): Uint8Array[] {
  const rand = prng(seed);
  const enc = new TextEncoder();
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const target = 100 + Math.floor(rand() * 900);
    out.push(enc.encode(rand() < 0.6 ? invalidation(rand, target) : revocation(rand, target)));
  }
  return out;
}
