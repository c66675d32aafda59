import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MessageSink } from "./intake.ts";

function sha512(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha512").update(b).digest());
}

const BODY = new Uint8Array(700_000).map((_, i) => (i * 13) & 0xff);

async function spooledSink(dir: string): Promise<MessageSink> {
  const sink = await MessageSink.open(BigInt(BODY.length), {
    spoolThresholdBytes: 1024,
    spoolDir: dir,
  });
  assert.ok(sink.spooled);
  return sink;
}

Deno.test("a spooled sink's growing view hands out the first bytes early and the rest once its hash matched", async () => {
  const dir = await mkdtemp(join(tmpdir(), "lps-intake-growing-"));
  try {
    const sink = await spooledSink(dir);
    const reader = sink.growing!.stream().getReader();
    const firstRead = reader.read();
    assert.ok(await sink.write(BODY.subarray(0, 300_000)));
    const first = (await firstRead).value!;
    assert.deepEqual(first, BODY.subarray(0, first.length));
    assert.ok(await sink.write(BODY.subarray(300_000)));
    const rest = new Response(
      new ReadableStream({
        async pull(c) {
          const { done, value } = await reader.read();
          if (done) c.close();
          else c.enqueue(value);
        },
      }),
    ).arrayBuffer();
    const done = await sink.finish(sha512(BODY));
    assert.ok(done.ok);
    const whole = new Uint8Array(first.length + BODY.length - first.length);
    whole.set(first);
    whole.set(new Uint8Array(await rest), first.length);
    assert.deepEqual(whole, BODY);
    await done.message.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

Deno.test("a wrong hash fails every growing reader short of the whole body", async () => {
  const dir = await mkdtemp(join(tmpdir(), "lps-intake-growing-"));
  try {
    const sink = await spooledSink(dir);
    const counts = [0, 1, 2].map(async () => {
      const r = sink.growing!.stream().getReader();
      let n = 0;
      try {
        for (;;) {
          const { done, value } = await r.read();
          if (done) return { n, error: null };
          n += value.length;
        }
      } catch (error) {
        return { n, error };
      }
    });
    assert.ok(await sink.write(BODY));
    const wrong = sha512(BODY);
    wrong[0]! ^= 1;
    const done = await sink.finish(wrong);
    assert.equal(done.ok, false);
    for (const { n, error } of await Promise.all(counts)) {
      assert.ok(n < BODY.length, "a reader got the whole unverified body");
      assert.match(String(error), /SHA-512 does not match/);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

Deno.test("a message held in memory has no growing view", async () => {
  const sink = await MessageSink.open(10n, { spoolThresholdBytes: 1024, spoolDir: "unused" });
  assert.equal(sink.growing, null);
  await sink.abort();
});
