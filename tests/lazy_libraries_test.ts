/**
 * An idle `lonelypss serve` on Deno maps neither libcrypto nor libzstd
 * (bench/README.md, "Idle memory"): libcrypto is opened by the first hash
 * (here the first notify), libzstd by the first websocket that asks for zstd.
 * Read from the serving process's own `/proc/<pid>/maps` (Linux). Nor does it
 * load Node's timers (the background passes run on `AbortSignal.timeout`,
 * src/background_timer.ts), the websocket session code (loaded by the first
 * upgrade) or the admin page's (loaded when it is on): read from Deno's own
 * debug log of the modules it loads.
 *
 * @module
 */

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { cliCommand, runCli, type Served, startServe, tempDir } from "./_cli.ts";
import { notifyOver } from "./_harness.ts";
import { WsClient } from "./_ws_client.ts";

/** Which of the two libraries `pid` has mapped. */
async function mapped(pid: number): Promise<{ libcrypto: boolean; libzstd: boolean }> {
  const maps = await readFile(`/proc/${pid}/maps`, "utf8");
  return { libcrypto: /\/libcrypto\.so/.test(maps), libzstd: /\/libzstd\.so/.test(maps) };
}

/** `setup` with `auth` both ways in `dir`, then `serve` there with `env`. */
async function setupAndServe(
  dir: string,
  auth: "hmac" | "token" | "none",
  env: Record<string, string> = {},
): Promise<Served> {
  const setup = await runCli(
    [
      "setup",
      ...["--to-broadcasters-auth", auth, "--to-subscribers-auth", auth],
      ...["--host", "127.0.0.1", "--port", "0"],
    ],
    { cwd: dir },
  );
  assert.equal(setup.code, 0, setup.stderr);
  const [exe, pre] = await cliCommand("deno");
  return await startServe(exe, [...pre, "serve"], { cwd: dir, env });
}

Deno.test({
  name:
    "lazy libraries: serve maps libcrypto at the first notify and libzstd at the first zstd websocket",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using dir = await tempDir();
    await using served = await setupAndServe(dir.path, "none");
    assert.deepEqual(await mapped(served.pid), { libcrypto: false, libzstd: false }, "idle");

    const topic = new TextEncoder().encode("lazy");
    assert.equal(await notifyOver(served.url, topic, new TextEncoder().encode("hello")), 0);
    assert.deepEqual(await mapped(served.pid), { libcrypto: true, libzstd: false }, "notified");

    await using plain = await WsClient.connect(served.url);
    await plain.configure({ enableZstd: false });
    assert.deepEqual(await mapped(served.pid), { libcrypto: true, libzstd: false }, "plain ws");

    await using zstd = await WsClient.connect(served.url);
    await zstd.configure({ enableZstd: true });
    assert.deepEqual(await mapped(served.pid), { libcrypto: true, libzstd: true }, "zstd ws");

    const ran = await served.stop();
    assert.equal(ran.code, 0, ran.stderr);
  },
});

for (const auth of ["hmac", "token"] as const) {
  Deno.test({
    name: `lazy libraries: an idle serve with ${auth} both ways maps neither library`,
    ignore: Deno.build.os !== "linux",
    async fn() {
      await using dir = await tempDir();
      await using served = await setupAndServe(dir.path, auth);
      assert.deepEqual(await mapped(served.pid), { libcrypto: false, libzstd: false });
      const ran = await served.stop();
      assert.equal(ran.code, 0, ran.stderr);
    },
  });
}

/** Every module a Deno process reported loading in its `DENO_LOG=debug` stderr. */
function modulesLoaded(stderr: string): string[] {
  const found = new Set<string>();
  for (const match of stderr.matchAll(/ES module: ([^\s,]+)/g)) found.add(match[1]!);
  return [...found].sort();
}

/** The part of the websocket stack that waits for the first upgrade. */
const SESSION_CODE =
  /\/src\/(ws\/(session|sender|notify_in|incoming_body|compression)\.ts|protocol\/stateful\/)/;

/** The modules an idle `serve` (hmac both ways) loaded, up to its SIGKILL after the banner. */
async function idleServeModules(): Promise<string[]> {
  await using dir = await tempDir();
  const served = await setupAndServe(dir.path, "hmac", { DENO_LOG: "debug" });
  // Killed, not stopped: shutdown itself uses the global timers.
  return modulesLoaded((await served.stop("SIGKILL")).stderr);
}

Deno.test("lazy libraries: an idle serve with hmac both ways loads no node: module but node:sqlite", async () => {
  const loaded = await idleServeModules();
  // node:sqlite (the store) shows that the log names the modules at all.
  assert.deepEqual(loaded.filter((m) => m.startsWith("node:")), ["node:sqlite"]);
});

Deno.test("lazy libraries: an idle serve with the admin page off loads none of its code", async () => {
  const loaded = await idleServeModules();
  assert.ok(loaded.some((m) => m.endsWith("/src/http/admin/mod.ts")), "the log names our modules");
  assert.deepEqual(loaded.filter((m) => /\/src\/http\/admin\/(?!mod\.ts)/.test(m)), []);
});

Deno.test("lazy libraries: an idle serve loads no websocket session code; the first upgrade does", async () => {
  const loaded = await idleServeModules();
  assert.ok(loaded.some((m) => m.endsWith("/src/ws/mod.ts")), "the log names our modules");
  assert.deepEqual(loaded.filter((m) => SESSION_CODE.test(m)), []);

  await using dir = await tempDir();
  await using served = await setupAndServe(dir.path, "none", { DENO_LOG: "debug" });
  await using ws = await WsClient.connect(served.url);
  await ws.configure({ enableZstd: false });
  await served.waitForStderr(/ES module: \S+\/src\/ws\/session\.ts/);
});
