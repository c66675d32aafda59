import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { run, runtimeExecutable } from "../../tests/_cli.ts";
import { loadZstd } from "./load.ts";

const PRINT = fileURLToPath(new URL("../../tests/compression/print_backend.ts", import.meta.url));
const MISSING = "/nonexistent/libzstd.so.1";

Deno.test("loadZstd finds the system libzstd through Deno FFI", async () => {
  const zstd = await loadZstd();
  assert.ok(!("unavailable" in zstd), "unavailable" in zstd ? zstd.unavailable : "");
  assert.match(zstd.name, /^libzstd \d+\.\d+\.\d+ \(Deno FFI\)$/);
  assert.equal(zstd.canTrain, true);
  zstd.close();
  zstd.close();
  assert.throws(() => zstd.compress(new Uint8Array(1), { level: 3 }), /closed/);
});

Deno.test("loadZstd with a library path that does not exist says why in one line", async () => {
  const zstd = await loadZstd({ libraryPath: MISSING });
  assert.ok("unavailable" in zstd);
  assert.match(zstd.unavailable, /^Cannot load libzstd: \/nonexistent\/libzstd\.so\.1: /);
  assert.ok(!zstd.unavailable.includes("\n"));
});

Deno.test("without --allow-ffi, Deno reports the missing permission instead of prompting", async () => {
  const ran = await run(Deno.execPath(), ["run", "--allow-read", "--allow-env", PRINT]);
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal(
    ran.stdout.trim(),
    "unavailable: Cannot load libzstd: the ffi permission is not granted (run with --allow-ffi)",
  );
});

for (const runtime of ["deno", "bun"] as const) {
  Deno.test(`LONELYPSS_LIBZSTD chooses the library on ${runtime}; a wrong path is unavailable`, async () => {
    const exe = await runtimeExecutable(runtime);
    const args = runtime === "deno"
      ? ["run", "--allow-ffi", "--allow-read", "--allow-env", PRINT]
      : [PRINT];
    const bad = await run(exe, args, { env: { LONELYPSS_LIBZSTD: MISSING } });
    assert.match(
      bad.stdout,
      /^unavailable: Cannot load libzstd: \/nonexistent\/libzstd\.so\.1: /,
      bad.stderr,
    );
    const good = await run(exe, args);
    assert.match(good.stdout.trim(), /^libzstd \d+\.\d+\.\d+ \((Deno|Bun) FFI\)$/, good.stderr);
  });
}

Deno.test("Node uses node:zlib, which needs no library", async () => {
  const ran = await run(await runtimeExecutable("node"), [PRINT], {
    env: { LONELYPSS_LIBZSTD: MISSING },
  });
  assert.match(ran.stdout.trim(), /^node:zlib \(Node 24\.\d+\.\d+\)$/, ran.stderr);
});
