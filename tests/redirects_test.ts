/**
 * End to end: a subscriber whose callback answers a redirect never gets the delivery moved
 * elsewhere (docs/decisions.md#redirects-and-callback-urls): the RECEIVE counts as failed, the
 * redirect target sees nothing, and a redirect loop costs one request.
 */

import assert from "node:assert/strict";
import { notifyOver, startBroadcaster } from "./_harness.ts";
import { TestSubscriber } from "./_subscriber.ts";

const TOPIC = new TextEncoder().encode("moved");

Deno.test("a RECEIVE answered 301/302/303/307/308 is a failed delivery, never followed", async () => {
  await using b = await startBroadcaster();
  await using trap = new TestSubscriber();
  const asked = new Map<string, number>();
  const redirector = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    await req.arrayBuffer();
    const path = new URL(req.url).pathname;
    asked.set(path, (asked.get(path) ?? 0) + 1);
    // "/loop" points at itself; the others at a subscriber that would confirm.
    const status = path === "/loop" ? 302 : Number(path.slice(1));
    const location = path === "/loop" ? req.url : trap.url("/receive");
    return new Response(null, { status, headers: { location } });
  });
  try {
    const base = `http://127.0.0.1:${redirector.addr.port}`;
    for (const path of ["/301", "/302", "/303", "/307", "/308", "/loop"]) {
      await b.broadcaster.store.subscribeExact(base + path, TOPIC, null);
    }
    assert.equal(await notifyOver(b.url, TOPIC, new Uint8Array([1, 2, 3])), 0);
    assert.equal(trap.received.length, 0, "nothing reached the redirect target");
    assert.deepEqual(
      Object.fromEntries(asked),
      { "/301": 1, "/302": 1, "/303": 1, "/307": 1, "/308": 1, "/loop": 1 },
    );
  } finally {
    await redirector.shutdown();
  }
});
