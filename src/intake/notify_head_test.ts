import assert from "node:assert/strict";
import { encodeNotifyHeader } from "../protocol/mod.ts";
import { streamOf } from "./_testing.ts";
import { notifyHeadOf, readNotifyHead } from "./notify_head.ts";

const HEADER = {
  topic: new TextEncoder().encode("foo"),
  sha512: new Uint8Array(64).fill(9),
  tracing: new Uint8Array(70_000 - 65_536 + 10).fill(1),
  identifier: new Uint8Array([1, 2, 3, 4]),
  length: 5n,
};

Deno.test("readNotifyHead parses a header delivered byte by byte and returns the rest", async () => {
  const head = encodeNotifyHeader(HEADER);
  const bytes = [...head, 104, 101].map((b) => new Uint8Array([b]));
  const got = await readNotifyHead(streamOf(bytes));
  assert.ok(got.ok);
  assert.deepEqual(got.header.topic, HEADER.topic);
  assert.deepEqual(got.header.sha512, HEADER.sha512);
  assert.deepEqual(got.header.tracing, HEADER.tracing);
  assert.equal(got.header.length, 5n);
  assert.deepEqual(got.rest, []);
});

Deno.test("readNotifyHead hands back the message bytes that share the header's chunk", async () => {
  const head = encodeNotifyHeader(HEADER);
  const big = new Uint8Array(head.length + 200_000);
  big.set(head);
  big.fill(7, head.length);
  const got = await readNotifyHead(streamOf([big]));
  assert.ok(got.ok);
  const restLength = got.rest.reduce((n, b) => n + b.length, 0);
  assert.equal(restLength, 200_000);
  assert.ok(got.rest.every((b) => b.every((x) => x === 7)));
});

Deno.test("readNotifyHead rejects a body that ends inside the header", async () => {
  const head = encodeNotifyHeader(HEADER);
  assert.deepEqual(await readNotifyHead(streamOf([head.subarray(0, head.length - 1)])), {
    ok: false,
    reason: "Truncated body: incomplete notify header",
  });
  assert.deepEqual(await readNotifyHead(streamOf([])), {
    ok: false,
    reason: "Truncated body: incomplete notify header",
  });
});

Deno.test("readNotifyHead turns a failing body read into a 400 reason", async () => {
  const reader = {
    read: () => Promise.reject(new Error("connection reset")),
  };
  assert.deepEqual(await readNotifyHead(reader), {
    ok: false,
    reason: "Request body could not be read (the client went away?)",
  });
});

Deno.test("notifyHeadOf gives what readNotifyHead gives for the same whole body", async () => {
  const head = encodeNotifyHeader(HEADER);
  const whole = new Uint8Array(head.length + 5);
  whole.set(head);
  whole.fill(104, head.length);
  const bodies = [
    whole,
    head, // the header alone: no rest
    new Uint8Array(0),
    head.subarray(0, 10), // cut inside the header
    head.subarray(0, head.length - 1),
    new Uint8Array([0, 200, 1, 2]), // a length field past what follows
  ];
  for (const body of bodies) {
    const streamed = await readNotifyHead(streamOf(body.length > 0 ? [body] : []));
    const now = notifyHeadOf(body);
    assert.deepEqual(now, streamed, `for a body of ${body.length} bytes`);
  }
  const got = notifyHeadOf(whole);
  assert.ok(got.ok);
  assert.equal(got.rest.length, 1);
  assert.deepEqual(got.rest[0], new Uint8Array(5).fill(104));
});
