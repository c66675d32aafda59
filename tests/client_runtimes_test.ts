/**
 * The same client suite (tests/_client_runtime_suite.ts) on Deno, Bun and
 * Node, against one of our broadcasters.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { run, type Runtime, runtimeExecutable } from "./_cli.ts";
import { startBroadcaster } from "./_harness.ts";

const SUITE = fileURLToPath(new URL("./_client_runtime_suite.ts", import.meta.url));

for (const runtime of ["deno", "bun", "node"] satisfies Runtime[]) {
  Deno.test(`client on ${runtime}: both transports, exact and glob, a spooled stream`, async () => {
    await using bc = await startBroadcaster();
    const exe = await runtimeExecutable(runtime);
    const args = runtime === "deno" ? ["run", "-A", SUITE, bc.url] : [SUITE, bc.url];
    const out = await run(exe, args);
    assert.equal(out.code, 0, `${out.stdout}\n${out.stderr}`);
    assert.equal(out.stdout.trim(), "ok 4");
  });
}
