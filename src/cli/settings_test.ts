import assert from "node:assert/strict";
import { CliError, UsageError } from "./errors.ts";
import { parseConfigFile } from "./config.ts";
import { defaultHost, isLoopback, resolveSettings } from "./settings.ts";

Deno.test("settings: defaults without flags, environment or config", () => {
  assert.deepEqual(resolveSettings({}, {}, null), {
    host: null,
    port: 3003,
    database: "subscriptions.db",
    rqlite: null,
    postgres: null,
    postgresUrl: null,
    secrets: null,
    replayDatabase: "recent-hmacs.db",
    pathPrefix: "",
    logLevel: "info",
    graceMs: 10_000,
    limits: {},
    relayUrl: null,
    compression: {},
    ssrfGuard: null,
    operations: {},
    subscriptions: {},
    denoFront: true,
  });
});

Deno.test("settings: --deno-front / LONELYPSS_DENO_FRONT turn the Deno front off, and are checked", () => {
  assert.equal(resolveSettings({ "deno-front": "off" }, {}, null).denoFront, false);
  assert.equal(resolveSettings({}, { LONELYPSS_DENO_FRONT: "off" }, null).denoFront, false);
  assert.equal(
    resolveSettings({ "deno-front": "on" }, { LONELYPSS_DENO_FRONT: "off" }, null).denoFront,
    true,
  );
  assert.throws(
    () => resolveSettings({ "deno-front": "no" }, {}, null),
    (e: unknown) => e instanceof UsageError && /--deno-front/.test(e.message),
  );
});

Deno.test("settings: the SSRF guard and operations come from the config; the metrics token also from the environment", () => {
  const config = parseConfigFile(
    JSON.stringify({
      ssrfGuard: { enabled: true, allow: ["10.0.0.0/8", "fd00::/8"] },
      operations: { healthz: false, metricsToken: "file" },
      limits: { spoolQuotaBytes: 1e9, maxNotifyBytes: 1e6, sqliteBusyTimeoutMs: 250 },
    }),
    "/x/lonelypss.json",
  );
  const s = resolveSettings({}, { LONELYPSS_METRICS_TOKEN: "env" }, config);
  assert.deepEqual(s.ssrfGuard, { enabled: true, allow: ["10.0.0.0/8", "fd00::/8"] });
  assert.deepEqual(s.operations, { healthz: false, metricsToken: "env" });
  assert.deepEqual(s.limits, {
    spoolQuotaBytes: 1e9,
    maxNotifyBytes: 1e6,
    sqliteBusyTimeoutMs: 250,
  });
  for (
    const bad of [
      { ssrfGuard: { enabled: "yes" } },
      { ssrfGuard: { enabled: true, allow: ["10.0.0.0/40"] } },
      { ssrfGuard: { enabled: true, deny: [] } },
      { operations: { metrics: 1 } },
      { operations: { metricsToken: "" } },
      { operations: { prometheus: true } },
    ]
  ) {
    assert.throws(
      () => parseConfigFile(JSON.stringify(bad), "c.json"),
      CliError,
      JSON.stringify(bad),
    );
  }
});

Deno.test("settings: the relay url comes from flag, environment or config, and is checked", () => {
  const config = { limits: {}, relayUrl: "http://c:1" };
  assert.equal(resolveSettings({}, {}, config).relayUrl, "http://c:1");
  assert.equal(
    resolveSettings({}, { LONELYPSS_RELAY_URL: "http://e:2/ps/" }, config).relayUrl,
    "http://e:2/ps",
  );
  assert.equal(resolveSettings({ "relay-url": "https://f" }, {}, config).relayUrl, "https://f");
  assert.throws(() => resolveSettings({ "relay-url": "ws://x" }, {}, null), UsageError);
  assert.throws(() => resolveSettings({ "relay-url": "http://x/?q" }, {}, null), UsageError);
  assert.throws(() => resolveSettings({ "relay-url": "nope" }, {}, null), /--relay-url/);
});

Deno.test("settings: flag beats environment beats config", () => {
  const config = { port: 1, database: "c.db", grace: 3, logLevel: "debug" as const, limits: {} };
  const env = { LONELYPSS_PORT: "2", LONELYPSS_DB: "e.db", LONELYPSS_SPOOL_DIR: "/spool" };
  const s = resolveSettings({ port: "0" }, env, config);
  assert.equal(s.port, 0);
  assert.equal(s.database, "e.db");
  assert.equal(s.graceMs, 3000);
  assert.equal(s.logLevel, "debug");
  assert.deepEqual(s.limits, { spoolDir: "/spool" });
  assert.equal(resolveSettings({}, { LONELYPSS_PORT: "" }, config).port, 1);
});

Deno.test("settings: a malformed value names its source", () => {
  assert.throws(() => resolveSettings({ port: "80a" }, {}, null), UsageError);
  assert.throws(
    () => resolveSettings({}, { LONELYPSS_GRACE: "soon" }, null),
    /Invalid LONELYPSS_GRACE: expected a non-negative number of seconds, got "soon"/,
  );
  assert.throws(
    () => resolveSettings({ "log-level": "loud" }, {}, null),
    /Invalid --log-level: expected one of debug, info, warn, error, silent/,
  );
});

Deno.test("settings: rqlite from the file, the flags, or neither", () => {
  const file = {
    rqlite: { urls: ["http://127.0.0.1:4001"], timeoutMs: 2000 },
    limits: {},
  };
  assert.deepEqual(resolveSettings({}, {}, file).rqlite, file.rqlite);
  // --db picks SQLite over the file's rqlite, --rqlite-url rqlite over the file's database.
  assert.equal(resolveSettings({ db: "x.db" }, {}, file).rqlite, null);
  const flagged = resolveSettings(
    { "rqlite-url": "http://a:1, http://b:2", "rqlite-consistency": "strong" },
    {},
    { database: "c.db", limits: {} },
  );
  assert.deepEqual(flagged.rqlite, {
    urls: ["http://a:1", "http://b:2"],
    readConsistency: "strong",
  });
  assert.deepEqual(
    resolveSettings({}, { LONELYPSS_RQLITE_URL: "http://c:3" }, file).rqlite,
    { urls: ["http://c:3"], timeoutMs: 2000 },
  );
  assert.throws(
    () => resolveSettings({ db: "x.db", "rqlite-url": "http://a:1" }, {}, null),
    /--db and --rqlite-url exclude each other/,
  );
  assert.throws(() => resolveSettings({ "rqlite-url": "a:1" }, {}, null), UsageError);
  assert.throws(
    () => resolveSettings({ "rqlite-consistency": "weak" }, {}, null),
    /--rqlite-consistency needs an rqlite cluster/,
  );
});

Deno.test("settings: the host is unset unless asked for; unset, it follows the authorization", () => {
  assert.equal(resolveSettings({}, { LONELYPSS_HOST: "0.0.0.0" }, null).host, "0.0.0.0");
  assert.equal(resolveSettings({}, {}, { host: "10.0.0.5", limits: {} }).host, "10.0.0.5");
  assert.equal(resolveSettings({ host: "::" }, {}, null).host, "::");
  assert.equal(defaultHost("none"), "127.0.0.1");
  assert.equal(defaultHost("hmac"), "0.0.0.0");
  assert.equal(defaultHost("token"), "0.0.0.0");
  for (const host of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"]) {
    assert.equal(isLoopback(host), true, host);
  }
  for (const host of ["0.0.0.0", "::", "10.0.0.5", "example.com"]) {
    assert.equal(isLoopback(host), false, host);
  }
});

Deno.test("settings: PostgreSQL from the file or LONELYPSS_POSTGRES_URL, excluding the others", () => {
  const file = parseConfigFile(
    JSON.stringify({ postgres: { schema: "pubsub", timeoutMs: 2000 } }),
    "/x/lonelypss.json",
  );
  assert.deepEqual(resolveSettings({}, {}, file).postgres, { schema: "pubsub", timeoutMs: 2000 });
  assert.equal(resolveSettings({}, {}, file).postgresUrl, null);
  // --db picks SQLite over the file's postgres section.
  assert.equal(resolveSettings({ db: "x.db" }, {}, file).postgres, null);
  // The variable alone picks PostgreSQL with the defaults.
  const env = { LONELYPSS_POSTGRES_URL: "postgres://u:pw@127.0.0.1/db" };
  const s = resolveSettings({}, env, null);
  assert.deepEqual([s.postgres, s.postgresUrl], [{}, env.LONELYPSS_POSTGRES_URL]);
  assert.deepEqual(resolveSettings({}, env, file).postgres, file.postgres);
  assert.throws(
    () => resolveSettings({ db: "x.db" }, env, null),
    (e: unknown) =>
      e instanceof UsageError && /--db and LONELYPSS_POSTGRES_URL exclude/.test(e.message),
  );
  assert.throws(
    () => resolveSettings({ "rqlite-url": "http://a:1" }, env, null),
    (e: unknown) =>
      e instanceof UsageError && /--rqlite-url and LONELYPSS_POSTGRES_URL/.test(e.message),
  );
});

Deno.test("settings: subscription care from the config file, environment beating it", () => {
  const config = {
    limits: {},
    subscriptions: { subscriptionLeaseSeconds: 60, pruneFailingAfterSeconds: 432_000 },
  };
  const s = resolveSettings({}, { LONELYPSS_SUBSCRIPTION_LEASE_SECONDS: "120" }, config);
  assert.deepEqual(s.subscriptions, {
    subscriptionLeaseSeconds: 120,
    pruneFailingAfterSeconds: 432_000,
  });
  assert.throws(
    () => resolveSettings({}, { LONELYPSS_STATS_FLUSH_MS: "soon" }, null),
    /Invalid LONELYPSS_STATS_FLUSH_MS: expected a positive number, got "soon"/,
  );
  const admin = resolveSettings({}, { LONELYPSS_ADMIN_TOKEN: "t" }, null);
  assert.deepEqual(admin.operations, { admin: true, adminToken: "t" });
});
