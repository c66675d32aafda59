/**
 * End to end over raw sockets, behind the Deno front: a request line over
 * the limit is answered 414 and a header block over the limit 431 (not a
 * bare 400 and a reset); an answer given before the body (401 without
 * Authorization, 413 by the declared length) reaches a client that is still
 * sending, which can finish sending and then read it (a lingering close,
 * not a reset); a malformed chunked body is answered 400; and well-formed
 * notifies under hmac are always answered, pipelined or not. On Node, the
 * early 413 and a head over Node's limit (431) are readable by a client still
 * sending too.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startBroadcaster } from "./_harness.ts";
import { cliCommand, startServe, tempDir } from "./_cli.ts";
import { exchange } from "./_raw_exchange.ts";
import { generateHmacSecret, hmacAuth, memoryReplayStore } from "../src/auth/mod.ts";
import type { AuthStrategy } from "../src/auth/types.ts";
import { encodeNotify } from "../src/protocol/notify.ts";
import { concat } from "./compression/_bytes.ts";

const enc = new TextEncoder();
const MIB = 1024 * 1024;

function request(target: string, body: Uint8Array, headers: string[] = []): Uint8Array {
  const head = [
    `POST ${target} HTTP/1.1`,
    "host: 127.0.0.1",
    `content-length: ${body.length}`,
    ...headers,
    "",
    "",
  ].join("\r\n");
  return concat([enc.encode(head), body]);
}

/** A notify body of `size` bytes of message, and its Authorization header under `auth`. */
async function notify(size: number, auth?: AuthStrategy): Promise<[Uint8Array, string[]]> {
  const message = new Uint8Array(size).fill(42);
  const topic = enc.encode("framing");
  const identifier = crypto.getRandomValues(new Uint8Array(8));
  const sha512 = new Uint8Array(createHash("sha512").update(message).digest());
  const tracing = new Uint8Array(0);
  const body = encodeNotify({ topic, sha512, tracing, identifier }, message);
  const authorization = await auth?.authorize(
    { type: "notify", topic, identifier, sha512 },
    tracing,
    Date.now() / 1000,
  );
  return [body, authorization ? [`authorization: ${authorization}`] : []];
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** A broadcaster requiring hmac from notifiers, and the notifier's strategy. */
async function hmacBroadcaster() {
  const secret = generateHmacSecret();
  const b = await startBroadcaster({
    auth: {
      toBroadcaster: hmacAuth({ secret, replay: memoryReplayStore() }),
      toSubscriber: hmacAuth({ secret: generateHmacSecret(), replay: memoryReplayStore() }),
    },
  });
  const client = hmacAuth({ secret, replay: memoryReplayStore() });
  return { b, client };
}

Deno.test("a request line over 16 KiB is answered 414, readable by a client still sending", async () => {
  await using b = await startBroadcaster();
  const [body] = await notify(4 * MIB);
  const x = await exchange(portOf(b.url), request(`/v1/notify?${"x".repeat(100_000)}`, body), {
    readAfterWrite: true,
  });
  assert.deepEqual(x.statuses, [414]);
  assert.match(x.bodies[0]!, /^Request line \(URL\) longer than the limit of 16384 bytes/);
  assert.equal(x.sentAll, true, "the client could send its whole request");
  assert.equal(x.reset, false);
});

Deno.test("a header block over 48 KiB, or over 100 fields, is answered 431", async () => {
  await using b = await startBroadcaster();
  const [body] = await notify(10);
  const big = await exchange(
    portOf(b.url),
    request("/v1/notify", body, [`x-big: ${"v".repeat(100_000)}`]),
  );
  assert.deepEqual(big.statuses, [431]);
  assert.match(big.bodies[0]!, /^Request header fields longer than the limit of 49152 bytes/);
  const many = Array.from({ length: 150 }, (_, i) => `x-h${i}: v`);
  const count = await exchange(portOf(b.url), request("/v1/notify", body, many));
  assert.deepEqual(count.statuses, [431]);
});

Deno.test("a long URL pipelined after a valid notify: the notify is answered 200, then 414", async () => {
  await using b = await startBroadcaster();
  const [body] = await notify(100);
  const bytes = concat([
    request("/v1/notify", body),
    request(`/v1/notify?${"x".repeat(70_000)}`, body),
  ]);
  const x = await exchange(portOf(b.url), bytes, { responses: 2 });
  assert.deepEqual(x.statuses, [200, 414]);
});

Deno.test("an early 401 (hmac, no Authorization) reaches a client still sending 32 MiB", async () => {
  const { b, client } = await hmacBroadcaster();
  await using _ = b;
  await client.close();
  const [body] = await notify(32 * MIB);
  const x = await exchange(portOf(b.url), request("/v1/notify", body), { readAfterWrite: true });
  assert.deepEqual(x.statuses, [401]);
  assert.equal(x.bodies[0], "Authorization required\n");
  assert.equal(x.sentAll, true, "the client could send its whole body (not reset)");
  assert.equal(x.reset, false);
});

Deno.test("an early 413 (declared length over the route's limit) reaches a client still sending", async () => {
  await using b = await startBroadcaster();
  const body = new Uint8Array(32 * MIB);
  const x = await exchange(portOf(b.url), request("/v1/check_subscriptions", body), {
    readAfterWrite: true,
  });
  assert.deepEqual(x.statuses, [413]);
  assert.equal(x.sentAll, true, "the client could send its whole body (not reset)");
  assert.equal(x.reset, false);
});

Deno.test("a malformed chunk size is answered 400, not closed without an answer", async () => {
  await using b = await startBroadcaster();
  const [body] = await notify(10);
  const head = enc.encode(
    "POST /v1/notify HTTP/1.1\r\nhost: 127.0.0.1\r\ntransfer-encoding: chunked\r\n\r\n",
  );
  for (const bad of ["zz\r\n", "ffffffffffffffffffff\r\n"]) {
    const bytes = concat([head, enc.encode(bad), body, enc.encode("\r\n0\r\n\r\n")]);
    const x = await exchange(portOf(b.url), bytes);
    assert.deepEqual(x.statuses, [400], JSON.stringify(bad));
  }
});

Deno.test("valid notifies under hmac are all answered: small, streamed, pipelined, HTTP/1.0", async () => {
  const { b, client } = await hmacBroadcaster();
  await using _ = b;
  const port = portOf(b.url);
  for (let i = 0; i < 60; i++) {
    const [body, auth] = await notify(i % 3 === 0 ? 100_000 + i : i, client);
    const bytes = request("/v1/notify", body, auth);
    const x = await exchange(port, bytes, { readAfterWrite: i % 2 === 0 });
    assert.deepEqual(x.statuses, [200], `notify ${i}`);
  }
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 5; i++) {
    const [body, auth] = await notify(50 * i, client);
    parts.push(request("/v1/notify", body, auth));
  }
  const pipelined = await exchange(port, concat(parts), { responses: 5 });
  assert.deepEqual(pipelined.statuses, [200, 200, 200, 200, 200]);
  const [body, auth] = await notify(10, client);
  const old = request("/v1/notify", body, auth);
  old.set(enc.encode("POST /v1/notify HTTP/1.0"));
  const http10 = await exchange(port, old);
  assert.deepEqual(http10.statuses, [200]);
  await client.close();
});

Deno.test("runtime node: an early 413 and a 431 reach a client still sending 32 MiB", async () => {
  await using dir = await tempDir();
  const [exe, pre] = await cliCommand("node");
  await using server = await startServe(
    exe,
    [...pre, "serve", "--port", "0", "--db", ":memory:", "--log-level", "error"],
    { cwd: dir.path },
  );
  const port = portOf(server.url);
  const body = new Uint8Array(32 * MIB);
  const early = await exchange(port, request("/v1/check_subscriptions", body), {
    readAfterWrite: true,
  });
  assert.deepEqual(early.statuses, [413]);
  assert.equal(early.sentAll, true, "the client could send its whole body (not reset)");
  const long = await exchange(
    port,
    request("/v1/notify", body, [`x-big: ${"v".repeat(100_000)}`]),
    { readAfterWrite: true },
  );
  assert.deepEqual(long.statuses, [431]);
  assert.equal(long.sentAll, true, "the client could send its whole request (not reset)");
});
