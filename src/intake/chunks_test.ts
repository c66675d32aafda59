import assert from "node:assert/strict";
import { ByobChunkReader } from "./chunks.ts";

function byteStream(chunks: number[][]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    type: "bytes",
    pull(controller) {
      const next = chunks[i++];
      if (next === undefined) {
        // A pending BYOB read is answered by responding 0 after close.
        controller.close();
        controller.byobRequest?.respond(0);
      } else controller.enqueue(new Uint8Array(next));
    },
  });
}

Deno.test("byob reader: fresh buffers until told to reuse one, then the same buffer", async () => {
  const reader = ByobChunkReader.of(byteStream([[1, 2], [3], [4, 5, 6], [7]]))!;
  const a = await reader.read();
  const b = await reader.read();
  assert.deepEqual([...a.value!], [1, 2]);
  assert.deepEqual([...b.value!], [3]);
  assert.notEqual(a.value!.buffer, b.value!.buffer, "kept chunks stay intact");
  assert.deepEqual([...a.value!], [1, 2]);
  reader.reuseBuffers();
  const c = await reader.read();
  assert.deepEqual([...c.value!], [4, 5, 6]);
  const d = await reader.read();
  assert.deepEqual([...d.value!], [7]);
  assert.equal(c.value!.length, 0, "the previous chunk's buffer went to the next read");
  assert.equal((await reader.read()).done, true);
  reader.releaseLock();
});

Deno.test("byob reader: null for a stream that is not a byte stream", () => {
  assert.equal(ByobChunkReader.of(new ReadableStream<Uint8Array>()), null);
});
