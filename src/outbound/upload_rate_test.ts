/**
 * The write-rate rule on both clients behind `postBytes`: a subscriber that
 * stops reading a large spooled body is cut with "Write timeout" one window
 * after its socket buffers filled, long before the total (which grows with
 * the body's size) would end it.
 */

import assert from "node:assert/strict";
import { postBytes } from "./http_client.ts";
import { FileStream } from "../core/spool.ts";
import { holdOutgoingClient } from "./http1/mod.ts";

/** Far more than loopback's socket buffers hold (about 4 MiB). */
const BYTES = 16 * 1024 * 1024;

for (const client of ["fetch", "http1"] as const) {
  Deno.test(`a stalled subscriber is cut by the write rate, not the grown total (${client})`, async () => {
    const dir = await Deno.makeTempDir();
    const path = `${dir}/body`;
    await Deno.writeFile(path, new Uint8Array(BYTES));
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    // Accepted, never read: the stalled subscriber.
    const held: Deno.Conn[] = [];
    const accepting = (async () => {
      for await (const conn of listener) held.push(conn);
    })();
    const release = client === "http1" ? await holdOutgoingClient() : null;
    try {
      const res = await postBytes(`http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/`, {
        headers: { "content-type": "application/octet-stream" },
        body: () => new FileStream(new Uint8Array([1, 2, 3]), path, BYTES),
        // 16 MiB at 256 KiB/s earn 64 s on top of the 1 s total.
        totalTimeoutMs: 1_000,
        connectTimeoutMs: 1_000,
        readIdleTimeoutMs: 1_000,
        writeIdleTimeoutMs: 300,
        writeMinBytesPerSecond: 256 * 1024,
        maxResponseBytes: 8,
      });
      assert.deepEqual(res, { ok: false, reason: "Write timeout" });
    } finally {
      await release?.();
      listener.close();
      await accepting.catch(() => {});
      for (const conn of held) conn.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
