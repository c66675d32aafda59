import assert from "node:assert/strict";
import { parseArgs } from "node:util";
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

Deno.test("args: the same values and the same refusals as node:util's parseArgs (strict)", () => {
  const opts = {
    port: { type: "string" },
    broadcaster: { type: "string", multiple: true },
    debug: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  } as const;
  const cases = [
    [],
    ["--port", "1"],
    ["--port=1"],
    ["--port=-1"],
    ["--port="],
    ["--port", "1", "--port", "2"],
    ["--broadcaster", "a", "--broadcaster=b"],
    ["--debug", "-h"],
    ["--debug", "--"],
    ["--port", "-1"],
    ["--port"],
    ["--debug=yes"],
    ["-x"],
    ["-hd"],
    ["--nope"],
    ["--nope=1"],
    ["extra"],
    ["-"],
    ["--", "extra"],
    ["--__proto__", "1"],
  ];
  for (const args of cases) {
    let expected: unknown;
    try {
      expected = {
        ...parseArgs({ args, options: opts, strict: true, allowPositionals: false }).values,
      };
    } catch {
      expected = "refused";
    }
    let actual: unknown;
    try {
      actual = { ...parseFlags("serve", args, opts) };
    } catch (e) {
      assert.ok(e instanceof UsageError, String(e));
      actual = "refused";
    }
    assert.deepEqual(actual, expected, JSON.stringify(args));
  }
});
