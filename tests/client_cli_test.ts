/**
 * `cli.ts notify` and `cli.ts subscribe` as a CI job would run them, against
 * an in-process broadcaster: help, usage errors, both transports, --exec,
 * refused credentials.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { writeFile } from "node:fs/promises";
import { formatSecretsFile } from "../src/auth/mod.ts";
import { cliCommand, runCli, tempDir } from "./_cli.ts";
import { startBroadcaster } from "./_harness.ts";
import { tokenAuth } from "../src/auth/mod.ts";

/** Starts `cli.ts subscribe …` and waits until it has subscribed. */
async function startSubscribe(args: string[]) {
  const [exe, pre] = await cliCommand("deno");
  const child = new Deno.Command(exe, {
    args: [...pre, "subscribe", ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stdout = new Response(child.stdout).text();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let stderr = "";
  while (!/subscribed \(\d+\)/.test(stderr)) {
    const r = await reader.read();
    if (r.done) {
      const code = (await child.status).code;
      throw new Error(`subscribe exited ${code} before subscribing: ${stderr}${await stdout}`);
    }
    stderr += r.value;
  }
  const rest = (async () => {
    for (;;) {
      const r = await reader.read();
      if (r.done) return;
      stderr += r.value;
    }
  })();
  return {
    async done() {
      const { code } = await child.status;
      await rest;
      return { code, stdout: await stdout, stderr };
    },
  };
}

Deno.test("cli notify/subscribe: help and usage errors", async () => {
  for (const cmd of ["notify", "subscribe"]) {
    const help = await runCli([cmd, "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Exit codes:/);
  }
  const none = await runCli(["notify", "--topic", "t", "--data", "x"]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--broadcaster/);
  const two = await runCli([
    "notify",
    "--broadcaster",
    "http://127.0.0.1:1",
    "--topic",
    "t",
    "--data",
    "x",
    "-",
  ]);
  assert.equal(two.code, 2);
  const dead = await runCli([
    "notify",
    "--broadcaster",
    "http://127.0.0.1:1",
    "--topic",
    "t",
    "--data",
    "x",
  ]);
  assert.equal(dead.code, 1);
});

for (const websocket of [false, true]) {
  Deno.test(`cli: subscribe${websocket ? " --websocket" : ""} receives what notify sends`, async () => {
    await using bc = await startBroadcaster();
    const printer = await startSubscribe([
      "--broadcaster",
      bc.url,
      "--exact",
      "ci/deploy",
      "--count",
      "1",
      ...(websocket ? ["--websocket"] : []),
    ]);
    const runner = await startSubscribe([
      "--broadcaster",
      bc.url,
      "--glob",
      "ci/*",
      "--count",
      "1",
      "--exec",
      'printf "%s=" "$LONELYPSS_TOPIC"; cat',
      ...(websocket ? ["--websocket"] : []),
    ]);
    const sent = await runCli([
      "notify",
      "--broadcaster",
      bc.url,
      "--topic",
      "ci/deploy",
      "--data",
      "v42",
    ]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(sent.stdout.trim(), "notified 2 subscribers");
    const p = await printer.done();
    assert.equal(p.code, 0, p.stderr);
    assert.equal(p.stdout, "ci/deploy\tv42\n");
    const r = await runner.done();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "ci/deploy=v42");
  });
}

Deno.test("cli notify: refused credentials exit 3; --file works with a secrets file", async () => {
  await using dir = await tempDir();
  const secret = "s3cret-token";
  await using bc = await startBroadcaster({ auth: { toBroadcaster: tokenAuth(secret) } });
  const good = join(dir.path, "good.json");
  const bad = join(dir.path, "bad.json");
  await writeFile(
    good,
    formatSecretsFile({ version: "2", toBroadcaster: { type: "token", secret } }),
  );
  await writeFile(
    bad,
    formatSecretsFile({ version: "2", toBroadcaster: { type: "token", secret: "nope" } }),
  );
  const file = join(dir.path, "body.bin");
  await writeFile(file, new Uint8Array(100_000));
  const refused = await runCli([
    "notify",
    "--broadcaster",
    bc.url,
    "--secrets",
    bad,
    "--topic",
    "t",
    "--file",
    file,
  ]);
  assert.equal(refused.code, 3, refused.stderr);
  const ok = await runCli([
    "notify",
    "--broadcaster",
    bc.url,
    "--secrets",
    good,
    "--topic",
    "t",
    "--file",
    file,
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout.trim(), "notified 0 subscribers");
});
