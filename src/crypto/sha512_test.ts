import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { nodeSha512 } from "./_node.ts";
import { openLibcryptoDeno } from "./_libcrypto_deno.ts";
import { nativeSha512Unavailable, passesSelfTest, sha512Backend } from "./sha512.ts";
import type { Sha512Backend } from "./types.ts";

const reference = (b: Uint8Array) => new Uint8Array(createHash("sha512").update(b).digest());
const bytes = (n: number) => new Uint8Array(n).map((_, i) => (i * 31 + (n & 0xff)) & 0xff);

// Opened here, at load, like the module's own: the library stays open.
const opened = openLibcryptoDeno();
const backends: Sha512Backend[] = [nodeSha512, ...("reason" in opened ? [] : [opened])];

for (const b of backends) {
  Deno.test(`sha512 ${b.name}: digests and hmac agree with node:crypto's createHash/createHmac`, () => {
    for (const n of [0, 1, 63, 64, 111, 112, 127, 128, 129, 1000, 70_000]) {
      const data = bytes(n);
      assert.deepEqual(new Uint8Array(b.digest(data)), reference(data), `digest of ${n}`);
      for (const keyLength of [0, 20, 64, 128]) {
        const key = bytes(keyLength + 1).subarray(1);
        assert.deepEqual(
          new Uint8Array(b.hmac(key)(data)),
          new Uint8Array(createHmac("sha512", key).update(data).digest()),
          `hmac of ${n} with a ${keyLength}-byte key`,
        );
      }
    }
  });

  Deno.test(`sha512 ${b.name}: a stream of uneven chunks, also hashed off-thread`, async () => {
    const data = bytes(3 * 1024 * 1024 + 5);
    for (const offThread of [false, true]) {
      const s = b.stream(offThread);
      let at = 0;
      for (const size of [1, 300_000, 64, 1024 * 1024, 7]) {
        await s.update(data.subarray(at, at + size));
        at += size;
      }
      await s.update(data.subarray(at));
      assert.deepEqual(new Uint8Array(s.digest()), reference(data));
      assert.throws(() => s.digest());
      s.dispose();
    }
  });

  Deno.test(`sha512 ${b.name}: a stream disposed while hashing off-thread ends cleanly`, async () => {
    const s = b.stream(true);
    const pending = s.update(bytes(1024 * 1024));
    s.dispose();
    s.dispose();
    await pending;
    assert.throws(() => s.update(bytes(1)));
  });
}

Deno.test("sha512: libcrypto is used where it loads, else the reason is kept", () => {
  const why = nativeSha512Unavailable();
  if (why === null) assert.match(sha512Backend().name, /libcrypto/);
  else assert.equal(sha512Backend().name, "node:crypto");
});

Deno.test("sha512: a staged hash of uneven chunks equals node:crypto's, and can be dropped", async () => {
  const { StagedSha512 } = await import("./staged.ts");
  const data = bytes(2 * 1024 * 1024 + 333);
  const staged = new StagedSha512();
  for (let at = 0; at < data.length;) {
    const size = Math.min(data.length - at, [7, 200_000, 1024 * 1024 + 3][at % 3]!);
    await staged.update(data.subarray(at, at + size));
    at += size;
  }
  assert.deepEqual(new Uint8Array(await staged.digest()), reference(data));
  const dropped = new StagedSha512(10);
  await dropped.update(bytes(10));
  await dropped.dispose();
});

for (const b of backends) {
  Deno.test(`sha512 ${b.name}: passes the known-answer self-test`, () => {
    assert.equal(passesSelfTest(b), true);
  });
}

Deno.test("sha512 self-test: a backend with a wrong digest, stream or hmac fails it", () => {
  const flip = (f: (x: Uint8Array) => Uint8Array) => (x: Uint8Array) => {
    const out = new Uint8Array(f(x));
    out[0]! ^= 1;
    return out;
  };
  const wrongDigest: Sha512Backend = { ...nodeSha512, digest: flip(nodeSha512.digest) };
  const wrongHmac: Sha512Backend = { ...nodeSha512, hmac: (k) => flip(nodeSha512.hmac(k)) };
  const wrongStream: Sha512Backend = {
    ...nodeSha512,
    stream(offThread) {
      const inner = nodeSha512.stream(offThread);
      return { ...inner, digest: () => flip(() => inner.digest())(new Uint8Array(0)) };
    },
  };
  for (const b of [wrongDigest, wrongHmac, wrongStream]) assert.equal(passesSelfTest(b), false);
});

Deno.test("sha512: where libcrypto opens in this process, the module chose it", () => {
  // Catches a module that fell back without a reason to (e.g. a self-test that threw).
  if ("reason" in opened) return;
  assert.equal(nativeSha512Unavailable(), null);
  assert.match(sha512Backend().name, /libcrypto/);
});
