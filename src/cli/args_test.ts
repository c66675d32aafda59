import assert from "node:assert/strict";
import { parseFlags, parseInteger } from "./args.ts";
import { UsageError } from "./errors.ts";

Deno.test("args: unknown option and missing value become one-line usage errors", () => {
  const opts = { port: { type: "string" } } as const;
  assert.deepEqual({ ...parseFlags("serve", ["--port", "1"], opts) }, { port: "1" });
  assert.throws(
    () => parseFlags("serve", ["--prot", "1"], opts),
    (e) =>
      e instanceof UsageError && e.exitCode === 2 &&
      /^Unknown option --prot for serve/.test(e.message),
  );
  assert.throws(() => parseFlags("serve", ["--port"], opts), /Error: Option --port needs a value/);
  assert.throws(() => parseFlags("serve", ["extra"], opts), /Error: Unexpected argument "extra"/);
});

Deno.test("args: integers are decimal and in range", () => {
  assert.equal(parseInteger("--port", "0", 0, 65535), 0);
  for (const bad of ["", "-1", "1e3", "0x10", "65536", " 1"]) {
    assert.throws(() => parseInteger("--port", bad, 0, 65535), UsageError, bad);
  }
});
