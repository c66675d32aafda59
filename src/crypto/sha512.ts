/**
 * SHA-512 for the whole broadcaster (notify digests, hmac codes): in Deno the
 * system's libcrypto over FFI when it loads (it needs `--allow-ffi`), else
 * `node:crypto`; Node and Bun use `node:crypto`, which is OpenSSL or
 * BoringSSL already.
 *
 * @example
 * ```ts
 * import { sha512 } from "./sha512.ts";
 * console.log(sha512(new TextEncoder().encode("hello")).length); // 64
 * ```
 *
 * @module
 */

import { nodeSha512 } from "./_node.ts";
import type { Sha512Backend, Sha512Stream } from "./types.ts";

export type { Sha512Backend, Sha512Stream } from "./types.ts";

/**
 * Chosen once, when this module loads (so the library is open before any
 * caller, and for the life of the process).
 */
const choice = await chooseBackend();
const backend: Sha512Backend = choice.backend;

/** The backend in use (its name says which). */
export function sha512Backend(): Sha512Backend {
  return backend;
}

/** SHA-512 of `bytes`. */
export function sha512(bytes: Uint8Array): Uint8Array {
  return backend.digest(bytes);
}

/**
 * An incremental SHA-512; `offThread` for a large message whose updates may
 * then hash on another thread (see {@link Sha512Stream.update}).
 */
export function sha512Stream(offThread = false): Sha512Stream {
  return backend.stream(offThread);
}

/** HMAC-SHA512 under `key`, as a function of the message (the key is prepared once). */
export function hmacSha512(key: Uint8Array): (message: Uint8Array) => Uint8Array {
  return backend.hmac(key);
}

/** Why libcrypto is not in use (null when it is); for a startup log line. */
export function nativeSha512Unavailable(): string | null {
  return choice.unavailable;
}

/** libcrypto where that is faster and possible (Deno with the ffi permission), else node:crypto. */
async function chooseBackend(): Promise<
  { backend: Sha512Backend; unavailable: string | null }
> {
  if (!("Deno" in globalThis) || "Bun" in globalThis) {
    return { backend: nodeSha512, unavailable: "node:crypto is native here" };
  }
  try {
    const { openLibcryptoDeno } = await import("./_libcrypto_deno.ts");
    const opened = openLibcryptoDeno();
    if ("reason" in opened) return { backend: nodeSha512, unavailable: opened.reason };
    if (!selfTest(opened)) {
      return { backend: nodeSha512, unavailable: "libcrypto's SHA-512 disagrees with node:crypto" };
    }
    return { backend: opened, unavailable: null };
  } catch (e) {
    return { backend: nodeSha512, unavailable: e instanceof Error ? e.message : String(e) };
  }
}

/** A known-answer check against `node:crypto` before trusting a library. */
function selfTest(candidate: Sha512Backend): boolean {
  const data = new TextEncoder().encode("lonelypss sha-512 self-test");
  const same = (a: Uint8Array, b: Uint8Array) =>
    a.length === b.length && a.every((x, i) => x === b[i]);
  const key = new Uint8Array(64).fill(7);
  const stream = candidate.stream(false);
  stream.update(data.subarray(0, 5));
  stream.update(data.subarray(5));
  return same(candidate.digest(data), nodeSha512.digest(data)) &&
    same(stream.digest(), nodeSha512.digest(data)) &&
    same(candidate.hmac(key)(data), nodeSha512.hmac(key)(data));
}
