import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import vectors from "../../tests/vectors/auth.json" with { type: "json" };
import { decodeHmacSecret, encodeHmacSecret, generateHmacSecret } from "./hmac.ts";
import { memoryReplayStore, type ReplayStore } from "./replay_store.ts";
import {
  authFromSecrets,
  formatSecretsFile,
  loadSecretsFile,
  parseSecretsFile,
  saveSecretsFile,
  type SecretsEntry,
  type SecretsFile,
} from "./secrets_file.ts";
import type { AuthMessage } from "./types.ts";

const HMAC_TB = vectors.hmac.to_broadcaster_secret_text;
const HMAC_TS = vectors.hmac.to_subscriber_secret_text;
const KINDS = ["none", "token", "hmac"] as const;
const MSG: AuthMessage = { type: "check_subscriptions", url: "http://127.0.0.1:3002/v1/receive" };

function entry(kind: (typeof KINDS)[number], secret: string): SecretsEntry | undefined {
  if (kind === "none") return undefined;
  return kind === "token"
    ? { type: "token", secret: `my secret é ${secret.slice(0, 4)}` }
    : { type: "hmac", secret };
}

function file(tb: SecretsEntry | undefined, ts: SecretsEntry | undefined): SecretsFile {
  return {
    version: "2",
    ...(tb ? { toBroadcaster: tb } : {}),
    ...(ts ? { toSubscriber: ts } : {}),
  };
}

for (const tbKind of KINDS) {
  for (const tsKind of KINDS) {
    Deno.test(`secrets file ${tbKind}/${tsKind}: round trip and strategies`, async () => {
      const s = file(entry(tbKind, HMAC_TB), entry(tsKind, HMAC_TS));
      const text = formatSecretsFile(s);
      assert.deepEqual(parseSecretsFile(text, "x.json"), s);
      assert.ok(text.endsWith("}\n"));
      assert.equal(text.includes("to-broadcaster"), tbKind !== "none");
      assert.equal(text.includes("to-subscriber"), tsKind !== "none");
      let created = 0;
      const auth = await authFromSecrets(s, {
        replay: () => (created++, Promise.resolve(memoryReplayStore())),
      });
      assert.equal(auth.toBroadcaster.kind, tbKind);
      assert.equal(auth.toSubscriber.kind, tsKind);
      assert.equal(created, tbKind === "hmac" || tsKind === "hmac" ? 1 : 0);
      // Each direction signs with its own secret: what one produces the other rejects.
      const a = await auth.toBroadcaster.authorize(MSG, new Uint8Array(), 1000);
      assert.equal(await auth.toBroadcaster.verify(MSG, new Uint8Array(), a, 1000), "ok");
      if (tbKind !== "none" && tsKind !== "none") {
        assert.equal(await auth.toSubscriber.verify(MSG, new Uint8Array(), a, 1000), "forbidden");
      }
      await auth.toBroadcaster.close();
      await auth.toSubscriber.close();
    });
  }
}

Deno.test("secrets file is formatted exactly like the reference's json.dumps(indent=2)", () => {
  assert.equal(formatSecretsFile({ version: "2" }), '{\n  "version": "2"\n}\n');
  assert.equal(
    formatSecretsFile({
      version: "2",
      toBroadcaster: { type: "token", secret: 'sécret ☃ 😀"\\\x7f\t' },
      toSubscriber: { type: "hmac", secret: HMAC_TS },
    }),
    '{\n  "version": "2",\n  "to-broadcaster": {\n    "type": "token",\n' +
      '    "secret": "s\\u00e9cret \\u2603 \\ud83d\\ude00\\"\\\\\\u007f\\t"\n  },\n' +
      `  "to-subscriber": {\n    "type": "hmac",\n    "secret": "${HMAC_TS}"\n  }\n}\n`,
  );
});

Deno.test("secrets file accepts the reference's own layout and padded secrets", () => {
  const text = `{"to-subscriber": {"secret": "${HMAC_TS}==", "type": "hmac"}, "version": "2"}`;
  const s = parseSecretsFile(text, "subscriber-secrets.json");
  assert.deepEqual(s, { version: "2", toSubscriber: { type: "hmac", secret: HMAC_TS + "==" } });
});

const BAD: [string, string, RegExp][] = [
  ["not JSON", "{", /Invalid secrets file f\.json: not JSON: /],
  ["an array", "[]", /Invalid secrets file f\.json: expected a JSON object$/],
  ["version as a number", '{"version": 2}', /"version" must be the string "2", got 2$/],
  ["no version", "{}", /"version" must be the string "2", got nothing$/],
  ["version 1", '{"version": "1"}', /"version" must be the string "2", got "1"$/],
  [
    "an unknown key",
    '{"version": "2", "incoming": {}}',
    /f\.json: unknown key "incoming" \(expected "version", "to-broadcaster", "to-subscriber", "rqlite", "postgres"\)$/,
  ],
  ["__proto__ as a key", '{"version": "2", "__proto__": {}}', /unknown key "__proto__"/],
  [
    "an unknown type",
    '{"version": "2", "to-broadcaster": {"type": "none", "secret": "x"}}',
    /f\.json: "to-broadcaster"\.type must be "hmac" or "token", got "none"$/,
  ],
  [
    "a missing secret",
    '{"version": "2", "to-subscriber": {"type": "token"}}',
    /f\.json: "to-subscriber"\.secret is missing or not a non-empty string$/,
  ],
  [
    "an empty secret",
    '{"version": "2", "to-subscriber": {"type": "token", "secret": ""}}',
    /"to-subscriber"\.secret is missing/,
  ],
  [
    "an entry that is not an object",
    '{"version": "2", "to-subscriber": "hmac"}',
    /f\.json: "to-subscriber" must be an object$/,
  ],
  [
    "an extra entry key",
    '{"version": "2", "to-subscriber": {"type": "token", "secret": "a", "x": 1}}',
    /"to-subscriber" has unknown key "x"$/,
  ],
  [
    "an hmac secret of 32 bytes",
    `{"version": "2", "to-broadcaster": {"type": "hmac", "secret": "${HMAC_TB.slice(0, 43)}"}}`,
    /"to-broadcaster"\.secret: Invalid hmac secret: expected 64 bytes as base64url .* got 43 characters$/,
  ],
  [
    "an hmac secret in the standard alphabet",
    `{"version": "2", "to-broadcaster": {"type": "hmac", "secret": "${
      HMAC_TB.replace("-", "+")
    }"}}`,
    /Invalid hmac secret: expected 64 bytes/,
  ],
  [
    "a token with a newline",
    '{"version": "2", "to-broadcaster": {"type": "token", "secret": "a\\nb"}}',
    /"to-broadcaster"\.secret: control characters cannot travel in a header$/,
  ],
];
for (const [what, text, re] of BAD) {
  Deno.test(`secrets file rejects ${what} with a precise message`, () => {
    assert.throws(() => parseSecretsFile(text, "f.json"), re);
  });
}

Deno.test("hmac secret text: encode is 86 base64url characters, decode is its inverse", () => {
  const bytes = generateHmacSecret();
  assert.equal(bytes.length, 64);
  const text = encodeHmacSecret(bytes);
  assert.match(text, /^[A-Za-z0-9_-]{86}$/);
  assert.deepEqual(decodeHmacSecret(text), bytes);
  assert.deepEqual(decodeHmacSecret(text + "=="), bytes);
  assert.deepEqual(
    decodeHmacSecret(HMAC_TB),
    Uint8Array.from({ length: 64 }, (_, i) => i),
  );
  assert.equal(encodeHmacSecret(decodeHmacSecret(HMAC_TS)), HMAC_TS);
  assert.notDeepEqual(generateHmacSecret(), bytes);
  assert.throws(() => encodeHmacSecret(new Uint8Array(63)), /63 bytes, expected 64/);
  for (const bad of ["", HMAC_TB + "=", HMAC_TB + "A", ` ${HMAC_TB}`, HMAC_TB.slice(1)]) {
    assert.throws(() => decodeHmacSecret(bad), /Invalid hmac secret: expected 64 bytes/);
  }
});

Deno.test("both hmac directions share one replay store, closed with the last strategy", async () => {
  let closed = 0;
  const inner = memoryReplayStore();
  const store: ReplayStore = {
    markUsed: (c, e, n) => inner.markUsed(c, e, n),
    close: () => (closed++, inner.close()),
  };
  const auth = await authFromSecrets(
    file(entry("hmac", HMAC_TB), entry("hmac", HMAC_TS)),
    { replay: () => Promise.resolve(store), tokenLifetimeSeconds: 5 },
  );
  const a = await auth.toBroadcaster.authorize(MSG, new Uint8Array(), 1000);
  assert.equal(await auth.toBroadcaster.verify(MSG, new Uint8Array(), a, 1006), "forbidden");
  assert.equal(await auth.toBroadcaster.verify(MSG, new Uint8Array(), a, 1005), "ok");
  await auth.toBroadcaster.close();
  assert.equal(closed, 0);
  await auth.toSubscriber.close();
  assert.equal(closed, 1);
});

Deno.test("authFromSecrets rejects a bad hmac secret before creating the store", async () => {
  let created = 0;
  await assert.rejects(
    authFromSecrets(file({ type: "hmac", secret: "short" }, undefined), {
      replay: () => (created++, Promise.resolve(memoryReplayStore())),
    }),
    /Invalid hmac secret/,
  );
  assert.equal(created, 0);
});

Deno.test("save and load a secrets file; saved files are private", async () => {
  const dir = await mkdtemp(join(tmpdir(), "lps-secrets-"));
  try {
    const path = join(dir, "broadcaster-secrets.json");
    const s = file(entry("hmac", HMAC_TB), entry("token", HMAC_TS));
    await saveSecretsFile(path, s);
    assert.equal(await readFile(path, "utf8"), formatSecretsFile(s));
    assert.deepEqual(await loadSecretsFile(path), s);
    if (Deno.build.os !== "windows") assert.equal((await stat(path)).mode & 0o777, 0o600);
    await assert.rejects(
      loadSecretsFile(join(dir, "missing.json")),
      /^Error: Cannot read secrets file .*missing\.json: /,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

Deno.test("secrets file: rqlite credentials round trip and are checked", () => {
  const file = { version: "2", rqlite: { user: "bob", password: "pä:ss" } } as const;
  const text = formatSecretsFile(file);
  assert.equal(
    text,
    '{\n  "version": "2",\n  "rqlite": {\n    "user": "bob",\n    "password": "p\\u00e4:ss"\n  }\n}\n',
  );
  assert.deepEqual(parseSecretsFile(text, "s.json"), file);
  assert.throws(
    () => parseSecretsFile('{"version": "2", "rqlite": {"user": "a:b", "password": ""}}', "s.json"),
    /Invalid secrets file s\.json: "rqlite"\.user must be a non-empty string without ":"/,
  );
  assert.throws(
    () => parseSecretsFile('{"version": "2", "rqlite": {"user": "a"}}', "s.json"),
    /"rqlite"\.password is missing/,
  );
  assert.throws(
    () =>
      parseSecretsFile(
        '{"version": "2", "rqlite": {"user": "a", "password": "", "x": 1}}',
        "s.json",
      ),
    /"rqlite" has unknown key "x"/,
  );
});

Deno.test("secrets file: the PostgreSQL url round trips and is checked", () => {
  const file = { version: "2", postgres: { url: "postgres://u:p%40ss@db:5432/x" } } as const;
  const text = formatSecretsFile(file);
  assert.deepEqual(parseSecretsFile(text, "s.json"), file);
  assert.throws(
    () => parseSecretsFile('{"version": "2", "postgres": {"url": ""}}', "s.json"),
    /"postgres"\.url is missing or not a non-empty string/,
  );
  assert.throws(
    () => parseSecretsFile('{"version": "2", "postgres": {"url": "x", "password": "y"}}', "s.json"),
    /"postgres" has unknown key "password"/,
  );
});
