/**
 * SHA-512 through the system's libcrypto (OpenSSL) with `Deno.dlopen`: about
 * 1.4× the throughput of Deno's `node:crypto` on large messages, a third of
 * its cost per call on small ones, and large updates can run on one of
 * Deno's blocking threads (`nonblocking` symbols) while the event loop goes
 * on reading. The only crypto file that touches `Deno.*`; needs
 * `--allow-ffi` (checked first, so nothing prompts).
 *
 * @module
 */

import type { Sha512Backend, Sha512Stream } from "./types.ts";

const SYMBOLS = {
  SHA512: { parameters: ["buffer", "usize", "buffer"], result: "pointer" },
  HMAC_CTX_new: { parameters: [], result: "pointer" },
  HMAC_CTX_free: { parameters: ["pointer"], result: "void" },
  HMAC_Init_ex: { parameters: ["pointer", "buffer", "i32", "pointer", "pointer"], result: "i32" },
  HMAC_Update: { parameters: ["pointer", "buffer", "usize"], result: "i32" },
  HMAC_Final: { parameters: ["pointer", "buffer", "pointer"], result: "i32" },
  EVP_sha512: { parameters: [], result: "pointer" },
  EVP_MD_CTX_new: { parameters: [], result: "pointer" },
  EVP_MD_CTX_free: { parameters: ["pointer"], result: "void" },
  EVP_DigestInit_ex: { parameters: ["pointer", "pointer", "pointer"], result: "i32" },
  EVP_DigestUpdate: { parameters: ["pointer", "buffer", "usize"], result: "i32" },
  EVP_DigestUpdateOffThread: {
    name: "EVP_DigestUpdate",
    parameters: ["pointer", "buffer", "usize"],
    result: "i32",
    nonblocking: true,
  },
  EVP_DigestFinal_ex: { parameters: ["pointer", "buffer", "pointer"], result: "i32" },
} as const;

type Ptr = Deno.PointerValue;

/** The symbols as called here (sizes as numbers, which Deno accepts for `usize`). */
interface Lib {
  SHA512(d: Uint8Array, n: number, md: Uint8Array): Ptr;
  HMAC_CTX_new(): Ptr;
  HMAC_CTX_free(ctx: Ptr): void;
  HMAC_Init_ex(ctx: Ptr, key: Uint8Array | null, keyLength: number, md: Ptr, engine: null): number;
  HMAC_Update(ctx: Ptr, d: Uint8Array, n: number): number;
  HMAC_Final(ctx: Ptr, out: Uint8Array, outLength: null): number;
  EVP_sha512(): Ptr;
  EVP_MD_CTX_new(): Ptr;
  EVP_MD_CTX_free(ctx: Ptr): void;
  EVP_DigestInit_ex(ctx: Ptr, md: Ptr, engine: null): number;
  EVP_DigestUpdate(ctx: Ptr, d: Uint8Array, n: number): number;
  EVP_DigestUpdateOffThread(ctx: Ptr, d: Uint8Array, n: number): Promise<number>;
  EVP_DigestFinal_ex(ctx: Ptr, out: Uint8Array, outLength: null): number;
}

/** Library names to try; on macOS only versioned Homebrew builds (the unversioned system one aborts the process). */
function candidates(os: string): string[] {
  switch (os) {
    case "linux":
      return ["libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.so"];
    case "darwin":
      return [
        "/opt/homebrew/opt/openssl@3/lib/libcrypto.3.dylib",
        "/usr/local/opt/openssl@3/lib/libcrypto.3.dylib",
      ];
    default:
      return [];
  }
}

/** Opens libcrypto; the backend, or why not. */
export function openLibcryptoDeno(): Sha512Backend | { readonly reason: string } {
  let reason = "no libcrypto for this operating system";
  for (const path of candidates(Deno.build.os)) {
    if (Deno.permissions.querySync({ name: "ffi", path }).state !== "granted") {
      return { reason: "the ffi permission is not granted (run with --allow-ffi)" };
    }
    try {
      return backend(Deno.dlopen(path, SYMBOLS).symbols as unknown as Lib, path);
    } catch (e) {
      reason = `${path}: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  return { reason };
}

function backend(lib: Lib, path: string): Sha512Backend {
  const md = lib.EVP_sha512();
  if (md === null) throw new Error("EVP_sha512 is missing");
  return {
    name: `libcrypto (${path}, Deno FFI)`,
    digest(bytes) {
      const out = new Uint8Array(64);
      if (lib.SHA512(nonEmpty(bytes), bytes.length, out) === null) throw new Error("SHA512 failed");
      return out;
    },
    stream: (offThread) => new EvpStream(lib, md, offThread),
    hmac(key) {
      if (key.length > 128) throw new RangeError("HMAC key longer than one block");
      // One keyed context per key, reset (not re-keyed) per message: half
      // the cost of the one-shot HMAC(), which derives the key pads each call.
      const ctx = lib.HMAC_CTX_new();
      if (ctx === null || lib.HMAC_Init_ex(ctx, nonEmpty(key), key.length, md, null) !== 1) {
        if (ctx !== null) lib.HMAC_CTX_free(ctx);
        throw new Error("HMAC_Init_ex failed");
      }
      const sign = (message: Uint8Array) => {
        const out = new Uint8Array(64);
        if (
          lib.HMAC_Init_ex(ctx, null, 0, null, null) !== 1 ||
          lib.HMAC_Update(ctx, nonEmpty(message), message.length) !== 1 ||
          lib.HMAC_Final(ctx, out, null) !== 1
        ) {
          throw new Error("HMAC failed");
        }
        return out;
      };
      hmacContexts.register(sign, { lib, ctx });
      return sign;
    },
  };
}

/**
 * Deno passes an empty buffer as a null pointer, which some libcrypto calls
 * refuse even with a zero length; a one-byte buffer (with length 0) stands in.
 */
function nonEmpty(bytes: Uint8Array): Uint8Array {
  return bytes.length === 0 ? ONE_BYTE : bytes;
}

const ONE_BYTE = new Uint8Array(1);

/** Updates at least this large go to a blocking thread (smaller ones cost more to hand over). */
const OFF_THREAD_BYTES = 256 * 1024;

/** Frees the keyed context of an HMAC function nobody holds any more. */
const hmacContexts = new FinalizationRegistry<{ lib: Lib; ctx: Ptr }>(
  ({ lib, ctx }) => lib.HMAC_CTX_free(ctx),
);

/** Frees contexts of streams dropped without digest or dispose. */
const leaks = new FinalizationRegistry<{ lib: Lib; ctx: Ptr }>(
  ({ lib, ctx }) => lib.EVP_MD_CTX_free(ctx),
);

class EvpStream implements Sha512Stream {
  readonly #lib: Lib;
  #ctx: Ptr;
  readonly #offThread: boolean;
  /** An update running on a blocking thread: the context is busy until it settles. */
  #pending: Promise<number> | null = null;
  readonly #token = {};

  constructor(lib: Lib, md: Ptr, offThread: boolean) {
    this.#lib = lib;
    const ctx = lib.EVP_MD_CTX_new();
    if (ctx === null) throw new Error("EVP_MD_CTX_new failed");
    if (lib.EVP_DigestInit_ex(ctx, md, null) !== 1) {
      lib.EVP_MD_CTX_free(ctx);
      throw new Error("EVP_DigestInit_ex failed");
    }
    this.#ctx = ctx;
    this.#offThread = offThread;
    leaks.register(this, { lib, ctx }, this.#token);
  }

  update(chunk: Uint8Array): void | Promise<void> {
    const ctx = this.#live();
    if (this.#pending !== null) throw new Error("SHA-512 update while another is running");
    if (!this.#offThread || chunk.length < OFF_THREAD_BYTES) {
      if (this.#lib.EVP_DigestUpdate(ctx, nonEmpty(chunk), chunk.length) !== 1) {
        throw new Error("EVP_DigestUpdate failed");
      }
      return;
    }
    const pending = this.#lib.EVP_DigestUpdateOffThread(ctx, chunk, chunk.length);
    this.#pending = pending;
    return pending.then((ok) => {
      this.#pending = null;
      if (ok !== 1) throw new Error("EVP_DigestUpdate failed");
      // Disposed while hashing: the context could only be freed now.
      if (this.#ctx === null) this.#lib.EVP_MD_CTX_free(ctx);
    });
  }

  digest(): Uint8Array {
    const ctx = this.#live();
    if (this.#pending !== null) throw new Error("SHA-512 digest while an update is running");
    const out = new Uint8Array(64);
    const ok = this.#lib.EVP_DigestFinal_ex(ctx, out, null);
    this.#release(ctx);
    if (ok !== 1) throw new Error("EVP_DigestFinal_ex failed");
    return out;
  }

  dispose(): void {
    const ctx = this.#ctx;
    if (ctx === null) return;
    // An update still running frees the context when it ends (above).
    if (this.#pending !== null) {
      this.#ctx = null;
      leaks.unregister(this.#token);
      return;
    }
    this.#release(ctx);
  }

  #live(): Ptr {
    if (this.#ctx === null) throw new Error("SHA-512 stream already finished");
    return this.#ctx;
  }

  #release(ctx: Ptr): void {
    this.#ctx = null;
    leaks.unregister(this.#token);
    this.#lib.EVP_MD_CTX_free(ctx);
  }
}
