/**
 * Issue 13 item 7: safe by default. `serve` without authorization binds
 * 127.0.0.1 unless asked for another address, and then warns; with the
 * configuration `setup` writes (hmac both ways) it binds every interface,
 * silently. `setup --to-broadcasters-auth none` writes 127.0.0.1.
 *
 * @module
 */

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { cliCommand, runCli, startServe, tempDir } from "./_cli.ts";

const WARNING = /warning: no authorization is configured and .* anyone who can reach it/;

/** The local address a TCP socket listens on at `port` (Linux `/proc/net/tcp{,6}`). */
async function listeningAddress(port: number): Promise<string> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const [file, family] of [["/proc/net/tcp", 4], ["/proc/net/tcp6", 6]] as const) {
    const text = await readFile(file, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== "0A" || !local?.endsWith(`:${hexPort}`)) continue;
      const hex = local.split(":")[0]!;
      if (family === 6) return /^0+$/.test(hex) ? "::" : hex;
      return [3, 2, 1, 0].map((i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16)).join(".");
    }
  }
  throw new Error(`Nothing listens on port ${port}`);
}

const linux = Deno.build.os === "linux";

Deno.test({
  name: "serve with no authorization binds 127.0.0.1 unless asked, and warns when asked for more",
  ignore: !linux,
  async fn() {
    await using dir = await tempDir();
    const [exe, pre] = await cliCommand("deno");
    const base = [...pre, "serve", "--port", "0", "--db", ":memory:"];
    {
      await using server = await startServe(exe, base, { cwd: dir.path });
      assert.equal(await listeningAddress(Number(new URL(server.url).port)), "127.0.0.1");
      const ran = await server.stop();
      assert.doesNotMatch(ran.stderr, WARNING);
    }
    {
      await using server = await startServe(exe, base, {
        cwd: dir.path,
        env: { LONELYPSS_HOST: "0.0.0.0" },
      });
      assert.equal(await listeningAddress(Number(new URL(server.url).port)), "0.0.0.0");
      await server.waitForStderr(WARNING);
      assert.match((await server.stop()).stderr, /Run "lonelypss setup" for hmac authorization/);
    }
  },
});

Deno.test({
  name: "serve with setup's configuration (hmac both ways) binds every interface, silently",
  ignore: !linux,
  async fn() {
    await using dir = await tempDir();
    assert.equal((await runCli(["setup", "--port", "0"], { cwd: dir.path })).code, 0);
    const [exe, pre] = await cliCommand("deno");
    await using server = await startServe(exe, [...pre, "serve"], { cwd: dir.path });
    assert.match(server.banner, /auth hmac\/hmac/);
    assert.equal(await listeningAddress(Number(new URL(server.url).port)), "0.0.0.0");
    assert.doesNotMatch((await server.stop()).stderr, WARNING);
  },
});

Deno.test("setup without authorization of requests to the broadcaster writes host 127.0.0.1", async () => {
  await using dir = await tempDir();
  const out = await runCli(["setup", "--to-broadcasters-auth", "none"], { cwd: dir.path });
  assert.equal(out.code, 0, out.stderr);
  const config = JSON.parse(await readFile(join(dir.path, "lonelypss.json"), "utf8"));
  assert.equal(config.host, "127.0.0.1");
});
