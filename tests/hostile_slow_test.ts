/**
 * Slow and idle connections are closed. A client that
 * dribbles its headers, a keep-alive connection left idle, a silent one, and
 * a body that trickles in (on a notify that spools, and on a small route) are
 * each cut after their timeout, on Deno over real sockets. The timeouts are
 * scaled down (1 s instead of the default 10 s) to keep the suite fast.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import { startBroadcaster } from "./_harness.ts";
import { encodeNotifyHeader } from "../src/protocol/notify.ts";
import { RawClient, within } from "./_raw_http.ts";

const LIMITS = {
  headersTimeoutMs: 1000,
  keepAliveTimeoutMs: 1000,
  bodyIdleTimeoutMs: 1000,
  bodyMinBytesPerSecond: 8192,
};
const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("a client sending its headers one byte at a time is cut at the header timeout", async () => {
  await using b = await startBroadcaster({ limits: LIMITS });
  const client = await RawClient.open(b.url);
  try {
    const head = enc(
      "POST /v1/subscribe/exact HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(200) + "\r\n\r\n",
    );
    const sent = await client.trickle(head, 1, 100);
    const closedAt = await within(client.closed, 5000, "header timeout");
    assert.ok(sent < head.length, "cut before the headers were complete");
    assert.ok(closedAt >= 900 && closedAt < 3000, `closed after ${closedAt} ms`);
  } finally {
    client.close();
  }
});

Deno.test("a connection that never sends anything is closed at the header timeout", async () => {
  await using b = await startBroadcaster({ limits: LIMITS });
  const client = await RawClient.open(b.url);
  try {
    const closedAt = await within(client.closed, 5000, "header timeout");
    assert.ok(closedAt >= 900 && closedAt < 3000, `closed after ${closedAt} ms`);
    assert.equal(client.text, "");
  } finally {
    client.close();
  }
});

Deno.test("an idle keep-alive connection is closed at the keep-alive timeout", async () => {
  await using b = await startBroadcaster({ limits: { ...LIMITS, keepAliveTimeoutMs: 1500 } });
  const client = await RawClient.open(b.url);
  try {
    await client.write(enc("POST /v1/nope HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
    const closedAt = await within(client.closed, 6000, "keep-alive timeout");
    assert.match(client.text, /^HTTP\/1\.1 404 /, "answered, then kept alive");
    assert.ok(closedAt >= 1400 && closedAt < 4000, `closed after ${closedAt} ms`);
  } finally {
    client.close();
  }
});

Deno.test("a notify declaring 100 MiB that trickles in is cut with 408 and its spool file removed", async () => {
  await using b = await startBroadcaster({ limits: LIMITS });
  const length = 100 * 1024 * 1024;
  const header = encodeNotifyHeader({
    topic: enc("slow"),
    sha512: new Uint8Array(createHash("sha512").digest()),
    tracing: new Uint8Array(0),
    identifier: new Uint8Array([1]),
    length: BigInt(length),
  });
  const client = await RawClient.open(b.url);
  try {
    await client.write(enc(
      `POST /v1/notify HTTP/1.1\r\nHost: x\r\nContent-Length: ${header.length + length}\r\n\r\n`,
    ));
    await client.write(header);
    // 1 KiB every 200 ms: 5 KiB/s, under the 8 KiB/s floor.
    const sent = await client.trickle(new Uint8Array(length), 1024, 200);
    await within(client.closed, 5000, "body timeout");
    assert.match(client.text, /^HTTP\/1\.1 408 /);
    assert.match(client.text, /Request body too slow/);
    assert.ok(sent < 64 * 1024, `cut after ${sent} bytes`);
    const spooled = (await readdir(b.dir)).filter((name) => name.endsWith(".spool"));
    assert.deepEqual(spooled, [], "the spool file was removed");
  } finally {
    client.close();
  }
});

Deno.test("a small body that trickles in is cut too, on every route that reads one", async () => {
  await using b = await startBroadcaster({ limits: LIMITS });
  for (const path of ["/v1/subscribe/exact", "/v1/check_subscriptions", "/v1/set_subscriptions"]) {
    const client = await RawClient.open(b.url);
    try {
      await client.write(enc(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\n`));
      const sent = await client.trickle(new Uint8Array(200).fill(1), 1, 200);
      const closedAt = await within(client.closed, 5000, `${path} body timeout`);
      assert.match(client.text, /^HTTP\/1\.1 408 /, path);
      assert.ok(sent < 200 && closedAt < 3000, `${path}: ${sent} bytes, ${closedAt} ms`);
    } finally {
      client.close();
    }
  }
});

Deno.test("a body that keeps up with the floor is not cut, however long it takes", async () => {
  await using b = await startBroadcaster({ limits: LIMITS });
  const body = new Uint8Array(48 * 1024);
  const client = await RawClient.open(b.url);
  try {
    await client.write(enc(
      `POST /v1/subscribe/exact HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`,
    ));
    // 4 KiB every 250 ms: 16 KiB/s for 3 s, over the floor all along.
    const sent = await client.trickle(body, 4096, 250);
    assert.equal(sent, body.length);
    // The body was read whole, then refused as malformed: not as too slow.
    const deadline = Date.now() + 5000;
    while (!client.text.includes("\r\n\r\n") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(client.text, /^HTTP\/1\.1 400 /);
  } finally {
    client.close();
  }
});
