/**
 * Slow and idle connections on every runtime: the real CLI on Deno, Node and Bun closes
 * an idle keep-alive connection and cuts a trickling body; Deno and Node also
 * cut a client that dribbles its headers (Bun offers no header timeout; see
 * docs/operating.md#connections-and-request-bodies). Timeouts scaled down to 1 s.
 *
 * @module
 */

import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { cliCommand, type Runtime, startServe, tempDir } from "./_cli.ts";
import { RawClient, within } from "./_raw_http.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const LIMITS = {
  headersTimeoutMs: 1000,
  keepAliveTimeoutMs: 1000,
  bodyIdleTimeoutMs: 1000,
  bodyMinBytesPerSecond: 8192,
};

for (const runtime of ["deno", "node", "bun"] satisfies Runtime[]) {
  Deno.test(`runtime ${runtime}: idle, slow-header and slow-body connections are closed`, async () => {
    await using dir = await tempDir();
    await writeFile(join(dir.path, "lonelypss.json"), JSON.stringify({ limits: LIMITS }));
    const [exe, pre] = await cliCommand(runtime);
    await using server = await startServe(
      exe,
      [...pre, "serve", "--port", "0", "--db", ":memory:", "--log-level", "warn"],
      { cwd: dir.path },
    );

    const idle = await RawClient.open(server.url);
    const slowHead = await RawClient.open(server.url);
    const slowBody = await RawClient.open(server.url);
    try {
      await idle.write(enc("POST /v1/nope HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
      await slowBody.write(
        enc("POST /v1/subscribe/exact HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\n"),
      );
      const head = enc("POST /v1/subscribe/exact HTTP/1.1\r\nX: " + "a".repeat(99));
      const [headSent, bodySent] = await Promise.all([
        runtime === "bun" ? 0 : slowHead.trickle(head, 1, 100),
        slowBody.trickle(new Uint8Array(200).fill(1), 1, 200),
      ]);
      // Bun checks its idle timers every few seconds.
      await within(idle.closed, 10_000, "keep-alive timeout");
      assert.match(idle.text, /^HTTP\/1\.1 404 /);
      await within(slowBody.closed, 5_000, "body timeout");
      assert.ok(bodySent < 200, `body cut after ${bodySent} bytes`);
      assert.match(slowBody.text, /^HTTP\/1\.1 408 /);
      if (runtime !== "bun") {
        await within(slowHead.closed, 5_000, "header timeout");
        assert.ok(headSent < 100, `headers cut after ${headSent} bytes`);
      }
    } finally {
      for (const client of [idle, slowHead, slowBody]) client.close();
    }
  });
}
