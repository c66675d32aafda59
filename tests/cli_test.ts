/**
 * The CLI as an operator meets it: help, version, friendly errors and exit
 * codes, setup's refusals, serve's configuration sources and its graceful
 * shutdown. Every test runs the real `deno run -A cli.ts` in a temp dir.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import denoJson from "../deno.json" with { type: "json" };
import { encodeNotify, parseResponseNotify } from "../src/protocol/notify.ts";
import { cliCommand, postBytes, runCli, startServe, subscribeOver, tempDir } from "./_cli.ts";
import { TestSubscriber } from "./_subscriber.ts";

const EMPTY = new Uint8Array(0);

async function serveArgs(...args: string[]): Promise<[string, string[]]> {
  const [exe, pre] = await cliCommand("deno");
  return [exe, [...pre, "serve", "--host", "127.0.0.1", "--port", "0", ...args]];
}

/** One friendly line, no stack trace, no colour codes. */
function assertOneLine(stderr: string, re: RegExp): void {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0]!, /^error: /);
  assert.match(lines[0]!, re);
  assert.ok(!stderr.includes("\x1b["), "no colour codes");
}

Deno.test("cli: --help, --version and each command's --help exit 0", async () => {
  const help = await runCli(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Commands:\n\s+setup[^\n]*\n\s+serve/);
  const version = await runCli(["--version"]);
  assert.equal(version.code, 0);
  assert.equal(version.stdout.trim(), denoJson.version);
  const setup = await runCli(["setup", "--help"]);
  assert.equal(setup.code, 0);
  assert.match(setup.stdout, /--to-broadcasters-auth hmac\|token\|none/);
  const serve = await runCli(["serve", "--help"]);
  assert.equal(serve.code, 0);
  assert.match(serve.stdout, /--grace <seconds>/);
});

Deno.test("cli: an unknown flag or command exits 2 with one line; --debug adds the stack", async () => {
  const flag = await runCli(["serve", "--bogus"]);
  assert.equal(flag.code, 2);
  assertOneLine(flag.stderr, /Unknown option --bogus for serve/);
  const command = await runCli(["frobnicate"]);
  assert.equal(command.code, 2);
  assertOneLine(command.stderr, /Unknown command "frobnicate"/);
  const missing = await runCli(["serve", "--port"]);
  assert.equal(missing.code, 2);
  assertOneLine(missing.stderr, /--port needs a value/);
  const dash = await runCli(["setup", "--to-subscribers-secret", "-abc"]);
  assert.equal(dash.code, 2);
  assertOneLine(dash.stderr, /write a value starting with "-" as --to-subscribers-secret=<value>/);
  const debug = await runCli(["setup", "--nope", "--debug"]);
  assert.equal(debug.code, 2);
  assert.match(debug.stderr, /^error: Unknown option --nope for setup/);
  assert.match(debug.stderr, /\n\s+at /);
});

Deno.test("cli: setup refuses to overwrite and then writes nothing", async () => {
  await using dir = await tempDir();
  const existing = join(dir.path, "subscriber-secrets.json");
  await writeFile(existing, "mine\n");
  const out = await runCli(["setup"], { cwd: dir.path });
  assert.equal(out.code, 1);
  assertOneLine(out.stderr, /subscriber-secrets\.json already exists, refusing to overwrite/);
  assert.deepEqual(await readdir(dir.path), ["subscriber-secrets.json"]);
  assert.equal(await readFile(existing, "utf8"), "mine\n");
});

Deno.test("cli: setup writes secrets with mode 0600 and a config serve reads", async () => {
  await using dir = await tempDir();
  const out = await runCli(["setup", "--port", "4321"], { cwd: dir.path });
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /to-broadcasters-secret: generated/);
  assert.doesNotMatch(out.stdout, /[\w-]{86}/, "secrets are never printed");
  for (const name of ["broadcaster-secrets.json", "subscriber-secrets.json"]) {
    assert.equal((await stat(join(dir.path, name))).mode & 0o777, 0o600, name);
  }
  const config = JSON.parse(await readFile(join(dir.path, "lonelypss.json"), "utf8"));
  assert.deepEqual(config, {
    host: "0.0.0.0",
    port: 4321,
    database: "subscriptions.db",
    secrets: "broadcaster-secrets.json",
    replayDatabase: "recent-hmacs.db",
    pathPrefix: "",
    logLevel: "info",
    limits: {},
  });
});

Deno.test("cli: setup rejects a bad hmac secret, a bad token and bad rqlite or postgres flags, writing nothing", async () => {
  await using dir = await tempDir();
  const hmac = await runCli(["setup", "--to-subscribers-secret", "too-short"], { cwd: dir.path });
  assert.equal(hmac.code, 2);
  assertOneLine(hmac.stderr, /Invalid --to-subscribers-secret: /);
  const token = await runCli(
    ["setup", "--to-broadcasters-auth", "token", "--to-broadcasters-secret", "a\nb"],
    { cwd: dir.path },
  );
  assert.equal(token.code, 2);
  assertOneLine(token.stderr, /"to-broadcaster"\.secret: control characters/);
  const rqliteCases: [string[], RegExp][] = [
    [["--rqlite-url", "http://127.0.0.1:4001"], /--rqlite-url needs --db rqlite/],
    [["--db", "rqlite", "--rqlite-url", "127.0.0.1:4001"], /Invalid --rqlite-url: /],
    [["--db", "rqlite", "--rqlite-user", "u"], /--rqlite-user and --rqlite-password go together/],
    [["--postgres-url", "postgres://u:pw@h/db"], /--postgres-url needs --db postgres/],
    [["--db", "postgres"], /--db postgres needs --postgres-url postgres:\/\/user:password@/],
    // The password is not echoed back.
    [
      ["--db", "postgres", "--postgres-url", "mysql://u:hunter2@h/db"],
      /Invalid --postgres-url: must start with postgres:\/\/ or postgresql:\/\/$/,
    ],
    [
      ["--db", "postgres", "--postgres-url", "postgres://u:pw@h/db?sslmode=on"],
      /Invalid --postgres-url: sslmode must be one of/,
    ],
    [
      ["--db", "postgres", "--postgres-url", "postgres://u:pw@h/db", "--rqlite-url", "http://a"],
      /--rqlite-url needs --db rqlite/,
    ],
  ];
  for (const [flags, re] of rqliteCases) {
    const rqlite = await runCli(["setup", ...flags], { cwd: dir.path });
    assert.equal(rqlite.code, 2);
    assertOneLine(rqlite.stderr, re);
  }
  const choice = await runCli(["setup", "--to-subscribers-auth", "basic"], { cwd: dir.path });
  assert.equal(choice.code, 2);
  assertOneLine(choice.stderr, /Invalid --to-subscribers-auth: expected one of hmac, token, none/);
  assert.deepEqual(await readdir(dir.path), []);
});

Deno.test("cli: a malformed config or secrets file is named with its field", async () => {
  await using dir = await tempDir();
  const config = join(dir.path, "lonelypss.json");
  const cases: [unknown, RegExp][] = [
    [{ port: "3003" }, /Invalid config file lonelypss\.json: "port" must be an integer/],
    [{ prot: 1 }, /Invalid config file lonelypss\.json: "prot" is not an option/],
    [
      { limits: { maxBodyBytes: -1 } },
      /lonelypss\.json: "limits": maxBodyBytes must be a positive/,
    ],
    [{ limits: { nope: 1 } }, /lonelypss\.json: "limits\.nope" is not a limit/],
  ];
  for (const [content, re] of cases) {
    await writeFile(config, JSON.stringify(content));
    const out = await runCli(["serve"], { cwd: dir.path });
    assert.equal(out.code, 1, JSON.stringify(content));
    assertOneLine(out.stderr, re);
  }
  await writeFile(config, "{ not json");
  assertOneLine((await runCli(["serve"], { cwd: dir.path })).stderr, /lonelypss\.json: not JSON/);

  await writeFile(config, JSON.stringify({ secrets: "s.json" }));
  await writeFile(join(dir.path, "s.json"), JSON.stringify({ version: 2 }));
  const secrets = await runCli(["serve"], { cwd: dir.path });
  assert.equal(secrets.code, 1);
  assertOneLine(secrets.stderr, /Invalid secrets file s\.json: "version" must be the string "2"/);
});

Deno.test("cli: port in use and an unopenable database give clear messages", async () => {
  await using dir = await tempDir();
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = String((taken.addr as Deno.NetAddr).port);
  const inUse = await runCli(["serve", "--host", "127.0.0.1", "--port", port, "--db", ":memory:"], {
    cwd: dir.path,
  });
  assert.equal(inUse.code, 1);
  assertOneLine(inUse.stderr, new RegExp(`Port ${port} on 127\\.0\\.0\\.1 is already in use`));

  const db = join(dir.path, "missing-dir", "x.db");
  const bad = await runCli(["serve", "--host", "127.0.0.1", "--port", "0", "--db", db], {
    cwd: dir.path,
  });
  assert.equal(bad.code, 1);
  assertOneLine(bad.stderr, new RegExp(`Cannot open database ${db.replaceAll(".", "\\.")}: `));
});

Deno.test("cli: flags beat environment, which beats the config file", async () => {
  await using dir = await tempDir();
  await writeFile(
    join(dir.path, "lonelypss.json"),
    JSON.stringify({ pathPrefix: "/from-config", database: "config.db" }),
  );
  const [exe, args] = await serveArgs();
  const env = { LONELYPSS_PATH_PREFIX: "/from-env/", LONELYPSS_DB: "env.db" };
  {
    await using server = await startServe(exe, args, { cwd: dir.path, env });
    assert.match(server.banner, /^lonelypss \S+ listening on http:\/\/127\.0\.0\.1:\d+\/from-env /);
    assert.match(server.banner, /\(db env\.db, auth none\/none\)$/);
    assert.equal((await server.stop()).code, 0);
  }
  {
    await using server = await startServe(exe, [...args, "--path-prefix", "flag"], {
      cwd: dir.path,
      env,
    });
    assert.match(server.banner, /:\d+\/flag \(db env\.db, auth none\/none\)$/);
    assert.equal((await server.stop()).code, 0);
  }
  {
    await using server = await startServe(exe, args, { cwd: dir.path });
    assert.match(server.banner, /:\d+\/from-config \(db config\.db, auth none\/none\)$/);
    const res = await fetch(`${server.url}/v1/nope`, { method: "POST" });
    await res.body?.cancel();
    assert.equal(res.status, 404);
    assert.equal((await server.stop()).code, 0);
  }
});

Deno.test("cli: --config elsewhere resolves its paths against its own directory", async () => {
  await using confDir = await tempDir();
  await using workDir = await tempDir();
  assert.equal((await runCli(["setup"], { cwd: confDir.path })).code, 0);
  const [exe, args] = await serveArgs("--config", join(confDir.path, "lonelypss.json"));
  await using server = await startServe(exe, args, { cwd: workDir.path });
  const db = join(confDir.path, "subscriptions.db");
  assert.ok(server.banner.endsWith(`(db ${db}, auth hmac/hmac)`), server.banner);
  assert.equal((await server.stop()).code, 0);
  assert.ok((await readdir(confDir.path)).includes("recent-hmacs.db"));
  assert.deepEqual(await readdir(workDir.path), []);
});

async function startNotify(base: string, topic: Uint8Array) {
  const message = new TextEncoder().encode("in flight");
  const sha512 = new Uint8Array(createHash("sha512").update(message).digest());
  const identifier = new Uint8Array([1, 2, 3]);
  return await postBytes(
    `${base}/v1/notify`,
    encodeNotify({ topic, sha512, tracing: EMPTY, identifier }, message),
  ).then((r) => ({ ...r, error: null }), (e: Error) => ({ status: 0, body: EMPTY, error: e }));
}

for (const front of ["on", "off"]) {
  Deno.test(`cli: SIGTERM lets a delivery in flight finish, then exits 0 (--deno-front ${front})`, async () => {
    await using dir = await tempDir();
    await using subscriber = new TestSubscriber();
    const [exe, args] = await serveArgs("--db", "subs.db", "--deno-front", front);
    await using server = await startServe(exe, args, { cwd: dir.path });
    const topic = new TextEncoder().encode("graceful");
    assert.equal(await subscribeOver(server.url, subscriber.url("/receive"), topic), 200);

    subscriber.hold();
    const notified = startNotify(server.url, topic);
    await subscriber.waitForHeld();
    const stopped = server.stop("SIGTERM");
    await server.waitForStderr(/INFO Shutting down/);
    subscriber.release();
    const answer = await notified;
    assert.equal(answer.status, 200, String(answer.error));
    assert.equal(parseResponseNotify(answer.body).count, 1);
    assert.equal((await stopped).code, 0);
  });
}

Deno.test("cli: shutdown stops waiting for a stuck delivery after --grace", async () => {
  await using dir = await tempDir();
  await using subscriber = new TestSubscriber();
  const [exe, args] = await serveArgs("--db", "subs.db", "--grace", "0.2");
  await using server = await startServe(exe, args, { cwd: dir.path });
  const topic = new TextEncoder().encode("stuck");
  assert.equal(await subscribeOver(server.url, subscriber.url("/receive"), topic), 200);

  subscriber.hold();
  const notified = startNotify(server.url, topic);
  await subscriber.waitForHeld();
  const stopped = await server.stop("SIGTERM");
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stderr, /Closing with requests still in flight/);
  await notified;
});
