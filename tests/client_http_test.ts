/**
 * The webhook client against our broadcaster: every auth combination,
 * exact and glob, several subscribers, reference counting, MISSED, refusals.
 */

import assert from "node:assert/strict";
import { connectHttp } from "../src/client/mod.ts";
import { startBroadcaster } from "./_harness.ts";
import { AUTH_COMBOS, authPair, nextWithin } from "./_client.ts";

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
  const port = await freePort();
  const client = await connectHttp({
    broadcasters: [broadcaster],
    auth,
    receiver: { url: `http://127.0.0.1:${port}`, port },
  });
  return { client, [Symbol.asyncDispose]: () => client.close() };
}

async function freePort(): Promise<number> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}
