import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileStream, SpoolFile } from "./spool.ts";

Deno.test("spool file writes every chunk and is removed without trace", async () => {
  const root = await mkdtemp(join(tmpdir(), "lps-spool-test-"));
  try {
    const dir = join(root, "nested");
    const a = await SpoolFile.create(dir);
    const b = await SpoolFile.create(dir);
    assert.notEqual(a.path, b.path);
    await a.write(new Uint8Array([1, 2, 3]));
    await a.write(new Uint8Array(0));
    await a.write(new Uint8Array([4]));
    await a.close();
    assert.deepEqual(new Uint8Array(await readFile(a.path)), new Uint8Array([1, 2, 3, 4]));
    await a.remove();
    await a.remove();
    await b.remove();
    assert.deepEqual(await readdir(dir), []);
    await assert.rejects(a.write(new Uint8Array([1])), /Spool file is closed/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

Deno.test("fileStream yields the prefix then the file, and closes its descriptor when cancelled", async () => {
  const root = await mkdtemp(join(tmpdir(), "lps-spool-test-"));
  try {
    const file = await SpoolFile.create(root);
    const content = new Uint8Array(600_000).map((_, i) => i & 0xff);
    await file.write(content);
    await file.close();
    const whole = new Uint8Array(
      await new Response(fileStream(new Uint8Array([9, 9]), file.path)).arrayBuffer(),
    );
    assert.equal(whole.length, content.length + 2);
    assert.deepEqual(whole.subarray(0, 2), new Uint8Array([9, 9]));
    assert.deepEqual(whole.subarray(2), content);
    const reader = fileStream(new Uint8Array(0), file.path).getReader();
    const first = await reader.read();
    assert.equal(first.value!.length, 256 * 1024);
    await reader.cancel();
    await file.remove();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
