import assert from "node:assert/strict";
import { normalisePrefix } from "./handler.ts";

Deno.test("path prefixes get one leading slash and no trailing one", () => {
  assert.equal(normalisePrefix(""), "");
  assert.equal(normalisePrefix("/"), "");
  assert.equal(normalisePrefix("ps"), "/ps");
  assert.equal(normalisePrefix("/a/b/"), "/a/b");
  assert.equal(normalisePrefix("/ps//"), "/ps");
});
