/**
 * End to end over a raw socket: a notify body whose message length field
 * contradicts its Content-Length (a bit flip, a deletion, a 64 KiB field of
 * bytes that are not UTF-8 shifting what follows) is the client's error, 400,
 * checked before the spool quota; 507 stays for a well-formed notify that
 * does not fit.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startBroadcaster } from "./_harness.ts";
import { exchange } from "./_raw_exchange.ts";
import { encodeNotify } from "../src/protocol/notify.ts";

const KIB = 1024;
const enc = new TextEncoder();
/** A small quota, so that any mistaken reservation of a bogus length is a 507. */
const LIMITS = { spoolThresholdBytes: 4 * KIB, spoolQuotaBytes: 256 * KIB };

function notifyBody(message: Uint8Array, identifier = new Uint8Array([1, 2])): Uint8Array {
  return encodeNotify({
    topic: enc.encode("t"),
    sha512: new Uint8Array(createHash("sha512").update(message).digest()),
    tracing: new Uint8Array(0),
    identifier,
  }, message);
}

/** The body with its message length field (the u64 before the message) set to `length`. */
function withLength(body: Uint8Array, messageBytes: number, length: bigint): Uint8Array {
  const out = body.slice();
  new DataView(out.buffer).setBigUint64(out.length - messageBytes - 8, length);
  return out;
}

function request(body: Uint8Array, path = "/v1/notify"): Uint8Array {
  const head = enc.encode(
    `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: ${body.length}\r\n\r\n`,
  );
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

async function statusOf(port: number, body: Uint8Array): Promise<[number | undefined, string]> {
  const x = await exchange(port, request(body));
  return [x.statuses[0], x.bodies[0] ?? ""];
}

Deno.test("a small notify whose length field claims 2^40 bytes is 400, not 507", async () => {
  await using b = await startBroadcaster({ limits: LIMITS });
  const port = Number(new URL(b.url).port);
  const message = enc.encode("hello");
  const [status, text] = await statusOf(port, withLength(notifyBody(message), 5, 2n ** 40n));
  assert.equal(status, 400, text);
  assert.match(
    text,
    /^Body shorter than announced: the header announces 1099511627776 message bytes, 5 follow/,
  );
});

Deno.test("a streamed notify (over 64 KiB) whose length field was flipped is 400, not 507", async () => {
  await using b = await startBroadcaster({ limits: LIMITS });
  const port = Number(new URL(b.url).port);
  const message = new Uint8Array(100 * KIB).fill(7);
  // One high bit flipped in the length: 2^33 + the real length.
  const flipped = withLength(notifyBody(message), message.length, 2n ** 33n + 100n * 1024n);
  const [status, text] = await statusOf(port, flipped);
  assert.equal(status, 400, text);
  assert.match(text, /shorter than announced/);
});

Deno.test("a notify with a byte deleted from its header is 400, not 507", async () => {
  await using b = await startBroadcaster({ limits: LIMITS });
  const port = Number(new URL(b.url).port);
  // Identifier 01 ff ff ff ff ff ff ff ff: without its length byte (9), it
  // reads as one byte long, and seven 0xff bytes start the length field.
  const identifier = new Uint8Array([1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  const body = notifyBody(enc.encode("hello, world"), identifier);
  const at = body.length - 12 - 8 - 9 - 1;
  const cut = new Uint8Array(body.length - 1);
  cut.set(body.subarray(0, at));
  cut.set(body.subarray(at + 1), at);
  const [status, text] = await statusOf(port, cut);
  assert.equal(status, 400, text);
});

Deno.test("a 64 KiB topic of bytes that are not UTF-8, running into the length field, is 400", async () => {
  await using b = await startBroadcaster({ limits: LIMITS });
  const port = Number(new URL(b.url).port);
  // topic: 0xffff bytes of 0xff; sha512: 0xff…; no tracing; identifier
  // [0xff]; then the same 0xff bytes where the length goes (2^64 - 1), and
  // one byte of message.
  const body = new Uint8Array(2 + 0xffff + 64 + 2 + 2 + 8 + 1).fill(0xff);
  body.set([0, 0, 1, 0xff], 2 + 0xffff + 64);
  body[body.length - 1] = 0x6d;
  const [status, text] = await statusOf(port, body);
  assert.equal(status, 400, text);
  assert.match(
    text,
    /^Body shorter than announced: the header announces 18446744073709551615 message bytes, 1 follow/,
  );
});

Deno.test("a well-formed notify larger than the spool quota is still 507", async () => {
  await using b = await startBroadcaster({ limits: LIMITS });
  const port = Number(new URL(b.url).port);
  const [status, text] = await statusOf(port, notifyBody(new Uint8Array(300 * KIB)));
  assert.equal(status, 507, text);
  assert.match(text, /spool quota/);
  // And one that fits is taken.
  const [fits] = await statusOf(port, notifyBody(new Uint8Array(100 * KIB)));
  assert.equal(fits, 200);
});
