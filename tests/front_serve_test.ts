/**
 * End to end over raw sockets: the Deno front serves plain HTTP/1.1 requests
 * itself (docs/operating.md#connections-and-request-bodies) — pipelined
 * ones in order, bodies that arrive in many pieces, HEAD, `connection:
 * close` — and relays to `Deno.serve` from the first head it does not serve
 * on, so a websocket upgrade after plain requests on the same connection
 * still succeeds.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startBroadcaster } from "./_harness.ts";
import { exchange } from "./_raw_exchange.ts";
import { RawClient, within } from "./_raw_http.ts";
import { encodeNotify, parseResponseNotify } from "../src/protocol/mod.ts";
import { concat } from "./compression/_bytes.ts";

const enc = new TextEncoder();

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** A raw notify request of `size` message bytes to a topic nobody wants. */
function notifyRequest(size: number, extra: string[] = []): Uint8Array {
  const message = new Uint8Array(size).map((_, i) => i * 7);
  const sha512 = new Uint8Array(createHash("sha512").update(message).digest());
  const body = encodeNotify({
    topic: enc.encode("front-serve"),
    sha512,
    tracing: new Uint8Array(0),
    identifier: crypto.getRandomValues(new Uint8Array(8)),
  }, message);
  const head = [
    "POST /v1/notify HTTP/1.1",
    "host: 127.0.0.1",
    `content-length: ${body.length}`,
    ...extra,
    "",
    "",
  ].join("\r\n");
  return concat([enc.encode(head), body]);
}

Deno.test("the front answers pipelined notifies on one connection, each in order", async () => {
  await using b = await startBroadcaster();
  const three = concat([notifyRequest(10), notifyRequest(2000), notifyRequest(0)]);
  const got = await exchange(portOf(b.url), three, { responses: 3 });
  assert.deepEqual(got.statuses, [200, 200, 200]);
  assert.equal(got.reset, false);
});

Deno.test("a notify body that arrives a few bytes at a time is read across the pieces", async () => {
  await using b = await startBroadcaster();
  const port = portOf(b.url);
  // Small (read whole) and large (streamed into the intake); the 200 says
  // the SHA-512 of what arrived matched.
  for (const [size, step] of [[300, 7], [200_000, 4096]] as const) {
    const got = await exchange(port, notifyRequest(size), { writeBytes: step });
    assert.deepEqual(got.statuses, [200], `${size} bytes in writes of ${step}`);
  }
  // Then a request on the same connection after a streamed body.
  const twice = concat([notifyRequest(100_000), notifyRequest(5)]);
  const got = await exchange(port, twice, { writeBytes: 1000, responses: 2 });
  assert.deepEqual(got.statuses, [200, 200]);
});

Deno.test("HEAD gets the head only, and connection: close ends the connection after the answer", async () => {
  await using b = await startBroadcaster();
  const client = await RawClient.open(b.url);
  try {
    await client.write(enc.encode(
      "HEAD /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n" +
        "GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n",
    ));
    await within(client.closed, 5000, "the server closing the connection");
    const answers = client.text.split("HTTP/1.1 ").slice(1);
    assert.equal(answers.length, 2, client.text);
    assert.match(answers[0]!, /^200 /);
    assert.match(answers[0]!, /\r\n\r\n$/); // no body after the HEAD's head
    assert.match(answers[1]!, /^200 [^]*connection: close\r\n[^]*\r\n\r\nok\n?$/i);
  } finally {
    client.close();
  }
});

Deno.test("after plain requests, a websocket upgrade on the same connection is relayed and accepted", async () => {
  await using b = await startBroadcaster();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: portOf(b.url) });
  try {
    const read = async (until: RegExp): Promise<string> => {
      const buf = new Uint8Array(4096);
      let text = "";
      while (!until.test(text)) {
        const n = await conn.read(buf);
        if (n === null) throw new Error(`Closed after: ${text}`);
        text += new TextDecoder().decode(buf.subarray(0, n));
      }
      return text;
    };
    await conn.write(notifyRequest(64));
    const first = await within(read(/\r\n\r\n[^]{8,}/), 5000, "the notify's answer");
    assert.match(first, /^HTTP\/1\.1 200 /);
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    await conn.write(enc.encode(
      "GET /v1/websocket HTTP/1.1\r\nhost: 127.0.0.1\r\nupgrade: websocket\r\n" +
        `connection: Upgrade\r\nsec-websocket-key: ${key}\r\nsec-websocket-version: 13\r\n\r\n`,
    ));
    const upgraded = await within(read(/\r\n\r\n/), 5000, "the upgrade's answer");
    assert.match(upgraded, /^HTTP\/1\.1 101 /);
    const accept = createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
      .digest("base64");
    assert.match(
      upgraded,
      new RegExp(`sec-websocket-accept: ${accept.replace(/[+/]/g, "\\$&")}`, "i"),
    );
    // A masked close frame (code 1000); the server answers with its own.
    await conn.write(new Uint8Array([0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xe8 ^ 2]));
    const buf = new Uint8Array(64);
    const n = await within(conn.read(buf), 5000, "the server's close frame");
    assert.ok(n !== null && (buf[0]! & 0x0f) === 8, "a close frame");
  } finally {
    conn.close();
  }
});

Deno.test("a notify answer is parsed as RESPONSE_NOTIFY through the front's own writer", async () => {
  await using b = await startBroadcaster();
  const res = await fetch(`${b.url}/v1/notify`, {
    method: "POST",
    body: bodyOf(notifyRequest(64)) as Uint8Array<ArrayBuffer>,
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/octet-stream");
  assert.equal(parseResponseNotify(new Uint8Array(await res.arrayBuffer())).count, 0);
});

Deno.test("the front's answers carry a date header, as Deno.serve's do (RFC 9110 §6.6.1)", async () => {
  await using b = await startBroadcaster();
  const client = await RawClient.open(b.url);
  try {
    const before = Math.floor(Date.now() / 1000) * 1000;
    await client.write(
      enc.encode("GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n"),
    );
    await within(client.closed, 5000, "the server closing the connection");
    const dates = [...client.text.matchAll(/^date: (.*)\r$/gim)].map((m) => m[1]!);
    assert.equal(dates.length, 1, client.text);
    // IMF-fixdate, e.g. "Mon, 07 Dec 2026 23:10:00 GMT", of this very second or the next.
    assert.match(dates[0]!, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    const at = Date.parse(dates[0]!);
    assert.ok(at >= before && at <= Date.now(), `${dates[0]} is now`);
  } finally {
    client.close();
  }
});

function bodyOf(request: Uint8Array): Uint8Array {
  for (let i = 0; i + 3 < request.length; i++) {
    if (request[i] === 13 && request[i + 1] === 10 && request[i + 2] === 13) {
      return request.subarray(i + 4);
    }
  }
  throw new Error("No head end");
}
