/**
 * SHA-512 through `node:crypto`: the portable backend (native OpenSSL or
 * BoringSSL on Node and Bun; Rust in Deno, where libcrypto is faster when
 * it can be loaded). `node:crypto` is fetched on first use with
 * `process.getBuiltinModule` (Node ≥ 22.3, Bun, Deno), not imported: on Deno
 * importing it, or even touching `process`, loads part of the Node
 * compatibility layer, which a Deno broadcaster using libcrypto never needs.
 *
 * @module
 */

import type { createHash as CreateHash } from "node:crypto";
import type { Sha512Backend, Sha512Stream } from "./types.ts";

let nodeCreateHash: typeof CreateHash | null = null;

function createHash(algorithm: string): ReturnType<typeof CreateHash> {
  if (nodeCreateHash === null) {
    const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
      .process;
    if (typeof p?.getBuiltinModule !== "function") {
      throw new Error("process.getBuiltinModule is missing: Node 22.3 or later is required");
    }
    nodeCreateHash = (p.getBuiltinModule("node:crypto") as { createHash: typeof CreateHash })
      .createHash;
  }
  return nodeCreateHash(algorithm);
}

/** The `node:crypto` backend. */
export const nodeSha512: Sha512Backend = {
  name: "node:crypto",
  // node:crypto's Buffer is a Uint8Array: returned as it is, not copied.
  digest: (bytes) => createHash("sha512").update(bytes).digest(),
  stream(): Sha512Stream {
    let hash: ReturnType<typeof createHash> | null = createHash("sha512");
    const live = () => {
      if (hash === null) throw new Error("SHA-512 stream already finished");
      return hash;
    };
    return {
      update(chunk) {
        live().update(chunk);
      },
      digest() {
        const out = live().digest();
        hash = null;
        return out;
      },
      dispose() {
        hash = null;
      },
    };
  },
  hmac(key) {
    // The two keyed states are prepared once; each code is then two copies,
    // two updates and two digests, about half what `createHmac` costs per
    // call (it derives the padded keys and two hashes every time).
    const block = new Uint8Array(128);
    block.set(key.length > 128 ? createHash("sha512").update(key).digest() : key);
    const inner = createHash("sha512").update(block.map((b) => b ^ 0x36));
    const outer = createHash("sha512").update(block.map((b) => b ^ 0x5c));
    block.fill(0);
    return (message) => outer.copy().update(inner.copy().update(message).digest()).digest();
  },
};
