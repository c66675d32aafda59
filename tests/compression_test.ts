/**
 * The zstd behaviour suite (tests/compression/_suite.ts) against every
 * backend: in-process on Deno (libzstd through `Deno.dlopen`), and by
 * spawning Bun (libzstd through `bun:ffi`) and Node 24 (`node:zlib`) on
 * tests/compression/run_suite.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { loadZstd } from "../src/compression/load.ts";
import type { Zstd } from "../src/compression/types.ts";
import { run, runtimeExecutable } from "./_cli.ts";
import { CHECKS } from "./compression/_suite.ts";

const RUNNER = fileURLToPath(new URL("./compression/run_suite.ts", import.meta.url));

async function deno(): Promise<Zstd> {
  const zstd = await loadZstd();
  if ("unavailable" in zstd) throw new Error(zstd.unavailable);
  return zstd;
}

for (const check of CHECKS) {
  Deno.test(`zstd on Deno (libzstd FFI): ${check.name}`, async () => {
    const zstd = await deno();
    try {
      await check.run(zstd);
    } finally {
      zstd.close();
    }
  });
}

for (
  const [runtime, backend] of [["bun", /^libzstd .* \(Bun FFI\)$/], ["node", /^node:zlib/]] as const
) {
  Deno.test(`zstd on ${runtime}: the whole suite passes with ${backend.source}`, async () => {
    const ran = await run(await runtimeExecutable(runtime), [RUNNER]);
    const lines = ran.stdout.trim().split("\n");
    assert.match(lines[0] ?? "", backend, ran.stdout + ran.stderr);
    const failed = lines.filter((l) => l.startsWith("FAIL"));
    assert.deepEqual(failed, [], ran.stdout + ran.stderr);
    assert.equal(
      lines.filter((l) => l.startsWith("ok ")).length,
      CHECKS.length,
      ran.stdout + ran.stderr,
    );
    assert.equal(ran.code, 0, ran.stderr);
  });
}
