import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { fileIdentity, readTextFileSync } from "../src/sync_fs.ts";

Deno.test("readTextFileSync: the file's text, as node:fs reads it; a missing file throws", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/a.txt`;
    await Deno.writeTextFile(path, "héllo\n");
    assert.equal(readTextFileSync(path), readFileSync(path, "utf8"));
    assert.throws(() => readTextFileSync(`${dir}/missing`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fileIdentity: node:fs's dev and ino, null when missing, new after a replace", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/db`;
    await Deno.writeTextFile(path, "x");
    const st = statSync(path, { bigint: true });
    const first = fileIdentity(path);
    assert.deepEqual(first, { dev: st.dev, ino: st.ino });
    // A file created while the first still exists cannot get the first's inode.
    await Deno.writeTextFile(`${dir}/other`, "y");
    await Deno.rename(`${dir}/other`, path);
    assert.notDeepEqual(fileIdentity(path), first);
    await Deno.remove(path);
    assert.equal(fileIdentity(path), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
