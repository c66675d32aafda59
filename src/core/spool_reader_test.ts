import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GrowingSpool, MessageAbandoned } from "./growing_spool.ts";
import { SpoolFile } from "./spool.ts";
import { SpoolRangeReader } from "./spool_reader.ts";

function pattern(n: number, seed: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => (i * 7 + seed) & 0xff);
}

/** Descriptors this process has open (Linux). */
async function openDescriptors(): Promise<number> {
  return (await readdir("/proc/self/fd")).length;
}

async function withSpool(
  total: number,
  fn: (file: SpoolFile, spool: GrowingSpool) => Promise<void>,
): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "lps-range-test-"));
  const file = await SpoolFile.create(root);
  try {
    await fn(file, new GrowingSpool(file.path, total, 1000));
  } finally {
    await file.remove();
    await rm(root, { recursive: true, force: true });
  }
}

Deno.test("a spool range reader reads every part through one descriptor, closed by close()", async () => {
  await withSpool(100_000, async (file, spool) => {
    const body = pattern(100_000, 5);
    await file.write(body);
    spool.wrote(body.length);
    spool.verify();
    const reader = new SpoolRangeReader(file.path, spool);
    const before = await openDescriptors();
    for (let start = 0; start < body.length; start += 10_000) {
      const part = await reader.read(start, start + 10_000, new Uint8Array(10_000));
      assert.deepEqual(part, body.subarray(start, start + 10_000));
      assert.equal(await openDescriptors(), before + 1);
    }
    await reader.close();
    assert.equal(await openDescriptors(), before);
    await reader.close(); // idempotent
    await assert.rejects(reader.read(0, 10, new Uint8Array(10)), /Spool reader closed/);
  });
});

Deno.test("a spool range reader waits for bytes being written, and for verify at the end", async () => {
  await withSpool(50_000, async (file, spool) => {
    const body = pattern(50_000, 9);
    const reader = new SpoolRangeReader(file.path, spool);
    try {
      const first = reader.read(0, 20_000, new Uint8Array(20_000));
      await file.write(body.subarray(0, 30_000));
      spool.wrote(30_000);
      assert.deepEqual(await first, body.subarray(0, 20_000));
      await file.write(body.subarray(30_000));
      spool.wrote(20_000);
      // The last 1000 bytes are held back until the digest matched.
      const last = reader.read(20_000, 50_000, new Uint8Array(30_000));
      let settled = false;
      last.then(() => settled = true, () => settled = true);
      assert.deepEqual(
        await reader.read(20_000, 49_000, new Uint8Array(29_000)),
        body.subarray(20_000, 49_000),
      );
      assert.equal(settled, false, "the held-back bytes came out before verification");
      spool.verify();
      assert.deepEqual(await last, body.subarray(20_000));
    } finally {
      await reader.close();
    }
  });
});

Deno.test("a spool range reader fails with the reason once the message is abandoned", async () => {
  await withSpool(50_000, async (file, spool) => {
    const reader = new SpoolRangeReader(file.path, spool);
    try {
      await file.write(pattern(10_000, 1));
      spool.wrote(10_000);
      const waiting = reader.read(0, 20_000, new Uint8Array(20_000));
      spool.abort(new MessageAbandoned("SHA-512 mismatch"));
      await assert.rejects(waiting, MessageAbandoned);
      await assert.rejects(reader.read(0, 5_000, new Uint8Array(5_000)), MessageAbandoned);
    } finally {
      await reader.close();
    }
  });
});
