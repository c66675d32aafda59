/**
 * The client examples a new user copies (the README's and the first one in
 * docs/client.md) run as written against a broadcaster made by `setup` and
 * started by `serve`: only the package specifier and the port are changed.
 * `deno test --doc` skips them (`ts ignore`) because they need that server.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { writeFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { cliCommand, ROOT, run, runCli, startServe, tempDir } from "./_cli.ts";

/** The body of the first ```ts block after `marker` in `file` (relative to the repo root). */
async function exampleAfter(file: string, marker: string): Promise<string> {
  const text = await Deno.readTextFile(join(ROOT, file));
  const from = text.indexOf(marker);
  assert.ok(from >= 0, `${file} has no "${marker}"`);
  const block = /```ts(?: ignore)?\n([\s\S]*?)```/.exec(text.slice(from));
  assert.ok(block?.[1] !== undefined, `${file} has no ts block after "${marker}"`);
  return block[1];
}

/** Runs `code` in a fresh `setup` directory against its own `serve`; returns stdout. */
async function runExample(code: string): Promise<string> {
  await using dir = await tempDir();
  const setup = await runCli(["setup", "--host", "127.0.0.1"], { cwd: dir.path });
  assert.equal(setup.code, 0, setup.stderr);
  const [exe, pre] = await cliCommand("deno");
  await using server = await startServe(exe, [...pre, "serve", "--port", "0"], { cwd: dir.path });
  const port = new URL(server.url).port;
  const client = pathToFileURL(join(ROOT, "src/client/mod.ts")).href;
  assert.match(code, /127\.0\.0\.1:3003/);
  const local = code.replaceAll('"@lonelypss/cli/client"', JSON.stringify(client))
    .replaceAll("127.0.0.1:3003", `127.0.0.1:${port}`);
  const file = join(dir.path, "example.ts");
  await writeFile(file, local);
  const ran = await run(exe, ["run", "-A", "--no-lock", file], { cwd: dir.path });
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal((await server.stop()).code, 0);
  return ran.stdout;
}

Deno.test("docs: the README's client example publishes and receives as it says", async () => {
  const out = await runExample(await exampleAfter("README.md", "## As a client"));
  assert.equal(out, "{ notified: 1 }\nuser:42\n");
});

Deno.test("docs: docs/client.md's first example prints what the page says", async () => {
  const out = await runExample(await exampleAfter("docs/client.md", "# The TypeScript client"));
  assert.equal(out, "notified 1\ncache-bust user:42\n");
});
