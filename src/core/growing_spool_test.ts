import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GrowingSpool, MessageAbandoned } from "./growing_spool.ts";
import { SpoolFile } from "./spool.ts";

function pattern(n: number, seed: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => (i * 7 + seed) & 0xff);
}

async function withSpool(
  total: number,
  holdBack: number,
  fn: (file: SpoolFile, spool: GrowingSpool) => Promise<void>,
): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "lps-growing-test-"));
  const file = await SpoolFile.create(root);
  try {
    await fn(file, new GrowingSpool(file.path, total, holdBack));
  } finally {
    await file.remove();
    await rm(root, { recursive: true, force: true });
  }
}

async function append(file: SpoolFile, spool: GrowingSpool, bytes: Uint8Array): Promise<void> {
  await file.write(bytes);
  spool.wrote(bytes.length);
}

Deno.test("a reader gets the first bytes before the rest is written, and the end only after verify", async () => {
  await withSpool(600_000, 1000, async (file, spool) => {
    const body = pattern(600_000, 3);
    const reader = spool.stream(new Uint8Array([1, 2])).getReader();
    assert.deepEqual((await reader.read()).value, new Uint8Array([1, 2]));
    const firstRead = reader.read();
    // A reader that keeps up waits for a whole chunk (256 KiB), not for every append.
    await append(file, spool, body.subarray(0, 100_000));
    await append(file, spool, body.subarray(100_000, 300_000));
    const first = await firstRead;
    assert.deepEqual(first.value, body.subarray(0, 256 * 1024));

    await append(file, spool, body.subarray(300_000));
    // Everything is written, but the last 1000 bytes wait for the digest.
    const got: Uint8Array[] = [first.value!];
    let seen = first.value!.length;
    while (seen < 600_000 - 1000) {
      const { value } = await reader.read();
      got.push(value!);
      seen += value!.length;
    }
    assert.equal(seen, 599_000);
    assert.equal(spool.readable, 599_000);
    const tail = reader.read();
    let settled = false;
    tail.then(() => settled = true, () => settled = true);
    await Promise.resolve();
    await Promise.resolve();
    assert.equal(settled, false, "the held-back bytes came out before verification");
    spool.verify();
    const last = await tail;
    got.push(last.value!);
    assert.equal((await reader.read()).done, true);
    const whole = new Uint8Array(await new Blob(got as Uint8Array<ArrayBuffer>[]).arrayBuffer());
    assert.deepEqual(whole, body);
  });
});

Deno.test("abort fails every reader before the held-back bytes, even with the whole body written", async () => {
  await withSpool(600_000, 64 * 1024, async (file, spool) => {
    await append(file, spool, pattern(600_000, 5));
    const readers = [spool.stream(), spool.stream(), spool.stream()].map((s) => s.getReader());
    // Every reader is mid-message: it has one chunk and more are readable.
    const seen = await Promise.all(readers.map(async (r) => (await r.read()).value!.length));
    assert.ok(seen.every((n) => n > 0 && n < 600_000 - 64 * 1024));
    spool.abort(new MessageAbandoned("Hash mismatch"));
    for (const [i, r] of readers.entries()) {
      let n = seen[i]!;
      const error = await (async () => {
        try {
          for (;;) {
            const { done, value } = await r.read();
            if (done) return null;
            n += value.length;
          }
        } catch (error) {
          return error;
        }
      })();
      assert.ok(n <= 600_000 - 64 * 1024, `a reader saw ${n} bytes`);
      assert.match(String(error), /Hash mismatch/);
    }
    assert.equal(spool.state, "aborted");
  });
});

Deno.test("a fast reader finishes while a slow one has read one chunk", async () => {
  await withSpool(2_000_000, 1, async (file, spool) => {
    const body = pattern(2_000_000, 9);
    const slow = spool.stream().getReader();
    const fast = spool.stream();
    const slowFirst = slow.read();
    for (let at = 0; at < body.length; at += 250_000) {
      await append(file, spool, body.subarray(at, at + 250_000));
    }
    spool.verify();
    const fastWhole = new Uint8Array(await new Response(fast).arrayBuffer());
    assert.deepEqual(fastWhole, body);
    // The slow reader has not been asked for more than its first chunk; it is not in the way.
    const first = await slowFirst;
    assert.ok(first.value!.length < body.length);
    let n = first.value!.length;
    for (;;) {
      const { done, value } = await slow.read();
      if (done) break;
      n += value.length;
    }
    assert.equal(n, body.length);
  });
});

Deno.test("an empty message ends at once after verify", async () => {
  await withSpool(0, 1000, async (_file, spool) => {
    const read = new Response(spool.stream()).arrayBuffer();
    spool.verify();
    assert.equal((await read).byteLength, 0);
  });
});
