/**
 * Two broadcasters on one SQLite database; the one a websocket client is
 * connected to is killed while the client holds subscriptions. The client
 * moves to the other, re-subscribes, reports lost then ok, and receives the
 * next message.
 */

import assert from "node:assert/strict";
import { createBroadcaster, silentLogger } from "../mod.ts";
import { serveWithDeno } from "../src/runtime/deno.ts";
import { connectHttp, connectWebsocket } from "../src/client/mod.ts";
import { startBroadcaster } from "./_harness.ts";
import { nextWithin, statusRecorder } from "./_client.ts";

Deno.test("ws client: fails over to the second broadcaster and re-subscribes", async () => {
  await using first = await startBroadcaster();
  const second = await createBroadcaster({ database: first.dbPath, logger: silentLogger });
  const secondServer = serveWithDeno(second, { hostname: "127.0.0.1", port: 0 });
  const secondUrl = `http://127.0.0.1:${secondServer.addr.port}`;
  const ws = (u: string) => u.replace(/^http/, "ws") + "/v1/websocket";
  try {
    await using client = await connectWebsocket({
      broadcasters: [ws(first.url), ws(secondUrl)],
      reconnect: { minDelayMs: 10, maxDelayMs: 100 },
    });
    const statuses = statusRecorder((l) => client.onStatus(l));
    const exact = await client.subscribeExact("fail/over");
    const glob = await client.subscribeGlob("fail/*");
    await using pub = await connectHttp({ broadcasters: [secondUrl] });
    assert.ok((await pub.notify("fail/over", "before")).notified >= 1, "relayed to the first");
    assert.equal(await (await nextWithin(exact[Symbol.asyncIterator]())).text(), "before");
    assert.equal(await (await nextWithin(glob[Symbol.asyncIterator]())).text(), "before");

    await first.server.shutdown(0);
    await statuses.waitFor(["lost", "ok"]);
    // The dead broadcaster's relay rows may still be listed; the live connection must count.
    const r = await pub.notify("fail/over", "after");
    assert.ok(r.notified >= 1, `notified ${r.notified}`);
    assert.equal(await (await nextWithin(exact[Symbol.asyncIterator]())).text(), "after");
    assert.equal(await (await nextWithin(glob[Symbol.asyncIterator]())).text(), "after");
    statuses.stop();
  } finally {
    await secondServer.shutdown(0);
  }
});
