/**
 * The webhook client against our broadcaster: every auth combination,
 * exact and glob, several subscribers, reference counting, MISSED, refusals.
 */

import assert from "node:assert/strict";
import { ClientError, connectHttp, type HttpClient } from "../src/client/mod.ts";
import { IMMEDIATE_RETRY, startBroadcaster } from "./_harness.ts";
import { AUTH_COMBOS, authPair, nextWithin, statusRecorder } from "./_client.ts";

for (const [b, s] of AUTH_COMBOS) {
  Deno.test(`http client: publish and receive, auth ${b}/${s}`, async () => {
    const pair = authPair(b, s);
    await using bc = await startBroadcaster({ auth: pair.broadcaster });
    await using a = await receiverClient(bc.url, pair.client());
    await using c = await receiverClient(bc.url, pair.client());
    await using pub = await connectHttp({ broadcasters: [bc.url], auth: pair.client() });
    const exact = await a.client.subscribeExact("orders/1");
    const glob = await c.client.subscribeGlob("orders/*");
    const r = await pub.notify("orders/1", "hello");
    assert.equal(r.notified, 2);
    const m1 = await nextWithin(exact[Symbol.asyncIterator]());
    assert.equal(await m1.text(), "hello");
    assert.equal(new TextDecoder().decode(m1.topic), "orders/1");
    const m2 = await nextWithin(glob[Symbol.asyncIterator]());
    assert.equal(await m2.text(), "hello");
    assert.equal((await pub.notify("other", new Uint8Array([1, 2]))).notified, 0);
  });
}

/** A receiving client on a port of its own (the url names the bound port). */
async function receiverClient(
  broadcaster: string,
  auth: ReturnType<ReturnType<typeof authPair>["client"]>,
) {
  const port = freePort();
  const client = await connectHttp({
    broadcasters: [broadcaster],
    auth,
    receiver: { url: `http://127.0.0.1:${port}`, port },
  });
  return { client, [Symbol.asyncDispose]: () => client.close() };
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("http client: a MISSED reports lost then ok; a slow consumer loses the oldest", async () => {
  await using bc = await startBroadcaster({
    limits: { missedRetry: IMMEDIATE_RETRY, sweepIntervalMs: 20 },
  });
  // Mounted in a server of our own whose RECEIVE route fails once (so MISSED follows).
  let failNext = true;
  let c: HttpClient | null = null;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    if (failNext && new URL(req.url).pathname.endsWith("/v1/receive")) {
      failNext = false;
      return new Response("down", { status: 500 });
    }
    return c!.handle(req);
  });
  try {
    c = await connectHttp({
      broadcasters: [bc.url],
      receiver: { url: `http://127.0.0.1:${server.addr.port}` },
      queue: { maxMessages: 2 },
    });
    const client = c;
    const statuses = statusRecorder((l) => client.onStatus(l));
    const sub = await client.subscribeExact("m");
    await using pub = await connectHttp({ broadcasters: [bc.url] });
    assert.equal((await pub.notify("m", "first")).notified, 0, "the failed delivery counts 0");
    await statuses.waitFor(["lost", "ok"]);
    // Backpressure: five messages, nobody reading, a queue of two: the oldest three go.
    for (let i = 0; i < 5; i++) assert.equal((await pub.notify("m", `n${i}`)).notified, 1);
    assert.equal(sub.dropped, 3);
    const it = sub[Symbol.asyncIterator]();
    assert.equal(await (await nextWithin(it)).text(), "n3");
    assert.equal(await (await nextWithin(it)).text(), "n4");
    assert.ok(statuses.seen.filter((s) => s === "lost").length >= 2);
    statuses.stop();
  } finally {
    await c?.close();
    await server.shutdown();
  }
});

Deno.test("http client: refusals are typed errors", async () => {
  const pair = authPair("hmac", "hmac");
  await using bc = await startBroadcaster({ auth: pair.broadcaster });
  await using wrong = await connectHttp({
    broadcasters: [bc.url],
    auth: authPair("hmac", "hmac").client(),
  });
  await assert.rejects(
    wrong.notify("t", "x"),
    (e: Error) => e instanceof ClientError && e.kind === "unauthorized",
  );
  await using noReceiver = await connectHttp({ broadcasters: [bc.url] });
  await assert.rejects(
    noReceiver.subscribeExact("t"),
    (e: Error) => e instanceof ClientError && e.kind === "invalid",
  );
  await using dead = await connectHttp({ broadcasters: ["http://127.0.0.1:1"] });
  await assert.rejects(
    dead.notify("t", "x"),
    (e: Error) => e instanceof ClientError && e.kind === "unavailable",
  );
  await assert.rejects(
    noReceiver.notify("t", "x", { length: 5 }),
    (e: Error) => e instanceof ClientError && e.kind === "invalid",
  );
});

Deno.test("http client: a dead broadcaster is skipped for the next one", async () => {
  await using bc = await startBroadcaster();
  const port = freePort();
  await using c = await connectHttp({
    broadcasters: ["http://127.0.0.1:1", bc.url],
    receiver: { url: `http://127.0.0.1:${port}`, port },
  });
  const sub = await c.subscribeExact("skip");
  assert.equal((await c.notify("skip", "over the live one")).notified, 1);
  assert.equal(await (await nextWithin(sub[Symbol.asyncIterator]())).text(), "over the live one");
});
