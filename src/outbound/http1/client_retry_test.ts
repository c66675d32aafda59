/**
 * The retry rule of our HTTP/1.1 client on fresh connections: a connection
 * reset while the request is still being written (the subscriber never had
 * the whole RECEIVE, so it cannot have acted on it) is retried on another
 * fresh connection, a bounded number of times; a request written whole is
 * not. The resets are real: the test server closes a socket holding unread
 * bytes, which makes the kernel answer with RST.
 */

import assert from "node:assert/strict";
import { postBytes } from "../http_client.ts";
import type { PostOptions } from "../post_types.ts";
import { holdOutgoingClient } from "./mod.ts";

const OPTS: Omit<PostOptions, "body"> = {
  headers: { "content-type": "application/octet-stream" },
  totalTimeoutMs: 10_000,
  connectTimeoutMs: 2_000,
  readIdleTimeoutMs: 2_000,
  maxResponseBytes: 8,
};

/**
 * Far more than loopback's socket buffers can take (send buffer at most
 * 4 MiB; the closed peer takes nothing), so a write of it cannot have
 * finished when the reset comes.
 */
const LARGE = new Uint8Array(16 * 1024 * 1024);

/**
 * A server whose connections numbered in `resetting` read 16 bytes of the
 * request and close (unread bytes: the kernel resets), and whose others read
 * the whole request and answer 200 "ok".
 */
async function withResettingServer(
  resetting: (conn: number) => boolean,
  fn: (url: string, connections: () => number) => Promise<void>,
): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let connections = 0;
  const handlers: Promise<void>[] = [];
  const serving = (async () => {
    for await (const conn of listener) {
      const n = ++connections;
      handlers.push(serve(conn, resetting(n)).catch(() => {}).finally(() => conn.close()));
    }
  })();
  const release = await holdOutgoingClient();
  try {
    await fn(`http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/r`, () => connections);
  } finally {
    await release();
    listener.close();
    await serving.catch(() => {});
    await Promise.all(handlers);
  }
}

async function serve(conn: Deno.Conn, reset: boolean): Promise<void> {
  if (reset) {
    await conn.read(new Uint8Array(16));
    return;
  }
  const buf = new Uint8Array(256 * 1024);
  let text = "";
  let headEnd = -1;
  let got = 0;
  while (headEnd < 0) {
    const n = await conn.read(buf);
    if (n === null) return;
    text += new TextDecoder("latin1").decode(buf.subarray(0, n));
    headEnd = text.indexOf("\r\n\r\n");
    got = text.length - (headEnd + 4);
  }
  const length = Number(/content-length: (\d+)/i.exec(text.slice(0, headEnd))?.[1] ?? "0");
  while (got < length) {
    const n = await conn.read(buf);
    if (n === null) return;
    got += n;
  }
  await conn.write(new TextEncoder().encode("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"));
}

Deno.test("http1: a fresh connection reset while the request is written is retried", async () => {
  await withResettingServer((n) => n === 1, async (url, connections) => {
    const res = await postBytes(url, { ...OPTS, body: () => LARGE });
    assert.equal(res.ok, true, JSON.stringify(res));
    assert.equal(connections(), 2);
  });
});

Deno.test("http1: a request reset while written is retried at most three times", async () => {
  await withResettingServer(() => true, async (url, connections) => {
    const res = await postBytes(url, { ...OPTS, body: () => LARGE });
    assert.equal(res.ok, false);
    assert.match(!res.ok ? res.reason : "", /before the response/);
    assert.equal(connections(), 4);
  });
});

Deno.test("http1: a stream body reset while written is not retried (it cannot be sent again)", async () => {
  await withResettingServer((n) => n === 1, async (url, connections) => {
    const res = await postBytes(url, { ...OPTS, body: new Blob([LARGE]).stream() });
    assert.equal(res.ok, false);
    assert.equal(connections(), 1);
  });
});
