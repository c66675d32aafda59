import assert from "node:assert/strict";
import { posix } from "node:path";
import { tmpdir as nodeTmpdir } from "node:os";
import { Buffer } from "node:buffer";
import { fromCheckedBase64, joinPath, paths, tmpdir, toBase64 } from "../src/portable.ts";

Deno.test("portable: dirname, join and isAbsolute answer as node:path (POSIX) does", () => {
  const samples = [
    "",
    ".",
    "/",
    "//",
    "a",
    "a/",
    "/a",
    "/a/b",
    "a/b/",
    "a//b",
    "./a",
    "../a",
    "a/../..",
    "/a/../..",
    "lonelypss.json",
    "conf/lonelypss.json",
    "/etc/lonelypss//x.json",
  ];
  for (const p of samples) {
    assert.equal(paths.dirname(p), posix.dirname(p), `dirname ${p}`);
    assert.equal(paths.isAbsolute(p), posix.isAbsolute(p), `isAbsolute ${p}`);
    for (const q of samples) {
      assert.equal(paths.join(p, q), posix.join(p, q), `join ${p} ${q}`);
    }
  }
  assert.equal(joinPath("/tmp", "x.spool"), "/tmp/x.spool");
  assert.equal(joinPath("/tmp/", "x.spool"), "/tmp/x.spool");
});

Deno.test("portable: tmpdir and base64 agree with node:os and Buffer", () => {
  assert.equal(tmpdir(), nodeTmpdir());
  for (const n of [0, 1, 2, 3, 64]) {
    const bytes = crypto.getRandomValues(new Uint8Array(n));
    const text = Buffer.from(bytes).toString("base64");
    assert.equal(toBase64(bytes), text);
    assert.deepEqual(fromCheckedBase64(text), bytes);
  }
});
