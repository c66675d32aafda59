/**
 * Values as the driver returns them, turned into ours: bytea arrives as a
 * Node `Buffer` (we hand out plain `Uint8Array`s), bigint as a string.
 *
 * @module
 */

import { randomBytes } from "../../crypto/equal.ts";

/** A bytea value as a plain `Uint8Array` (a copy). */
export function bytesOf(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return new Uint8Array(v);
  return new TextEncoder().encode(String(v ?? ""));
}

/** A nullable text column. */
export function textOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

/** Lower-case hex, as PostgreSQL's `decode(x, 'hex')` reads it. */
export function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/**
 * A random positive integer below 2^53: exact as a JS number and as a
 * PostgreSQL bigint, never 0, unguessable enough that two leases never collide.
 */
export function randomId(): number {
  const b = randomBytes(7);
  let v = b[0]! & 0x1f;
  for (let i = 1; i < 7; i++) v = v * 256 + b[i]!;
  return v === 0 ? 1 : v;
}
