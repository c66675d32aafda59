import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { streamOf } from "./_testing.ts";
import { takeMessage, takeWholeMessage } from "./intake.ts";
import { ByteBudget } from "../core/byte_budget.ts";

function sha512(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha512").update(b).digest());
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "lps-intake-test-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const MESSAGE = new TextEncoder().encode("hello, subscribers");

for (const threshold of [1 << 20, 4]) {
  const where = threshold > MESSAGE.length ? "memory" : "a spool file";
  Deno.test(`takeMessage keeps a message split across chunks in ${where}`, async () => {
    await withDir(async (dir) => {
      const limits = { spoolThresholdBytes: threshold, spoolDir: dir };
      const reader = streamOf([MESSAGE.subarray(5, 9), MESSAGE.subarray(9)]);
      const got = await takeMessage(
        reader,
        [MESSAGE.subarray(0, 5)],
        BigInt(MESSAGE.length),
        sha512(MESSAGE),
        limits,
      );
      assert.ok(got.ok);
      assert.equal(got.message.length, BigInt(MESSAGE.length));
      const body = got.message.withPrefix(new Uint8Array([0xff]));
      assert.equal(!(body instanceof ReadableStream), threshold > MESSAGE.length, "in memory");
      const bytes = new Uint8Array(await new Response(body as BodyInit).arrayBuffer());
      assert.deepEqual(bytes, new Uint8Array([0xff, ...MESSAGE]));
      // A second body is independent of the first.
      const again = new Uint8Array(
        await new Response(got.message.withPrefix(new Uint8Array()) as BodyInit).arrayBuffer(),
      );
      assert.deepEqual(again, MESSAGE);
      assert.equal((await readdir(dir)).length, threshold > MESSAGE.length ? 0 : 1);
      await got.message.dispose();
      assert.deepEqual(await readdir(dir), []);
    });
  });

  Deno.test(`takeMessage rejects bad bodies and leaves nothing in ${where}`, async () => {
    await withDir(async (dir) => {
      const limits = { spoolThresholdBytes: threshold, spoolDir: dir };
      const m = BigInt(MESSAGE.length);
      const longer = await takeMessage(
        streamOf([MESSAGE, new Uint8Array([0])]),
        [],
        m,
        sha512(MESSAGE),
        limits,
      );
      assert.deepEqual(longer, { ok: false, reason: "Body longer than announced" });
      const shorter = await takeMessage(
        streamOf([MESSAGE.subarray(1)]),
        [],
        m,
        sha512(MESSAGE),
        limits,
      );
      assert.deepEqual(shorter, { ok: false, reason: "Body shorter than announced" });
      const wrong = await takeMessage(streamOf([MESSAGE]), [], m, new Uint8Array(64), limits);
      assert.deepEqual(wrong, { ok: false, reason: "Message SHA-512 does not match" });
      const failing = new ReadableStream<Uint8Array>({
        pull(c) {
          c.error(new Error("Client went away"));
        },
      }).getReader();
      // A body that breaks is the peer's doing: a 400 reason, not an exception.
      assert.deepEqual(
        await takeMessage(failing, [MESSAGE.subarray(0, 2)], m, sha512(MESSAGE), limits),
        { ok: false, reason: "Request body could not be read (the client went away?)" },
      );
      assert.deepEqual(await readdir(dir).catch(() => []), []);
    });
  });
}

Deno.test("takeMessage detects an over-long body at the first extra byte without reading on", async () => {
  await withDir(async (dir) => {
    let pulls = 0;
    const reader = new ReadableStream<Uint8Array>({
      pull(c) {
        pulls++;
        c.enqueue(new Uint8Array(10));
      },
    }, { highWaterMark: 0 }).getReader();
    const got = await takeMessage(reader, [], 25n, new Uint8Array(64), {
      spoolThresholdBytes: 100,
      spoolDir: dir,
    });
    assert.deepEqual(got, { ok: false, reason: "Body longer than announced" });
    assert.equal(pulls, 3);
    await reader.cancel();
  });
});

Deno.test("takeMessage accepts an empty message", async () => {
  await withDir(async (dir) => {
    const got = await takeMessage(streamOf([]), [], 0n, sha512(new Uint8Array(0)), {
      spoolThresholdBytes: 0,
      spoolDir: dir,
    });
    assert.ok(got.ok);
    const body = new Uint8Array(
      await new Response(got.message.withPrefix(new Uint8Array([1])) as BodyInit).arrayBuffer(),
    );
    assert.deepEqual(body, new Uint8Array([1]));
    await got.message.dispose();
  });
});

Deno.test("takeMessage spools a small message when the memory budget cannot hold it", async () => {
  await withDir(async (dir) => {
    const limits = { spoolThresholdBytes: 1 << 20, spoolDir: dir };
    // Room for the message, but not with a quarter of the budget left free.
    const budget = new ByteBudget(MESSAGE.length + 4);
    const take = () =>
      takeMessage(
        streamOf([MESSAGE]),
        [],
        BigInt(MESSAGE.length),
        sha512(MESSAGE),
        limits,
        undefined,
        budget,
      );
    const spooled = await take();
    assert.ok(spooled.ok);
    assert.equal(spooled.message.inMemory, false);
    assert.equal((await readdir(dir)).length, 1);
    await spooled.message.dispose();
    assert.deepEqual(await readdir(dir), []);

    const roomy = new ByteBudget(1 << 20);
    const inMemory = await takeMessage(
      streamOf([MESSAGE]),
      [],
      BigInt(MESSAGE.length),
      sha512(MESSAGE),
      limits,
      undefined,
      roomy,
    );
    assert.ok(inMemory.ok);
    assert.equal(inMemory.message.inMemory, true);
    // The budget's wrapper still sends and reads the message.
    const body = inMemory.message.withPrefix(new Uint8Array([7]));
    assert.deepEqual(body, new Uint8Array([7, ...MESSAGE]));
    assert.deepEqual(await inMemory.message.read(0, 2), MESSAGE.subarray(0, 2));
    assert.equal(roomy.used, MESSAGE.length, "held while the message lives");
    await inMemory.message.dispose();
    await inMemory.message.dispose();
    assert.equal(roomy.used, 0, "returned once on dispose");
    assert.equal(budget.used, 0);
  });
});

Deno.test("takeWholeMessage holds a whole small message against the budget, or leaves it to takeMessage", async () => {
  const limits = { spoolThresholdBytes: 1 << 20, spoolDir: "/nonexistent" };
  const budget = new ByteBudget(4 * MESSAGE.length + 4);
  const got = takeWholeMessage(MESSAGE, BigInt(MESSAGE.length), sha512(MESSAGE), limits, budget);
  assert.ok(got !== null && got.ok);
  assert.equal(budget.used, MESSAGE.length);
  assert.deepEqual(await got.message.read(0, MESSAGE.length), MESSAGE);
  await got.message.dispose();
  await got.message.dispose();
  assert.equal(budget.used, 0, "disposing twice gives back once");
  // A wrong hash is a failure, with nothing held.
  const wrong = takeWholeMessage(
    MESSAGE,
    BigInt(MESSAGE.length),
    new Uint8Array(64),
    limits,
    budget,
  );
  assert.deepEqual(wrong, { ok: false, reason: "Message SHA-512 does not match" });
  assert.equal(budget.used, 0);
  // Not for it: a length other than announced, over the threshold, a budget without room.
  assert.equal(takeWholeMessage(MESSAGE, 3n, sha512(MESSAGE), limits, budget), null);
  const low = { spoolThresholdBytes: 4, spoolDir: "/nonexistent" };
  assert.equal(takeWholeMessage(MESSAGE, BigInt(MESSAGE.length), sha512(MESSAGE), low), null);
  const full = new ByteBudget(MESSAGE.length);
  assert.equal(
    takeWholeMessage(MESSAGE, BigInt(MESSAGE.length), sha512(MESSAGE), limits, full),
    null,
  );
  assert.equal(full.used, 0);
});
