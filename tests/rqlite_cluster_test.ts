/**
 * Several broadcasters sharing one real rqlite cluster (3 nodes on
 * 127.0.0.1): each broadcaster is a real `cli.ts serve` process, pointed at a
 * different node. Subscriptions confirmed through one are seen by the next
 * notify through the other (exact and glob); check_subscriptions agrees on
 * both; the sweepers of both processes deliver each MISSED once; and killing
 * the leader under load never yields a 500, a hang, or a lost subscription.
 *
 * @module
 */

import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { EXACTS, GLOBS } from "../src/storage/sqlite/schema.ts";
import {
  type Cluster,
  FAST_RAFT,
  rqliteTest,
  startCluster,
  waitFor,
} from "../src/storage/rqlite/_testing.ts";
import { cliCommand, type Served, startServe, tempDir } from "./_cli.ts";
import { notify, sharedStoreSteps, subscribeExact } from "./_several.ts";
import { checkEtag, IMMEDIATE_RETRY } from "./_harness.ts";
import { withSubscriber } from "./_subscriber.ts";
import { WsClient } from "./_ws_client.ts";

const UTF8 = new TextEncoder();

/** Starts `cli.ts serve` with a configuration file naming these rqlite nodes. */
async function serveOn(dir: string, name: string, urls: string[], timeoutMs: number) {
  const config = join(dir, `${name}.json`);
  await writeFile(
    config,
    JSON.stringify({
      host: "127.0.0.1",
      port: 0,
      rqlite: { urls, timeoutMs },
      logLevel: "error",
      limits: {
        sweepIntervalMs: 50,
        missedRetry: IMMEDIATE_RETRY,
        connectTimeoutMs: 1000,
        totalTimeoutMs: 2000,
        missedLeaseMs: 10_000,
      },
    }),
  );
  const [exe, pre] = await cliCommand("deno");
  return await startServe(exe, [...pre, "serve", "--config", config]);
}

async function stopBoth(a: Served, b: Served): Promise<void> {
  const [ra, rb] = await Promise.all([a.stop("SIGTERM"), b.stop("SIGTERM")]);
  assert.equal(ra.code, 0, ra.stderr);
  assert.equal(rb.code, 0, rb.stderr);
}

rqliteTest(
  "two broadcasters on a 3-node cluster: subscribe through one, notify through the other",
  async (bin, t) => {
    await using cluster = await startCluster(bin, 3, { args: FAST_RAFT });
    await using dir = await tempDir();
    const [n1, n2] = cluster.nodes.map((n) => n.url);
    await using a = await serveOn(dir.path, "a", [n1!], 5000);
    await using b = await serveOn(dir.path, "b", [n2!], 5000);
    await sharedStoreSteps(t, a, b, async () => {
      const pending = await cluster.query([
        `SELECT count(*) FROM ${EXACTS} WHERE missed_next_retry_at IS NOT NULL`,
        `SELECT count(*) FROM ${GLOBS} WHERE missed_next_retry_at IS NOT NULL`,
      ]);
      return pending.every((r) => r.values?.[0]?.[0] === 0) ? 0 : 1;
    });
    await stopBoth(a, b);
  },
);

interface Outcome {
  readonly op: "subscribe" | "notify";
  readonly status: number;
  readonly ms: number;
  readonly startedAt: number;
  readonly count?: number;
}

rqliteTest(
  "killing the leader under load: 200, 409 or 503 only, then recovery, nothing lost",
  async (bin) => {
    await using cluster = await startCluster(bin, 3, { args: FAST_RAFT });
    await using dir = await tempDir();
    const urls = cluster.nodes.map((n) => n.url);
    const timeoutMs = 2000;
    // Different preferred nodes, each knowing the whole cluster.
    await using a = await serveOn(dir.path, "a", [urls[0]!, urls[1]!, urls[2]!], timeoutMs);
    await using b = await serveOn(dir.path, "b", [urls[1]!, urls[2]!, urls[0]!], timeoutMs);
    await withSubscriber(() => ({ kind: "confirm" }), async (sub) => {
      const outcomes: Outcome[] = [];
      const confirmed = new Set<string>();
      let stop = false;
      let killedAt = Infinity;
      const timed = async <T extends { status: number }>(
        op: Outcome["op"],
        fn: () => Promise<T>,
      ): Promise<T> => {
        const startedAt = Date.now();
        const r = await fn();
        outcomes.push({
          op,
          status: r.status,
          ms: Date.now() - startedAt,
          startedAt,
          ...("count" in r ? { count: r.count as number } : {}),
        });
        return r;
      };
      // After recovery, a notify right after a confirmed subscribe must reach it.
      const lateMisses: string[] = [];
      const worker = async (from: Served, to: Served, tag: string) => {
        for (let i = 0; !stop; i++) {
          const topic = `${tag}/${i}`;
          const s = await timed("subscribe", async () => ({
            status: await subscribeExact(from.url, sub.url("/f"), topic),
          }));
          if (s.status === 200) confirmed.add(topic);
          const n = await timed("notify", () => notify(to.url, topic));
          if (s.status === 200 && n.status === 200 && n.count !== 1) {
            assert.ok(n.count === 0, `notify ${topic} counted ${n.count}`);
            if (Date.now() > killedAt + 5000) lateMisses.push(topic);
          }
        }
      };
      const workers = [
        worker(a, b, "ab1"),
        worker(a, b, "ab2"),
        worker(b, a, "ba1"),
        worker(b, a, "ba2"),
      ];
      const succeeded = (since: number) =>
        outcomes.filter((o) => o.startedAt > since && o.status === 200).length;
      try {
        await waitFor("load running", 20_000, () => succeeded(0) >= 40);
        const leader = await cluster.leader();
        await leader.stop("SIGKILL");
        killedAt = Date.now();
        // Recovered: every one of the last 40 answers, all started after the kill, was a 200.
        await waitFor("200s again after the election", 20_000, () => {
          const after = outcomes.filter((o) => o.startedAt > killedAt);
          return after.length >= 60 && after.slice(-40).every((o) => o.status === 200);
        });
        const recoveredAt = Date.now();
        await waitFor("load after recovery", 20_000, () => succeeded(recoveredAt) >= 40);
        stop = true;
        await Promise.all(workers);

        const bad = outcomes.filter((o) => ![200, 409, 503].includes(o.status));
        assert.deepEqual(bad, [], "only 200, 409 or 503");
        const slow = outcomes.filter((o) => o.ms > timeoutMs + 1500);
        assert.deepEqual(slow, [], `none outlasts the timeout (${timeoutMs} ms)`);
        assert.deepEqual(lateMisses, []);
        const after = outcomes.filter((o) => o.startedAt > killedAt);
        console.log(
          `failover: ${outcomes.length} requests, ${after.length} after the kill, ` +
            `${after.filter((o) => o.status === 503).length} answered 503, ` +
            `longest ${Math.max(...outcomes.map((o) => o.ms))} ms, recovered in ${
              recoveredAt - killedAt
            } ms`,
        );

        // Nothing confirmed is missing, in the cluster and as both broadcasters see it.
        const stored = await storedTopics(cluster, sub.url("/f"));
        const missing = [...confirmed].filter((t) => !stored.has(t));
        assert.deepEqual(missing, []);
        const etagA = await checkEtag(a.url, sub.url("/f"));
        assert.deepEqual(etagA, await checkEtag(b.url, sub.url("/f")));

        // The killed node rejoins after a restart and catches up.
        leader.start();
        await waitFor("the restarted node ready", 20_000, () => leader.ready());
        await waitFor("the restarted node caught up", 20_000, async () => {
          const local = await localCount(leader.url, sub.url("/f"));
          return local === stored.size;
        });
        const { status, count } = await notify(a.url, [...confirmed][0]!);
        assert.equal(status, 200);
        assert.equal(count, 1);
      } finally {
        stop = true;
        await Promise.all(workers);
      }
    });
    await stopBoth(a, b);
  },
);

async function storedTopics(cluster: Cluster, url: string): Promise<Set<string>> {
  const [r] = await cluster.query([[`SELECT exact FROM ${EXACTS} WHERE url = ?`, url]]);
  return new Set(
    (r!.values ?? []).map(([v]) =>
      new TextDecoder().decode(Uint8Array.from(atob(String(v)), (c) => c.charCodeAt(0)))
    ),
  );
}

/** Rows of `url` in the node's own copy of the database (a local read). */
async function localCount(node: string, url: string): Promise<number> {
  const res = await fetch(`${node}/db/query?level=none`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify([[`SELECT count(*) FROM ${EXACTS} WHERE url = ?`, url]]),
  });
  const body = await res.json();
  return Number(body.results?.[0]?.values?.[0]?.[0] ?? -1);
}

rqliteTest(
  "websockets through rqlite: a subscriber on one broadcaster gets what the other is notified",
  async (bin) => {
    await using cluster = await startCluster(bin, 3, { args: FAST_RAFT });
    await using dir = await tempDir();
    const [n1, n2] = cluster.nodes.map((n) => n.url);
    await using a = await serveOn(dir.path, "a", [n1!], 5000);
    await using b = await serveOn(dir.path, "b", [n2!], 5000);
    await using onA = await WsClient.connect(a.url);
    await onA.configure();
    await onA.subscription("subscribe_exact", UTF8.encode("ws/rqlite"));
    await onA.subscription("subscribe_glob", "ws/*");
    // Over HTTP and over a websocket on B: one copy for A's connection, counted once.
    assert.deepEqual(await notify(b.url, "ws/rqlite"), { status: 200, count: 1 });
    assert.deepEqual((await onA.receive()).message, UTF8.encode("message for ws/rqlite"));
    await using onB = await WsClient.connect(b.url);
    await onB.configure();
    const viaWs = onB.notify(UTF8.encode("ws/other"), UTF8.encode("from B's websocket"));
    assert.deepEqual((await onA.receive()).message, UTF8.encode("from B's websocket"));
    assert.equal(await viaWs, 1);
    // When A's connection leaves, its relay rows leave the cluster too.
    assert.equal((await onA.close()).code, 1000);
    await waitFor(
      "A's relay rows are gone",
      10_000,
      async () => (await notify(b.url, "ws/rqlite")).count === 0,
    );
    await stopBoth(a, b);
  },
);
