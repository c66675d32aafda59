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

import { openLibcryptoDeno } from "./_libcrypto_deno.ts";
import { nodeSha512 } from "./_node.ts";
import type { Sha512Backend, Sha512Stream } from "./types.ts";

export type { Sha512Backend, Sha512Stream } from "./types.ts";

/** SHA-512 of {@link SELF_TEST_DATA}, and its HMAC-SHA512 under 64 bytes of 7. */
const SELF_TEST_DIGEST = "7b9faeb2b9d49c6edd31fffe6ff28830dd0cfcef4258bf9c21a85dca6e3128ac" +
  "23e0e3935e388bc76d4a6ef324a2458d63e8f818733f95c83039a85f9e0ab08d";
const SELF_TEST_HMAC = "841661db69494f082776541bd684ca4442498cff0fa6580c4b63a2cf589e091d" +
  "a4619a233e8a0f7f612bdbeb8c5970520dc39e77fd9c7f96a700d47bfc8d711e";
const SELF_TEST_DATA = "lonelypss sha-512 self-test";

/**
 * Chosen once, when this module loads, for the life of the process. Opening
 * the library on first use instead would save about 8 MiB resident on an
 * idle Deno broadcaster, but would open it inside whichever test hashes
 * first, which the resource sanitizer reports as a leak.
 */
const choice = chooseBackend();
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

/**
 * libcrypto where that is faster and possible (Deno with the ffi permission),
 * else node:crypto. The library is checked against known answers, not
 * against node:crypto, which on Deno is then never loaded (it brings part of
 * the Node compatibility layer).
 */
function chooseBackend(): { backend: Sha512Backend; unavailable: string | null } {
  if (!("Deno" in globalThis) || "Bun" in globalThis) {
    return { backend: nodeSha512, unavailable: "node:crypto is native here" };
  }
  try {
    const opened = openLibcryptoDeno();
    if ("reason" in opened) return { backend: nodeSha512, unavailable: opened.reason };
    if (!passesSelfTest(opened)) {
      return { backend: nodeSha512, unavailable: "libcrypto's SHA-512 fails its known answers" };
    }
    return { backend: opened, unavailable: null };
  } catch (e) {
    return { backend: nodeSha512, unavailable: e instanceof Error ? e.message : String(e) };
  }
}

/** Known answers (one-shot, streamed in two pieces, HMAC) before trusting a library. */
export function passesSelfTest(candidate: Sha512Backend): boolean {
  const data = new TextEncoder().encode(SELF_TEST_DATA);
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  const key = new Uint8Array(64).fill(7);
  const stream = candidate.stream(false);
  stream.update(data.subarray(0, 5));
  stream.update(data.subarray(5));
  return hex(candidate.digest(data)) === SELF_TEST_DIGEST &&
    hex(stream.digest()) === SELF_TEST_DIGEST &&
    hex(candidate.hmac(key)(data)) === SELF_TEST_HMAC;
}
