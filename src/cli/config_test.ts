import assert from "node:assert/strict";
import { join } from "node:path";
import { parseConfigFile } from "./config.ts";
import { CliError } from "./errors.ts";

Deno.test("config: paths resolve against the file's directory, :memory: and absolute stay", () => {
  const c = parseConfigFile(
    JSON.stringify({
      host: "127.0.0.1",
      port: 0,
      database: "subs.db",
      secrets: "/etc/s.json",
      replayDatabase: ":memory:",
      pathPrefix: "ps/",
      logLevel: "warn",
      grace: 1.5,
      limits: { spoolDir: "spool", fanoutConcurrency: 8, missedRetry: { maxRetries: 3 } },
    }),
    join("conf", "lonelypss.json"),
  );
  assert.deepEqual(c, {
    host: "127.0.0.1",
    port: 0,
    database: join("conf", "subs.db"),
    secrets: "/etc/s.json",
    replayDatabase: ":memory:",
    pathPrefix: "/ps",
    logLevel: "warn",
    grace: 1.5,
    limits: {
      spoolDir: join("conf", "spool"),
      fanoutConcurrency: 8,
      missedRetry: { maxRetries: 3 },
    },
  });
});

Deno.test("config: the empty object means all defaults", () => {
  assert.deepEqual(parseConfigFile("{}", "c.json"), { limits: {} });
});

Deno.test("config: every error names the file and the field", () => {
  const cases: [string, RegExp][] = [
    ["[]", /^Invalid config file c\.json: the top level must be a JSON object$/],
    ['{"host": ""}', /^Invalid config file c\.json: "host" must be a non-empty string$/],
    ['{"port": 70000}', /^Invalid config file c\.json: "port" must be an integer from 0 to 65535/],
    ['{"port": 1.5}', /"port" must be an integer/],
    ['{"logLevel": "loud"}', /"logLevel" must be one of debug, info, warn, error, silent/],
    ['{"grace": -1}', /"grace" must be a non-negative number/],
    ['{"pathPrefix": 1}', /"pathPrefix" must be a string/],
    ['{"limits": []}', /"limits" must be an object/],
    ['{"limits": {"maxBodyBytes": "1"}}', /"limits\.maxBodyBytes" must be a number/],
    ['{"limits": {"missedRetry": {"tries": 1}}}', /"limits\.missedRetry\.tries" is not a retry/],
    [
      '{"limits": {"missedLeaseMs": 10}}',
      /c\.json: "limits": missedLeaseMs \(10\) must exceed totalTimeoutMs/,
    ],
  ];
  for (const [text, re] of cases) {
    assert.throws(() => parseConfigFile(text, "c.json"), (e) => {
      assert.ok(e instanceof CliError);
      assert.match(e.message, re, text);
      return true;
    });
  }
});

Deno.test("config: an rqlite section instead of a database", () => {
  const c = parseConfigFile(
    JSON.stringify({
      rqlite: {
        urls: ["http://127.0.0.1:4001", "https://db2:4001/"],
        readConsistency: "linearizable",
        timeoutMs: 2500,
        leaderWaitMs: 1000,
      },
    }),
    "c.json",
  );
  assert.deepEqual(c.rqlite, {
    urls: ["http://127.0.0.1:4001", "https://db2:4001/"],
    readConsistency: "linearizable",
    timeoutMs: 2500,
    leaderWaitMs: 1000,
  });
  const bad: [unknown, RegExp][] = [
    [{ database: "x.db", rqlite: { urls: ["http://a"] } }, /"rqlite" and "database" exclude/],
    [{ rqlite: { urls: [] } }, /"rqlite\.urls" must be a non-empty array of urls/],
    [{ rqlite: { urls: ["http://u:p@a"] } }, /"rqlite\.urls" has "http:\/\/u:p@a": give the user/],
    [{ rqlite: { urls: ["ftp://a"] } }, /"rqlite\.urls" has "ftp:\/\/a": must be http or https/],
    [{ rqlite: { urls: ["http://a"], readConsistency: "bogus" } }, /must be one of none, weak/],
    [{ rqlite: { urls: ["http://a"], timeoutMs: 0 } }, /"rqlite\.timeoutMs" must be a positive/],
    [{ rqlite: { urls: ["http://a"], user: "x" } }, /"rqlite\.user" is not an option/],
  ];
  for (const [raw, re] of bad) {
    assert.throws(() => parseConfigFile(JSON.stringify(raw), "c.json"), re);
  }
});

Deno.test("config: the compression section resolves paths and checks every field", () => {
  const c = parseConfigFile(
    JSON.stringify({
      compression: {
        enabled: true,
        lowWatermark: 2048,
        libraryPath: "lib/libzstd.so.1",
        presets: [{ id: 2, dictionary: "dicts/two.zdict", level: 5 }, {
          id: 3,
          dictionary: "/abs.zdict",
        }],
      },
    }),
    "/etc/lps/lonelypss.json",
  );
  assert.deepEqual(c.compression, {
    enabled: true,
    lowWatermark: 2048,
    libraryPath: "/etc/lps/lib/libzstd.so.1",
    presets: [{ id: 2, dictionary: "/etc/lps/dicts/two.zdict", level: 5 }, {
      id: 3,
      dictionary: "/abs.zdict",
      level: 3,
    }],
  });
  const bad = (compression: unknown, message: RegExp) =>
    assert.throws(() => parseConfigFile(JSON.stringify({ compression }), "c.json"), message);
  bad(
    { presets: [{ id: 1, dictionary: "d" }] },
    /"compression.presets\[0\].id" must be an integer from 2/,
  );
  bad({ presets: [{ id: 2, dictionary: "d" }, { id: 2, dictionary: "e" }] }, /repeats id 2/);
  bad({ lowWatermark: -1 }, /"compression.lowWatermark" must be a positive number/);
  bad({ zstd: true }, /"compression.zstd" is not an option/);
  bad({ enabled: "yes" }, /"compression.enabled" must be true or false/);
});

Deno.test("config: a postgres section instead of a database", () => {
  const c = parseConfigFile(
    JSON.stringify({
      postgres: { schema: "pubsub", tablePrefix: "lps_", timeoutMs: 2000, caFile: "ca.pem" },
    }),
    "/etc/lonelypss/lonelypss.json",
  );
  assert.deepEqual(c.postgres, {
    schema: "pubsub",
    tablePrefix: "lps_",
    timeoutMs: 2000,
    caFile: "/etc/lonelypss/ca.pem",
  });
  for (
    const [raw, message] of [
      [{ database: "x.db", postgres: {} }, /"postgres" excludes "database" and "rqlite"/],
      [{ postgres: { url: "postgres://a" } }, /"postgres\.url" is not an option/],
      [{ postgres: { poolSize: 0 } }, /"postgres\.poolSize" must be a positive integer/],
      [{ postgres: { timeoutMs: -1 } }, /"postgres\.timeoutMs" must be a positive number/],
      [{ postgres: { schema: "Bad-Name" } }, /"postgres\.schema" must be 1-30 characters/],
    ] as const
  ) {
    assert.throws(() => parseConfigFile(JSON.stringify(raw), "c.json"), message);
  }
});
