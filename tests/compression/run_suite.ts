/**
 * Runs the zstd behaviour suite on whichever runtime executes this file
 * (spawned as `bun run_suite.ts` or `node run_suite.ts` by
 * tests/compression_test.ts). Prints the backend's name, then one line per
 * check: `ok <name>` or `FAIL <name>: <error>`; exits 1 if any failed.
 *
 * @module
 */

import { loadZstd } from "../../src/compression/load.ts";
import { CHECKS } from "./_suite.ts";

const zstd = await loadZstd();
if ("unavailable" in zstd) {
  console.log(`unavailable: ${zstd.unavailable}`);
  throw new Error(zstd.unavailable);
}
console.log(zstd.name);
let failures = 0;
for (const check of CHECKS) {
  try {
    await check.run(zstd);
    console.log(`ok ${check.name}`);
  } catch (e) {
    failures++;
    console.log(
      `FAIL ${check.name}: ${String(e instanceof Error ? e.stack : e).replaceAll("\n", " | ")}`,
    );
  }
}
zstd.close();
if (failures > 0) (globalThis as unknown as { process: { exitCode: number } }).process.exitCode = 1;
