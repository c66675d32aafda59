import assert from "node:assert/strict";
import { isDroppedConnection, postBytes } from "./http_client.ts";
import type { PostOptions } from "./http_client.ts";
import { holdOutgoingClient } from "./http1/mod.ts";
import { withRawServer } from "./_testing.ts";

/**
 * Registers `fn` once per client behind `postBytes`: `fetch` (nothing held)
 * and our HTTP/1.1 client (held, as a broadcaster holds it). Both keep the
 * same contract.
 */
function clientTest(name: string, fn: () => Promise<void>): void {
  for (const client of ["fetch", "http1"] as const) {
    Deno.test(`${name} (${client})`, async () => {
      const release = client === "http1" ? await holdOutgoingClient() : null;
      try {
        await fn();
      } finally {
        await release?.();
      }
    });
  }
}

const OPTS: Omit<PostOptions, "body"> = {
  headers: { "content-type": "application/octet-stream" },
  totalTimeoutMs: 2000,
  connectTimeoutMs: 1000,
  readIdleTimeoutMs: 1000,
  maxResponseBytes: 8,
};

async function withServer(
  handler: (req: Request) => Response | Promise<Response>,
  fn: (url: string) => Promise<void>,
): Promise<void> {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  try {
    await fn(`http://127.0.0.1:${server.addr.port}/x`);
  } finally {
    await server.shutdown();
  }
}

clientTest("postBytes sends the blob with Content-Length and returns status and body", async () => {
  await withServer(async (req) => {
    const got = new Uint8Array(await req.arrayBuffer());
    return new Response(
      `${req.headers.get("content-length")}:${got.join(",")}`,
      { status: 500 },
    );
  }, async (url) => {
    const res = await postBytes(url, {
      ...OPTS,
      maxResponseBytes: 100,
      body: new Blob([new Uint8Array([1, 2, 3])]),
    });
    assert.ok(res.ok);
    assert.equal(res.status, 500);
    assert.equal(new TextDecoder().decode(res.body), "3:1,2,3");
  });
});

clientTest("postBytes keeps only maxResponseBytes of a long answer", async () => {
  await withServer(() => new Response("0123456789abcdef"), async (url) => {
    const res = await postBytes(url, { ...OPTS, body: new Blob([]) });
    assert.ok(res.ok);
    assert.equal(new TextDecoder().decode(res.body), "01234567");
  });
});

clientTest("postBytes fails with a connect timeout when headers never come", async () => {
  const { promise: release, resolve } = Promise.withResolvers<void>();
  await withServer(async (req) => {
    await new Promise<void>((r) => req.signal.addEventListener("abort", () => r()));
    resolve();
    return new Response("late");
  }, async (url) => {
    const res = await postBytes(url, {
      ...OPTS,
      connectTimeoutMs: 50,
      readIdleTimeoutMs: 50,
      body: new Blob([]),
    });
    assert.deepEqual(res, { ok: false, reason: "Connect timeout" });
    await release;
  });
});

clientTest("postBytes fails with a read timeout when the body stalls", async () => {
  const { promise: stalled, resolve } = Promise.withResolvers<void>();
  await withServer(() => {
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array([0]));
      },
      cancel() {
        resolve();
      },
    });
    return new Response(body);
  }, async (url) => {
    const res = await postBytes(url, { ...OPTS, readIdleTimeoutMs: 100, body: new Blob([]) });
    assert.deepEqual(res, { ok: false, reason: "Read timeout" });
    await stalled;
  });
});

clientTest(
  "postBytes reports refused connections, bad urls and outer aborts as values",
  async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = listener.addr.port;
    listener.close();
    const refused = await postBytes(`http://127.0.0.1:${port}/`, { ...OPTS, body: new Blob([]) });
    assert.equal(refused.ok, false);
    assert.deepEqual(await postBytes("not a url", { ...OPTS, body: new Blob([]) }), {
      ok: false,
      reason: "Invalid URL",
    });
    assert.deepEqual(await postBytes("file:///etc/passwd", { ...OPTS, body: new Blob([]) }), {
      ok: false,
      reason: "Unsupported URL scheme: file:",
    });
    const aborted = new AbortController();
    aborted.abort();
    assert.deepEqual(
      await postBytes(`http://127.0.0.1:${port}/`, {
        ...OPTS,
        body: new Blob([]),
        signal: aborted.signal,
      }),
      { ok: false, reason: "Aborted" },
    );
  },
);

clientTest("postBytes retries once when a reused keep-alive connection is dropped", async () => {
  // The first connection answers one request with keep-alive, then closes as
  // soon as a second request arrives on it (what a server closing an idle
  // connection does). Later connections answer normally.
  const answer = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok";
  const closing = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok";
  await withRawServer(
    (_request, conn, n) => conn === 1 ? (n === 2 ? null : answer) : { thenClose: closing },
    async (url, connections) => {
      for (let i = 0; i < 2; i++) {
        const res = await postBytes(url, { ...OPTS, body: new Blob([new Uint8Array([1, 2, 3])]) });
        assert.deepEqual(res.ok && new TextDecoder().decode(res.body), "ok", `request ${i}`);
      }
      assert.equal(connections(), 2, "the second request moved to a fresh connection");
    },
  );
});

clientTest("postBytes does not retry a malformed response or a failed TLS handshake", async () => {
  await withRawServer(() => ({ thenClose: "HELLO garbage\r\n\r\n" }), async (url, connections) => {
    const res = await postBytes(url, { ...OPTS, body: new Blob([]) });
    assert.equal(res.ok, false);
    assert.equal(connections(), 1, "a malformed answer is not a dropped connection");
    // https to a plain-text server: the handshake fails, which no retry can fix.
    const tls = await postBytes(url.replace("http:", "https:"), { ...OPTS, body: new Blob([]) });
    assert.equal(tls.ok, false);
    assert.equal(connections(), 2, "one connection for the https attempt");
  });
});

Deno.test("postBytes classifies connection failures: only a dropped connection is retried", () => {
  const cause = (message: string) => new TypeError("fetch failed", { cause: new Error(message) });
  assert.ok(
    isDroppedConnection(
      cause("client error (SendRequest): connection closed before message completed"),
    ),
  );
  assert.ok(isDroppedConnection(cause("Connection reset by peer (os error 104)")));
  assert.ok(
    isDroppedConnection(Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" })),
  );
  assert.ok(!isDroppedConnection(cause("tcp connect error: Connection refused (os error 111)")));
  assert.ok(!isDroppedConnection(cause("client error (SendRequest): invalid HTTP version parsed")));
  assert.ok(!isDroppedConnection(cause("dns error: failed to lookup address information")));
  assert.ok(!isDroppedConnection(cause("received corrupt message of type InvalidContentType")));
});

for (const status of [301, 302, 303, 307, 308]) {
  clientTest(`postBytes does not follow a ${status} redirect: it is a failure`, async () => {
    let trapped = 0;
    await withServer(() => {
      trapped++;
      return new Response("followed");
    }, async (trap) => {
      let asked = 0;
      await withServer(() => {
        asked++;
        return new Response("moved", { status, headers: { location: trap } });
      }, async (url) => {
        const res = await postBytes(url, { ...OPTS, body: new Blob([new Uint8Array([1])]) });
        assert.deepEqual(res, { ok: false, reason: `Redirect not followed (status ${status})` });
      });
      assert.equal(asked, 1);
    });
    assert.equal(trapped, 0, "nothing reached the redirect target");
  });
}

clientTest("postBytes makes one request to a redirect loop", async () => {
  let asked = 0;
  await withServer((req) => {
    asked++;
    return new Response(null, { status: 302, headers: { location: req.url } });
  }, async (url) => {
    const res = await postBytes(url, { ...OPTS, body: new Blob([new Uint8Array([1])]) });
    assert.equal(res.ok, false);
  });
  assert.equal(asked, 1);
});
