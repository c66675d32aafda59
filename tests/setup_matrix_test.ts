/**
 * docs/decisions.md#setup: every combination of setup flags yields a configuration that
 * `serve` starts as generated, on SQLite, on a real rqlite node and on a real
 * PostgreSQL server. For each
 * one: run `setup` in a fresh directory,
 * `serve` from there, send one subscribe signed with subscriber-secrets.json
 * (the file subscribers get) and verify the broadcaster's signed answer.
 *
 * @module
 */

import assert from "node:assert/strict";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type AuthStrategy,
  decodeHmacSecret,
  encodeHmacSecret,
  generateHmacSecret,
  hmacAuth,
  memoryReplayStore,
  noneAuth,
  parseSecretsFile,
  type SecretsEntry,
  tokenAuth,
} from "../src/auth/mod.ts";
import { parseResponseGeneric } from "../src/protocol/generic.ts";
import { encodeSubscribeExact } from "../src/protocol/subscribe.ts";
import { cliCommand, postBytes, runCli, startServe, tempDir } from "./_cli.ts";
import { FAST_RAFT, freePorts, rqliteTest, startCluster } from "../src/storage/rqlite/_testing.ts";
import { postgresTest, startPostgres, TEST_PASSWORD } from "../src/storage/postgres/_testing.ts";

const KINDS = ["hmac", "token", "none"] as const;

function strategy(entry: SecretsEntry | undefined): AuthStrategy {
  if (entry === undefined) return noneAuth();
  if (entry.type === "token") return tokenAuth(entry.secret);
  return hmacAuth({ secret: decodeHmacSecret(entry.secret), replay: memoryReplayStore() });
}

function givenSecret(kind: (typeof KINDS)[number]): string {
  return kind === "hmac" ? encodeHmacSecret(generateHmacSecret()) : "my secret";
}

interface Case {
  readonly toB: (typeof KINDS)[number];
  readonly toS: (typeof KINDS)[number];
  readonly given: boolean;
  /** Extra setup flags (storage). */
  readonly storage?: string[];
  /** rqlite credentials given to setup, which must land in broadcaster-secrets.json only. */
  readonly rqliteCredentials?: { user: string; password: string };
  /** The PostgreSQL url given to setup, which must land in broadcaster-secrets.json only. */
  readonly postgresUrl?: string;
}

/** Runs setup with `c`'s flags in a fresh directory, serves from there, subscribes once. */
async function setupAndServe(c: Case): Promise<void> {
  const { toB, toS, given } = c;
  await using dir = await tempDir();
  const flags = ["--to-broadcasters-auth", toB, "--to-subscribers-auth", toS, ...c.storage ?? []];
  const secrets = { toB: givenSecret(toB), toS: givenSecret(toS) };
  if (given) {
    // "=" because a base64url secret may start with "-".
    flags.push(`--to-broadcasters-secret=${secrets.toB}`);
    flags.push(`--to-subscribers-secret=${secrets.toS}`);
  }
  const setup = await runCli(["setup", "--host", "127.0.0.1", ...flags], { cwd: dir.path });
  assert.equal(setup.code, 0, setup.stderr);
  assert.match(setup.stdout, / serve\n$/);

  const text = await readFile(join(dir.path, "subscriber-secrets.json"), "utf8");
  const broadcasterText = await readFile(join(dir.path, "broadcaster-secrets.json"), "utf8");
  const file = parseSecretsFile(text, "subscriber-secrets.json");
  assert.equal(file.rqlite, undefined);
  const broadcasterFile = parseSecretsFile(broadcasterText, "broadcaster-secrets.json");
  assert.deepEqual(broadcasterFile, {
    ...file,
    ...(c.rqliteCredentials ? { rqlite: c.rqliteCredentials } : {}),
    ...(c.postgresUrl ? { postgres: { url: c.postgresUrl } } : {}),
  });
  const config = await readFile(join(dir.path, "lonelypss.json"), "utf8");
  if (c.rqliteCredentials) assert.ok(!config.includes(c.rqliteCredentials.password));
  if (c.postgresUrl) {
    assert.ok(!config.includes(TEST_PASSWORD));
    assert.ok(!setup.stdout.includes(TEST_PASSWORD));
  }
  assert.equal(file.toBroadcaster?.type, toB === "none" ? undefined : toB);
  assert.equal(file.toSubscriber?.type, toS === "none" ? undefined : toS);
  if (given && toB !== "none") assert.equal(file.toBroadcaster?.secret, secrets.toB);
  if (given && toS !== "none") assert.equal(file.toSubscriber?.secret, secrets.toS);
  if (!given && toB !== "none") assert.match(file.toBroadcaster!.secret, /^[\w-]{86}$/);

  const [exe, pre] = await cliCommand("deno");
  await using server = await startServe(exe, [...pre, "serve", "--port", "0"], {
    cwd: dir.path,
  });
  assert.match(server.banner, new RegExp(`auth ${toB}/${toS}\\)$`));
  if (c.postgresUrl) {
    assert.match(server.banner, /\(db postgres postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres,/);
  }
  const toBroadcaster = strategy(file.toBroadcaster);
  const toSubscriber = strategy(file.toSubscriber);
  try {
    const msg = {
      url: "http://127.0.0.1:1/receive",
      topic: new TextEncoder().encode(`matrix ${crypto.randomUUID()}`),
      recovery: null,
    };
    const tracing = new Uint8Array(0);
    const now = Date.now() / 1000;
    const authorization = await toBroadcaster.authorize(
      { type: "subscribe_exact", ...msg },
      tracing,
      now,
    );
    const { status, body } = await postBytes(
      `${server.url}/v1/subscribe/exact`,
      encodeSubscribeExact({ ...msg, tracing }),
      authorization === null ? {} : { authorization },
    );
    assert.equal(status, 200, new TextDecoder().decode(body));
    const answer = parseResponseGeneric(body);
    const verdict = await toSubscriber.verify(
      { type: "confirm_subscribe_exact", ...msg },
      answer.tracing,
      answer.authorization,
      Date.now() / 1000,
    );
    assert.equal(verdict, "ok");
  } finally {
    await toBroadcaster.close();
    await toSubscriber.close();
  }
  const stopped = await server.stop("SIGTERM");
  assert.equal(stopped.code, 0, stopped.stderr);
  // The replay store is opened only when some direction uses hmac.
  const replay = await stat(join(dir.path, "recent-hmacs.db")).then(() => true, () => false);
  assert.equal(replay, toB === "hmac" || toS === "hmac");
  const sqlite = await stat(join(dir.path, "subscriptions.db")).then(() => true, () => false);
  assert.equal(sqlite, c.storage === undefined);
}

for (const toB of KINDS) {
  for (const toS of KINDS) {
    for (const given of [false, true]) {
      const name = `setup ${toB}/${toS} (${given ? "given" : "generated"} secrets) serves`;
      Deno.test(name, () => setupAndServe({ toB, toS, given }));
    }
  }
}

rqliteTest(
  "setup --db rqlite serves against a real node, with and without credentials",
  async (bin, t) => {
    await using authDir = await tempDir();
    const authFile = join(authDir.path, "auth.json");
    const credentials = { user: "bob", password: "s3cret pass" };
    await writeFile(
      authFile,
      JSON.stringify([{ username: "bob", password: credentials.password, perms: ["all"] }]),
    );
    await using open = await startCluster(bin, 1, { args: FAST_RAFT });
    await using locked = await startCluster(bin, 1, {
      args: [...FAST_RAFT, "-auth", authFile],
      auth: credentials,
    });
    const openUrl = open.nodes[0]!.url;
    const lockedUrl = locked.nodes[0]!.url;
    const creds = ["--rqlite-user", credentials.user, "--rqlite-password", credentials.password];
    const cases: Case[] = [
      {
        toB: "hmac",
        toS: "hmac",
        given: false,
        storage: ["--db", "rqlite", "--rqlite-url", lockedUrl, ...creds],
        rqliteCredentials: credentials,
      },
      {
        toB: "token",
        toS: "none",
        given: true,
        storage: ["--db", "rqlite", "--rqlite-url", openUrl],
      },
      {
        toB: "none",
        toS: "token",
        given: false,
        storage: [
          "--db",
          "rqlite",
          "--rqlite-url",
          `http://127.0.0.1:${freePorts(1)[0]},${openUrl}`, // a dead node first
        ],
      },
    ];
    for (const c of cases) {
      await t.step(
        `setup ${c.toB}/${c.toS} ${c.storage!.slice(3).join(" ")}`,
        () => setupAndServe(c),
      );
    }
    await t.step("serve says clearly what is wrong with the cluster", async () => {
      await using dir = await tempDir();
      const [dead] = freePorts(1);
      const down = await runCli([
        "serve",
        "--port",
        "0",
        "--rqlite-url",
        `http://127.0.0.1:${dead}`,
      ], { cwd: dir.path });
      assert.equal(down.code, 1);
      assert.match(
        down.stderr.trim(),
        /^error: Cannot reach rqlite at http:\/\/127\.0\.0\.1:\d+ \(http:\S+ connection refused\)$/,
      );
      const refused = await runCli(["serve", "--port", "0", "--rqlite-url", lockedUrl], {
        cwd: dir.path,
      });
      assert.equal(refused.code, 1);
      assert.match(
        refused.stderr.trim(),
        /^error: rqlite at http:\S+ requires credentials \(HTTP 401/,
      );
      assert.equal(refused.stderr.trim().split("\n").length, 1);
    });
  },
);

postgresTest(
  "setup --db postgres serves against a real server, the url kept secret",
  async (bin, t) => {
    await using cluster = await startPostgres(bin);
    const url = cluster.url();
    const cases: Case[] = [
      { toB: "hmac", toS: "hmac", given: false },
      { toB: "token", toS: "none", given: true },
    ].map((c) =>
      ({ ...c, storage: ["--db", "postgres", "--postgres-url", url], postgresUrl: url }) as Case
    );
    for (const c of cases) {
      await t.step(`setup ${c.toB}/${c.toS} --db postgres`, () => setupAndServe(c));
    }
    await t.step(
      "LONELYPSS_POSTGRES_URL alone picks PostgreSQL; a dead server is one clear line",
      async () => {
        await using dir = await tempDir();
        const [exe, pre] = await cliCommand("deno");
        await using server = await startServe(exe, [...pre, "serve", "--port", "0"], {
          cwd: dir.path,
          env: { LONELYPSS_POSTGRES_URL: url },
        });
        assert.match(
          server.banner,
          /\(db postgres postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres,/,
        );
        const stopped = await server.stop("SIGTERM");
        assert.equal(stopped.code, 0, stopped.stderr);
        assert.ok(!(stopped.stdout + stopped.stderr).includes(TEST_PASSWORD));
        const [dead] = freePorts(1);
        const down = await runCli(["serve", "--port", "0"], {
          cwd: dir.path,
          env: {
            LONELYPSS_POSTGRES_URL: `postgres://postgres:${TEST_PASSWORD}@127.0.0.1:${dead}/x`,
          },
        });
        assert.equal(down.code, 1);
        assert.match(
          down.stderr.trim(),
          /^error: Cannot reach PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:\d+\/x: /,
        );
        assert.equal(down.stderr.trim().split("\n").length, 1, down.stderr);
        assert.ok(!down.stderr.includes(TEST_PASSWORD));
        const refused = await runCli(["serve", "--port", "0"], {
          cwd: dir.path,
          env: { LONELYPSS_POSTGRES_URL: url.replace(TEST_PASSWORD, "wrong-password") },
        });
        assert.equal(refused.code, 1);
        assert.match(refused.stderr.trim(), /^error: PostgreSQL at \S+ refused the credentials/);
        assert.ok(!refused.stderr.includes("wrong-password"));
      },
    );
  },
);
