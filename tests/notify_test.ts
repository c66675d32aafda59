/**
 * End to end: `/v1/notify` over real sockets, a real SQLite file and real
 * subscriber servers; fan-out counts, bytes on the wire, timeouts,
 * unsubscribe-immediate and malformed bodies.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { post, startBroadcaster } from "./_harness.ts";
import { withSubscriber } from "./_subscriber.ts";
import { encodeNotify, encodeNotifyHeader, parseResponseNotify } from "../src/protocol/notify.ts";
import { parseReprDigest } from "../src/protocol/receive.ts";
import { parseSimpleTracing } from "../src/protocol/tracing.ts";
import { noneAuth } from "../src/auth/none.ts";
import type { AuthStrategy } from "../src/auth/types.ts";

const TOPIC = new TextEncoder().encode("news/sports");
const MESSAGE = new TextEncoder().encode("hello, subscribers");

function sha512(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha512").update(b).digest());
}

function notifyBody(message = MESSAGE, topic = TOPIC): Uint8Array {
  return encodeNotify({
    topic,
    sha512: sha512(message),
    tracing: new Uint8Array(0),
    identifier: new Uint8Array([1, 2, 3, 4]),
  }, message);
}

Deno.test("notify delivers RECEIVE to one subscriber and answers RESPONSE_NOTIFY", async () => {
  await using b = await startBroadcaster();
  await withSubscriber(() => ({ kind: "confirm" }), async (sub) => {
    const url = sub.url("/receive#frag");
    assert.equal(await b.broadcaster.store.subscribeExact(url, TOPIC, null), "success");
    const before = Date.now() / 1000;
    const res = await post(`${b.url}/v1/notify`, notifyBody());
    const after = Date.now() / 1000;
    assert.equal(res.status, 200);
    const answer = parseResponseNotify(res.body);
    assert.equal(answer.count, 1);
    assert.equal(answer.authorization, null);
    assert.deepEqual(answer.identifier, new Uint8Array([1, 2, 3, 4]));
    const tracing = parseSimpleTracing(answer.tracing);
    assert.deepEqual(tracing.entries.map((e) => e.name), [
      "auth_tentatively_accepted",
      "auth_accepted",
      "no_more_subscribers",
    ]);
    for (const e of tracing.entries) {
      assert.equal(e.extra, "{}");
      assert.ok(e.at >= before - 1 && e.at <= after + 1, String(e.at));
    }
    assert.ok(tracing.receivedAtNs <= tracing.sentAtNs);
    assert.ok(Number(tracing.sentAtNs / 1_000_000n) >= Math.floor(before * 1000) - 1000);

    assert.equal(sub.received.length, 1);
    const got = sub.received[0]!;
    assert.equal(got.path, "/receive");
    assert.equal(got.headers.get("content-type"), "application/octet-stream");
    assert.deepEqual(parseReprDigest(got.headers.get("repr-digest")!), sha512(MESSAGE));
    assert.equal(got.headers.get("authorization"), null);
    assert.equal(got.headers.get("content-length"), String(got.bodyLength));
    assert.equal(got.headers.get("transfer-encoding"), null);
    assert.equal(got.receive!.identifier.length, 8);
    assert.deepEqual(got.receive!.tracing, new Uint8Array(0));
    assert.deepEqual(got.receive!.topic, TOPIC);
    assert.equal(got.receive!.length, BigInt(MESSAGE.length));
    assert.deepEqual(got.messageSha512, sha512(MESSAGE));
    // Byte layout of docs/protocol/http.md#receive: tracing, topic, identifier, M, message.
    const expectedHead = [0, 0, 0, TOPIC.length, ...TOPIC, 8, ...got.receive!.identifier];
    assert.deepEqual([...got.body!.subarray(0, expectedHead.length)], expectedHead);
    assert.deepEqual(got.body!.subarray(got.bodyLength - MESSAGE.length), MESSAGE);
  });
});

Deno.test("notify with no subscribers answers count 0 with three trace entries", async () => {
  await using b = await startBroadcaster();
  const res = await post(`${b.url}/v1/notify`, notifyBody());
  assert.equal(res.status, 200);
  const answer = parseResponseNotify(res.body);
  assert.equal(answer.count, 0);
  assert.equal(parseSimpleTracing(answer.tracing).entries.length, 3);
});

Deno.test("notify fans out to 200 exact and glob subscribers with identical bytes", async () => {
  await using b = await startBroadcaster({ limits: { fanoutConcurrency: 16 } });
  await withSubscriber(
    (path) => ({ kind: "confirm", numSubscribers: path.startsWith("/multi") ? 3 : 1 }),
    async (sub) => {
      const store = b.broadcaster.store;
      for (let i = 0; i < 100; i++) {
        assert.equal(await store.subscribeExact(sub.url(`/e${i}`), TOPIC, null), "success");
        assert.equal(await store.subscribeGlob(sub.url(`/g${i}`), "news/*", null), "success");
      }
      await store.subscribeExact(sub.url("/other"), new TextEncoder().encode("weather"), null);
      await store.subscribeGlob(sub.url("/other-glob"), "weather/*", null);
      await store.subscribeGlob(sub.url("/multi"), "*sports", null);
      const res = await post(`${b.url}/v1/notify`, notifyBody());
      assert.equal(res.status, 200);
      assert.equal(parseResponseNotify(res.body).count, 203);
      assert.equal(sub.received.length, 201);
      const ids = new Set<string>();
      for (const r of sub.received) {
        assert.ok(!r.path.startsWith("/other"), r.path);
        assert.deepEqual(r.messageSha512, sha512(MESSAGE));
        assert.deepEqual(r.body!.subarray(r.bodyLength - MESSAGE.length), MESSAGE);
        ids.add(Array.from(r.receive!.identifier).join(","));
      }
      assert.equal(ids.size, 201, "every RECEIVE carries a fresh identifier");
    },
  );
});

Deno.test("a subscriber that never answers is not counted and does not hold up the others", async () => {
  await using b = await startBroadcaster({ limits: { totalTimeoutMs: 1500 } });
  await withSubscriber(
    (path) => (path === "/hang" ? { kind: "hang" } : { kind: "confirm" }),
    async (sub) => {
      await b.broadcaster.store.subscribeExact(sub.url("/hang"), TOPIC, null);
      await b.broadcaster.store.subscribeExact(sub.url("/ok"), TOPIC, null);
      const started = Date.now();
      const res = await post(`${b.url}/v1/notify`, notifyBody());
      const took = Date.now() - started;
      assert.equal(res.status, 200);
      assert.equal(parseResponseNotify(res.body).count, 1);
      assert.ok(took >= 1400 && took < 5000, `took ${took} ms`);
      assert.equal(sub.receivedAt("/ok").length, 1);
      assert.equal(sub.receivedAt("/hang").length, 1);
    },
  );
});

Deno.test("unsubscribe-immediate removes the exact or glob row that answered it", async () => {
  await using b = await startBroadcaster();
  await withSubscriber(() => ({ kind: "unsubscribe" }), async (sub) => {
    const store = b.broadcaster.store;
    await store.subscribeExact(sub.url("/x"), TOPIC, null);
    await store.subscribeGlob(sub.url("/x"), "news/*", null);
    await store.subscribeGlob(sub.url("/x"), "other/*", null);
    const res = await post(`${b.url}/v1/notify`, notifyBody());
    assert.equal(parseResponseNotify(res.body).count, 0);
    assert.equal(sub.received.length, 2);
    const left = await store.listSubscriptions(sub.url("/x"));
    assert.notEqual(left, "unavailable");
    assert.deepEqual(left, { exacts: [], globs: [{ glob: "other/*", recovery: null }] });
  });
});

Deno.test("malformed notify bodies get 400 and nothing is delivered", async () => {
  await using b = await startBroadcaster();
  await withSubscriber(() => ({ kind: "confirm" }), async (sub) => {
    await b.broadcaster.store.subscribeExact(sub.url("/r"), TOPIC, null);
    const good = notifyBody();
    const header = encodeNotifyHeader({
      topic: TOPIC,
      sha512: sha512(MESSAGE),
      tracing: new Uint8Array(0),
      identifier: new Uint8Array([1]),
      length: BigInt(MESSAGE.length),
    });
    const cases: [string, Uint8Array | ReadableStream<Uint8Array>, RegExp][] = [
      ["shorter", good.subarray(0, good.length - 1), /shorter than announced/],
      ["longer", new Uint8Array([...good, 0]), /longer than announced/],
      [
        "wrong hash",
        notifyBody(new TextEncoder().encode("hello, subscriberz")).map(
          (x, i, all) => i >= all.length - MESSAGE.length ? good[i]! : x,
        ),
        /SHA-512 does not match/,
      ],
      ["truncated header", header.subarray(0, 10), /Truncated body/],
      ["empty", new Uint8Array(0), /Truncated body/],
    ];
    for (const [name, body, reason] of cases) {
      const res = await post(`${b.url}/v1/notify`, body);
      assert.equal(res.status, 400, name);
      assert.match(new TextDecoder().decode(res.body), reason, name);
    }
    // A valid notify afterwards is the only thing the subscriber ever sees.
    assert.equal((await post(`${b.url}/v1/notify`, good)).status, 200);
    assert.equal(sub.received.length, 1);
  });
});

Deno.test("notify checks authorization on the header before reading the message", async () => {
  const seen: unknown[] = [];
  const rejecting: AuthStrategy = {
    ...noneAuth(),
    verify(message, tracing, authorization) {
      seen.push({ message, tracing, authorization });
      return Promise.resolve("forbidden");
    },
  };
  await using b = await startBroadcaster({ auth: { toBroadcaster: rejecting } });
  await withSubscriber(() => ({ kind: "confirm" }), async (sub) => {
    await b.broadcaster.store.subscribeExact(sub.url("/r"), TOPIC, null);
    const res = await post(`${b.url}/v1/notify`, notifyBody(), { authorization: "Bearer x" });
    assert.equal(res.status, 403);
    assert.deepEqual(seen, [{
      message: {
        type: "notify",
        topic: TOPIC,
        identifier: new Uint8Array([1, 2, 3, 4]),
        sha512: sha512(MESSAGE),
      },
      tracing: new Uint8Array(0),
      authorization: "Bearer x",
    }]);
    assert.equal(sub.received.length, 0);
  });
});

Deno.test("an over-long notify body is refused before the upload ends", async () => {
  await using b = await startBroadcaster();
  await withSubscriber(() => ({ kind: "confirm" }), async (sub) => {
    await b.broadcaster.store.subscribeExact(sub.url("/r"), TOPIC, null);
    const body = notifyBody();
    // Raw HTTP/1.1, chunked, never finished: the 400 must come while the
    // client is still "uploading".
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: b.server.addr.port });
    try {
      const head = "POST /v1/notify HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n" +
        "content-type: application/octet-stream\r\n\r\n";
      const extra = new Uint8Array(body.length + 1000);
      extra.set(body);
      const enc = new TextEncoder();
      await writeAll(conn, enc.encode(head + extra.length.toString(16) + "\r\n"));
      await writeAll(conn, extra);
      await writeAll(conn, enc.encode("\r\n"));
      const reply = await readUntil(conn, "\r\n\r\n");
      assert.match(reply, /^HTTP\/1\.1 400 /);
    } finally {
      conn.close();
    }
    assert.equal(sub.received.length, 0);
  });
});

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}

async function readUntil(conn: Deno.Conn, marker: string): Promise<string> {
  const buf = new Uint8Array(4096);
  let text = "";
  while (!text.includes(marker)) {
    const n = await conn.read(buf);
    if (n === null) break;
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  return text;
}
