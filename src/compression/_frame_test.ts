import assert from "node:assert/strict";
import { rawFrame, rleBomb } from "../../tests/compression/_frames.ts";
import { fromHex } from "../protocol/mod.ts";
import { declaredContentSize, dictionaryId, FrameEnd } from "./_frame.ts";

const ID1_PREFIX = fromHex("28b52ffd00200d140096716116902b6b");

Deno.test("declaredContentSize reads 1-, 2-, 4- and 8-byte size fields and their absence", () => {
  assert.equal(declaredContentSize(ID1_PREFIX), undefined); // the wire's frames: no size
  assert.equal(declaredContentSize(rawFrame(new Uint8Array(3), 70000)), 70000);
  // single segment, 1-byte size
  assert.equal(declaredContentSize(fromHex("28b52ffd2005")), 5);
  // 2-byte size is stored minus 256
  assert.equal(declaredContentSize(fromHex("28b52ffd600100")), 256 + 1);
  // 8-byte size
  assert.equal(declaredContentSize(fromHex("28b52ffde00000000000010000")), 2 ** 40);
  assert.equal(declaredContentSize(fromHex("28b52ffd80")), undefined); // cut short
  assert.equal(declaredContentSize(new TextEncoder().encode("not a frame")), undefined);
});

Deno.test("dictionaryId reads a trained dictionary's id; raw content has 0", () => {
  assert.equal(dictionaryId(fromHex("37a430ec70c4d863")), 1675150448);
  assert.equal(dictionaryId(new TextEncoder().encode("raw content dictionary")), 0);
});

Deno.test("FrameEnd finds a frame's end however the bytes are split", () => {
  for (
    const frame of [rawFrame(new Uint8Array(300), 300), rleBomb(5), rawFrame(new Uint8Array(0))]
  ) {
    const tail = new Uint8Array([1, 2, 3]);
    const all = new Uint8Array([...frame, ...tail]);
    for (const step of [1, 2, 3, 7, all.length]) {
      const walker = new FrameEnd();
      let end = -1;
      let at = 0;
      for (; at < all.length && end < 0; at += step) {
        end = walker.feed(all.subarray(at, at + step));
        if (end >= 0) end += at;
      }
      assert.equal(end, frame.length, `step ${step}`);
      assert.ok(walker.ended);
      assert.equal(walker.feed(tail), 0);
    }
  }
});

Deno.test("FrameEnd gives up quietly on what is not a frame and on a truncated one", () => {
  assert.equal(new FrameEnd().feed(new TextEncoder().encode("definitely not zstd")), -1);
  const cut = rleBomb(3);
  assert.equal(new FrameEnd().feed(cut.subarray(0, cut.length - 1)), -1);
});
