/**
 * `lonelypss subscriptions` and `stats` against a live `serve` on the same
 * SQLite file, and the statistics' loss bound when the server is killed
 * with SIGKILL.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { cliCommand, runCli, startServe, subscribeOver, tempDir } from "./_cli.ts";
import { notifyOver } from "./_harness.ts";
import { TestSubscriber } from "./_subscriber.ts";

const TOPIC = new TextEncoder().encode("cli/t");

async function json(args: string[], cwd: string): Promise<Record<string, unknown>> {
  const r = await runCli([...args, "--json"], { cwd });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

type Row = { url: string; deliveries: number; failures: number; consecutiveFailures: number };

/** Lists until `ok(rows)`: the server flushes on its own timer. */
async function listUntil(cwd: string, ok: (rows: Row[]) => boolean): Promise<Row[]> {
  for (;;) {
    const rows = (await json(["subscriptions", "list", "--db", "s.db"], cwd)).rows as Row[];
    if (ok(rows)) return rows;
  }
}

Deno.test("the CLI lists, reports and prunes dead subscribers beside a live server", async () => {
  await using dir = await tempDir();
  await using sub = new TestSubscriber((path) =>
    path === "/dead" ? { kind: "fail500" } : { kind: "confirm" }
  );
  const [exe, pre] = await cliCommand("deno");
  await using server = await startServe(exe, [...pre, "serve", "--db", "s.db", "--port", "0"], {
    cwd: dir.path,
    env: { LONELYPSS_STATS_FLUSH_MS: "50" },
  });
  for (const p of ["/dead", "/ok"]) {
    assert.equal(await subscribeOver(server.url, sub.url(p), TOPIC), 200);
  }
  await notifyOver(server.url, TOPIC, new Uint8Array([1]));
  await notifyOver(server.url, TOPIC, new Uint8Array([2]));
  const rows = await listUntil(dir.path, (r) => r.every((x) => x.deliveries === 2));
  assert.deepEqual(rows.map((r) => [r.url, r.failures, r.consecutiveFailures]), [
    [sub.url("/dead"), 2, 2],
    [sub.url("/ok"), 0, 0],
  ]);

  const failing = await json(["subscriptions", "list", "--db", "s.db", "--failing"], dir.path);
  assert.equal(failing.total, 1);
  const table = await runCli(["subscriptions", "list", "--db", "s.db"], { cwd: dir.path });
  assert.match(table.stdout, /^KIND +URL +TOPIC\/GLOB +SENT +FAILED/m);
  assert.match(table.stdout, /exact +\S+\/dead +cli\/t +2 +2 +2 +http 500/);

  const stats = await json(["stats", "--db", "s.db"], dir.path);
  assert.deepEqual([stats.exacts, stats.urls, stats.failingUrls], [2, 2, 1]);
  assert.equal((stats.topFailing as Row[])[0]?.url, sub.url("/dead"));

  // Nothing has failed for a day yet: a dry run and a real prune find nothing.
  const none = await json(
    ["subscriptions", "prune", "--db", "s.db", "--failing-for", "1d"],
    dir.path,
  );
  assert.deepEqual(none.removed, []);
  const dry = await json(
    ["subscriptions", "prune", "--db", "s.db", "--url", sub.url("/dead"), "--dry-run"],
    dir.path,
  );
  assert.deepEqual(dry.removed, [{ url: sub.url("/dead"), exacts: 1, globs: 0 }]);
  const text = await runCli(["subscriptions", "prune", "--db", "s.db", "--url", sub.url("/dead")], {
    cwd: dir.path,
  });
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /Removed 1 subscriptions of 1 urls/);
  // The live server no longer delivers to it.
  assert.equal(await notifyOver(server.url, TOPIC, new Uint8Array([3])), 1);
  const after = await json(["stats", "--db", "s.db"], dir.path);
  assert.deepEqual(
    (after.prunes as { url: string; reason: string }[]).map((p) => [p.url, p.reason]),
    [
      [sub.url("/dead"), "cli url"],
    ],
  );
  const usage = await runCli(["subscriptions", "prune", "--db", "s.db"], { cwd: dir.path });
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /exactly one of --url, --failing-for, --idle-for/);
  assert.equal((await server.stop()).code, 0);
});

Deno.test("statistics flushed before a SIGKILL survive it; at most the last interval is lost", async () => {
  await using dir = await tempDir();
  await using sub = new TestSubscriber(() => ({ kind: "confirm" }));
  const [exe, pre] = await cliCommand("deno");
  await using server = await startServe(exe, [...pre, "serve", "--db", "s.db", "--port", "0"], {
    cwd: dir.path,
    env: { LONELYPSS_STATS_FLUSH_MS: "100" },
  });
  assert.equal(await subscribeOver(server.url, sub.url("/r"), TOPIC), 200);
  for (let i = 0; i < 5; i++) await notifyOver(server.url, TOPIC, new Uint8Array([i]));
  // Flushed by the server's own timer.
  await listUntil(dir.path, (r) => r[0]?.deliveries === 5);
  for (let i = 0; i < 3; i++) await notifyOver(server.url, TOPIC, new Uint8Array([i]));
  const killed = await server.stop("SIGKILL");
  assert.notEqual(killed.code, 0);
  const rows = (await json(["subscriptions", "list", "--db", join(dir.path, "s.db")], dir.path))
    .rows as Row[];
  // The five flushed before stay; of the last three, what a flush wrote before the kill.
  assert.ok(rows[0]!.deliveries >= 5 && rows[0]!.deliveries <= 8, String(rows[0]!.deliveries));
});
