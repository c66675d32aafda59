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

import { nativeDeferred } from "./_defer_flag.ts";
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
 * Chosen once for the life of the process: when this module loads, or, when
 * the entry point imported `./defer.ts` first (the CLI, the bench server), on
 * the first hash. Deferring saves about 6.5 MiB resident on an idle Deno
 * broadcaster (libcrypto mapped and initialised), but inside a test it would
 * open the library during whichever test hashes first, which the resource
 * sanitizer reports as a leak: so it is the entry point's choice.
 */
let choice: { backend: Sha512Backend; unavailable: string | null } | null = nativeDeferred()
  ? null
  : chooseBackend();

function chosen(): Sha512Backend {
  return (choice ??= chooseBackend()).backend;
}

/** The backend in use (its name says which); chooses it now if that was deferred. */
export function sha512Backend(): Sha512Backend {
  return chosen();
}

/** SHA-512 of `bytes`. */
export function sha512(bytes: Uint8Array): Uint8Array {
  return (choice?.backend ?? chosen()).digest(bytes);
}

/**
 * An incremental SHA-512; `offThread` for a large message whose updates may
 * then hash on another thread (see {@link Sha512Stream.update}).
 */
export function sha512Stream(offThread = false): Sha512Stream {
  return (choice?.backend ?? chosen()).stream(offThread);
}

/**
 * HMAC-SHA512 under `key`, as a function of the message (the key is prepared
 * once: now, or on the first message while the backend's choice is deferred).
 */
export function hmacSha512(key: Uint8Array): (message: Uint8Array) => Uint8Array {
  if (choice !== null) return choice.backend.hmac(key);
  if (key.length > 128) throw new RangeError("HMAC key longer than one block");
  let held: Uint8Array | null = key.slice();
  let sign: ((message: Uint8Array) => Uint8Array) | null = null;
  return (message) => {
    if (sign === null) {
      sign = chosen().hmac(held!);
      held!.fill(0);
      held = null;
    }
    return sign(message);
  };
}

/** Why libcrypto is not in use (null when it is); for a startup log line. */
export function nativeSha512Unavailable(): string | null {
  chosen();
  return choice!.unavailable;
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
