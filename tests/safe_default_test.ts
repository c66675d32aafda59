/**
 * Safe by default. `serve` without authorization binds
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

/**
 * Whether the server at `url` also answers on 127.0.0.2: a socket bound to
 * 127.0.0.1 does not, one bound to every interface (0.0.0.0) does. Both
 * addresses are loopback: nothing leaves the machine.
 */
async function answersBeyond127001(url: string): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.2", port: Number(new URL(url).port) });
    conn.close();
    return true;
  } catch {
    return false;
  }
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
      assert.equal(await answersBeyond127001(server.url), false, "bound to 127.0.0.1 only");
      const ran = await server.stop();
      assert.doesNotMatch(ran.stderr, WARNING);
    }
    {
      await using server = await startServe(exe, base, {
        cwd: dir.path,
        env: { LONELYPSS_HOST: "0.0.0.0" },
      });
      assert.equal(await answersBeyond127001(server.url), true, "bound to every interface");
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
    assert.equal(await answersBeyond127001(server.url), true, "bound to every interface");
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
