import assert from "node:assert/strict";
import { createBroadcaster } from "../broadcaster.ts";
import { silentLogger } from "../log.ts";
import { AddressInUseError, currentRuntime, serve } from "./mod.ts";

Deno.test("runtime: picks the Deno adapter here and reports a taken port portably", async () => {
  assert.equal(currentRuntime(), "deno");
  const broadcaster = await createBroadcaster({ logger: silentLogger });
  const server = await serve(broadcaster, { hostname: "127.0.0.1", port: 0 });
  try {
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/v1/nope`, { method: "POST" });
    await res.body?.cancel();
    assert.equal(res.status, 404);
    const other = await createBroadcaster({ logger: silentLogger });
    await assert.rejects(
      serve(other, { hostname: "127.0.0.1", port: server.addr.port }),
      (e) => e instanceof AddressInUseError && e.address === `127.0.0.1:${server.addr.port}`,
    );
    await other.close(0);
  } finally {
    await server.shutdown(0);
  }
});
