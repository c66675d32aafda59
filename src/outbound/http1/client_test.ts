import assert from "node:assert/strict";
import { postBytes } from "../http_client.ts";
import type { PostOptions } from "../post_types.ts";
import { FileStream } from "../../core/spool.ts";
import { type RawAnswer, withRawServer as rawServer } from "../_testing.ts";
import { holdOutgoingClient } from "./mod.ts";

const OPTS: Omit<PostOptions, "body"> = {
  headers: { "content-type": "application/octet-stream" },
  totalTimeoutMs: 2000,
  connectTimeoutMs: 1000,
  readIdleTimeoutMs: 1000,
  maxResponseBytes: 8,
};

/** Runs `fn` with our client held (so postBytes goes through it), released after. */
async function held(fn: () => Promise<void>): Promise<void> {
  const release = await holdOutgoingClient();
  try {
    await fn();
  } finally {
    await release();
  }
}

async function withServer(
  handler: (req: Request) => Response | Promise<Response>,
  fn: (url: string) => Promise<void>,
): Promise<void> {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  try {
    await held(() => fn(`http://127.0.0.1:${server.addr.port}/x?q=1#frag`));
  } finally {
    await server.shutdown();
  }
}

/** The shared raw server (see `../_testing.ts`), with our client held unless `hold` is false. */
function withRawServer(
  answer: (request: string, conn: number, n: number) => RawAnswer,
  fn: (url: string, connections: () => number) => Promise<void>,
  hold = true,
): Promise<void> {
  return rawServer(answer, (url, connections) => {
    const run = () => fn(url, connections);
    return hold ? held(run) : run();
  });
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("http1: sends path and query (no fragment), Host, headers and Content-Length", async () => {
  await withServer(async (req) => {
    const got = new Uint8Array(await req.arrayBuffer());
    const u = new URL(req.url);
    return new Response(
      `${u.pathname}${u.search} ${req.headers.get("content-length")} ${
        req.headers.get("content-type")
      } ${req.headers.get("host") === u.host} ${got.join(",")}`,
      { status: 500 },
    );
  }, async (url) => {
    for (const body of [new Uint8Array([1, 2, 3]), new Blob([new Uint8Array([1, 2, 3])])]) {
      const res = await postBytes(url, { ...OPTS, maxResponseBytes: 100, body });
      assert.ok(res.ok);
      assert.equal(res.status, 500);
      assert.equal(text(res.body), "/x?q=1 3 application/octet-stream true 1,2,3");
    }
  });
});

Deno.test("http1: reuses one keep-alive connection for sequential requests", async () => {
  const ok = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
  await withRawServer(() => ok, async (url, connections) => {
    for (let i = 0; i < 5; i++) {
      const res = await postBytes(url, { ...OPTS, body: new Uint8Array([i]) });
      assert.ok(res.ok && text(res.body) === "ok");
    }
    assert.equal(connections(), 1);
  });
});

Deno.test("http1: reads chunked, close-delimited and interim answers", async () => {
  const answers = [
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" +
    "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nx-trailer: 1\r\n\r\n",
    "HTTP/1.0 201 Created\r\n\r\nuntil close",
    "HTTP/1.1 204 No Content\r\n\r\n",
  ];
  for (const [i, answer] of answers.entries()) {
    // Close-delimited answers end with the connection.
    await withRawServer(() => ({ thenClose: answer }), async (url) => {
      const res = await postBytes(url, { ...OPTS, maxResponseBytes: 100, body: new Blob([]) });
      assert.ok(res.ok, `answer ${i}: ${JSON.stringify(res)}`);
      assert.equal(text(res.body), ["abcde", "until close", ""][i]);
      assert.equal(res.status, [200, 201, 204][i]);
    });
  }
});

Deno.test("http1: the answer may arrive in single bytes", async () => {
  const answer = new TextEncoder().encode("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello");
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    const conn = await listener.accept();
    await conn.read(new Uint8Array(1024));
    for (const b of answer) await conn.write(new Uint8Array([b]));
    await conn.read(new Uint8Array(1024)).catch(() => null);
    conn.close();
  })();
  await held(async () => {
    const res = await postBytes(`http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/`, {
      ...OPTS,
      body: new Uint8Array([1]),
    });
    assert.ok(res.ok && text(res.body) === "hello");
  });
  await serving;
  listener.close();
});

Deno.test("http1: a total timeout ends a request that keeps trickling", async () => {
  await withRawServer((_, __, n) => {
    if (n > 1) return null;
    return "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nx";
  }, async (url) => {
    const res = await postBytes(url, {
      ...OPTS,
      totalTimeoutMs: 100,
      readIdleTimeoutMs: 10_000,
      body: new Blob([]),
    });
    assert.deepEqual(res, { ok: false, reason: "Total timeout" });
  });
});

Deno.test("http1: no credentials in a request line, no line breaks in a header", async () => {
  await held(async () => {
    assert.deepEqual(await postBytes("http://u:p@127.0.0.1:9/", { ...OPTS, body: new Blob([]) }), {
      ok: false,
      reason: "URL with credentials",
    });
    const invalid = await postBytes("http://127.0.0.1:9/", {
      ...OPTS,
      headers: { "x-evil": "a\r\nhost: elsewhere" },
      body: new Blob([]),
    });
    assert.deepEqual(invalid, { ok: false, reason: "Invalid header: x-evil" });
  });
});

Deno.test("http1: an abort while waiting for the answer ends the request", async () => {
  await withRawServer(() => "", async (url) => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const res = await postBytes(url, {
      ...OPTS,
      body: new Uint8Array([1]),
      signal: controller.signal,
    });
    assert.deepEqual(res, { ok: false, reason: "Aborted" });
  });
});

Deno.test("http1: no retry on a fresh connection or for a stream body", async () => {
  await withRawServer(() => null, async (url, connections) => {
    const res = await postBytes(url, { ...OPTS, body: new Uint8Array([1]) });
    assert.deepEqual(res, { ok: false, reason: "Connection closed before the response" });
    assert.equal(connections(), 1);
  });
  await withRawServer((_, conn, n) => {
    if (conn === 1 && n === 2) return null;
    return "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
  }, async (url, connections) => {
    assert.ok((await postBytes(url, { ...OPTS, body: new Uint8Array([1]) })).ok);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array([1]));
        c.close();
      },
    });
    const res = await postBytes(url, { ...OPTS, body: stream });
    assert.equal(res.ok, false, "a stream cannot be sent twice");
    assert.equal(connections(), 1);
  });
});

Deno.test("http1: sends streams chunked and spool files with Content-Length", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/body`;
  const content = new Uint8Array(3 * 1024 * 1024 + 7).map((_, i) => i % 251);
  await Deno.writeFile(path, content);
  try {
    await withServer(async (req) => {
      const got = new Uint8Array(await req.arrayBuffer());
      const sum = got.reduce((a, b) => (a + b) % 65521, 0);
      return new Response(
        `${req.headers.get("content-length")}|${
          req.headers.get("transfer-encoding")
        }|${got.length}|${sum}`,
      );
    }, async (url) => {
      const sum = (b: Uint8Array) => b.reduce((a, x) => (a + x) % 65521, 0);
      const prefix = new Uint8Array([7, 7]);
      const file = await postBytes(url, {
        ...OPTS,
        maxResponseBytes: 100,
        body: () => new FileStream(prefix, path, content.length),
      });
      const whole = new Uint8Array(content.length + 2);
      whole.set(prefix);
      whole.set(content, 2);
      assert.ok(file.ok);
      assert.equal(text(file.body), `${whole.length}|null|${whole.length}|${sum(whole)}`);
      const stream = await postBytes(url, {
        ...OPTS,
        maxResponseBytes: 100,
        body: new Blob([content]).stream(),
      });
      assert.ok(stream.ok);
      assert.equal(text(stream.body), `null|chunked|${content.length}|${sum(content)}`);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("http1: releasing the client aborts requests in flight", async () => {
  await withRawServer(() => "", async (url) => {
    const release = await holdOutgoingClient();
    const pending = postBytes(url, { ...OPTS, body: new Uint8Array([1]) });
    await new Promise((r) => setTimeout(r, 50));
    await release();
    assert.deepEqual(await pending, { ok: false, reason: "Aborted" });
  }, false);
});

Deno.test("http1: with an HTTP proxy configured, fetch (which honours it) is kept", async () => {
  const { loadConnector } = await import("./connector.ts");
  assert.notEqual(await loadConnector(), null);
  Deno.env.set("HTTPS_PROXY", "http://127.0.0.1:1");
  try {
    assert.equal(await loadConnector(), null);
  } finally {
    Deno.env.delete("HTTPS_PROXY");
  }
});
