import assert from "node:assert/strict";
import { type Attempt, attemptOnce } from "./_http.ts";
import { freePorts } from "./_testing.ts";

/** Serves one canned answer (status, body) on 127.0.0.1, or never answers when `body` is null. */
async function withServer(
  status: number,
  body: string | null,
  fn: (url: string) => Promise<void>,
): Promise<void> {
  const never = Promise.withResolvers<Response>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    await req.body?.cancel();
    return body === null ? never.promise : new Response(body, { status });
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}/db/execute`);
  } finally {
    never.resolve(new Response(null, { status: 503 }));
    await server.shutdown();
  }
}

function attempt(url: string, opts: { transaction?: boolean; each?: boolean; ms?: number } = {}) {
  return attemptOnce({
    url,
    headers: {},
    body: "[]",
    deadline: Date.now() + (opts.ms ?? 2000),
    signal: new AbortController().signal,
    transaction: opts.transaction ?? true,
    each: opts.each ?? false,
  });
}

function summary(a: Attempt): string {
  return a.kind === "retry"
    ? `retry applied=${a.applied} nodeDown=${a.nodeDown} ${a.cause}`
    : a.kind === "fatal"
    ? `fatal ${a.cause}`
    : `ok ${a.results.length}`;
}

const CASES: [string, number, string, string][] = [
  [
    "no leader during an election: not applied, the cluster's state",
    500,
    "leader address: leader not found\n",
    "retry applied=no nodeDown=false no_leader",
  ],
  [
    "a follower that cannot reach the leader: not applied",
    200,
    JSON.stringify({
      results: [],
      error: "node failed to process Execute on remote node at 127.0.0.1:4315: pool get: " +
        "dial tcp 127.0.0.1:4315: connect: connection refused",
    }),
    "retry applied=no nodeDown=false no_leader",
  ],
  [
    "leadership lost while committing: maybe applied (it may commit later)",
    200,
    JSON.stringify({ results: [], error: "leadership lost while committing log" }),
    "retry applied=maybe nodeDown=false forwarding",
  ],
  [
    "a forwarded request whose connection broke: maybe applied",
    200,
    JSON.stringify({
      results: [],
      error:
        "node failed to process Execute on remote node at 127.0.0.1:4315: read protobuf length: EOF",
    }),
    "retry applied=maybe nodeDown=false forwarding",
  ],
  ["credentials refused", 401, "", "fatal auth"],
  ["a malformed request", 400, "invalid JSON body", "fatal protocol"],
  [
    "a statement error inside a transaction: nothing applied",
    200,
    JSON.stringify({
      results: [{ rows_affected: 1 }, { error: "UNIQUE constraint failed: m.key" }],
    }),
    "fatal sql",
  ],
  [
    "an answer that is not JSON: maybe applied",
    200,
    "<html>",
    "retry applied=maybe nodeDown=true protocol",
  ],
  ["a write applied", 200, JSON.stringify({ results: [{ rows_affected: 1 }] }), "ok 1"],
];

for (const [name, status, body, expected] of CASES) {
  Deno.test(`rqlite answers: ${name}`, async () => {
    await withServer(status, body, async (url) => {
      assert.equal(summary(await attempt(url)), expected);
    });
  });
}

Deno.test("rqlite answers: statements on their own keep their own errors", async () => {
  const body = JSON.stringify({ results: [{ rows_affected: 1 }, { error: "no such table: x" }] });
  await withServer(200, body, async (url) => {
    const a = await attempt(url, { transaction: false, each: true });
    assert.equal(a.kind, "ok");
    assert.equal(a.kind === "ok" && a.results[1]?.error, "no such table: x");
  });
});

Deno.test("rqlite answers: nothing listening is not applied; the node is down", async () => {
  const [port] = freePorts(1);
  const a = await attempt(`http://127.0.0.1:${port}/db/execute`);
  assert.equal(summary(a), "retry applied=no nodeDown=true unreachable");
  assert.equal(a.kind === "retry" && a.reason, "connection refused");
});

Deno.test("rqlite answers: no answer by the deadline is maybe applied, at the deadline", async () => {
  await withServer(200, null, async (url) => {
    const started = Date.now();
    const a = await attempt(url, { ms: 300 });
    const took = Date.now() - started;
    assert.equal(summary(a), "retry applied=maybe nodeDown=true timeout");
    assert.ok(took >= 250 && took < 1500, `took ${took} ms`);
  });
});
