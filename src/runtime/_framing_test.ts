import assert from "node:assert/strict";
import {
  MAX_HEAD_BYTES,
  MAX_HEADER_FIELDS,
  MAX_REQUEST_LINE_BYTES,
  RequestFraming,
} from "./_framing.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Pushes `text` in pieces of `step` bytes; what was forwarded, and the refusal if any. */
function run(
  text: string,
  step: number,
): { forwarded: string; refuse: number | null; opaque: boolean; malformed?: true } {
  const framing = new RequestFraming();
  const bytes = enc.encode(text);
  let forwarded = "";
  for (let at = 0; at < bytes.length; at += step) {
    const out = framing.push(bytes.slice(at, at + step));
    for (const part of out.forward) forwarded += dec.decode(part);
    if (out.refuse !== null) return { forwarded, refuse: out.refuse, opaque: framing.opaque };
    if (out.malformed) return { forwarded, refuse: null, opaque: false, malformed: true };
  }
  return { forwarded, refuse: null, opaque: framing.opaque };
}

const POST = (body: string) =>
  `POST /v1/notify HTTP/1.1\r\nhost: a\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
const CHUNKED =
  "POST /v1/notify HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nt: 1\r\n\r\n";
const STEPS = [1, 2, 3, 7, 64, 100_000];

Deno.test("framing passes pipelined requests on unchanged, however the bytes are split", () => {
  const text = "\r\n" + POST("hello") + "GET /healthz HTTP/1.0\n\n" + CHUNKED + POST("") +
    "POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n" + POST("x".repeat(300));
  for (const step of STEPS) {
    const out = run(text, step);
    assert.equal(out.refuse, null, `step ${step}`);
    assert.equal(out.opaque, false, `step ${step}`);
    assert.equal(out.forwarded, text, `step ${step}`);
  }
});

Deno.test("framing refuses a long request line with 414 and a large head with 431, forwarding none of it", () => {
  const url = `GET /?${"x".repeat(MAX_REQUEST_LINE_BYTES)} HTTP/1.1\r\nhost: a\r\n\r\n`;
  const head = `GET / HTTP/1.1\r\nhost: a\r\nx: ${"v".repeat(MAX_HEAD_BYTES)}\r\n\r\n`;
  const many = `GET / HTTP/1.1\r\n${"x-a: b\r\n".repeat(MAX_HEAD_BYTES / 8)}\r\n`;
  const count = `GET / HTTP/1.1\r\n${"x-a: b\r\n".repeat(MAX_HEADER_FIELDS + 1)}\r\n`;
  for (const step of STEPS) {
    assert.deepEqual(run(POST("ok") + url, step).refuse, 414, `step ${step}`);
    assert.equal(run(POST("ok") + url, step).forwarded, POST("ok"), `step ${step}`);
    assert.deepEqual(run(head, step), { forwarded: "", refuse: 431, opaque: false });
    assert.equal(run(many, step).refuse, 431, `step ${step}`);
    assert.equal(run(count, step).refuse, 431, `step ${step}`);
  }
  // At the limits exactly, both pass.
  const fits = `GET /${"x".repeat(MAX_REQUEST_LINE_BYTES - 15)} HTTP/1.1\r\n\r\n`;
  assert.equal(run(fits, 1000).refuse, null);
  const fields = `GET / HTTP/1.1\r\n${"x-a: b\r\n".repeat(MAX_HEADER_FIELDS)}\r\n`;
  assert.equal(run(fields, 1000).refuse, null);
});

Deno.test("framing stops looking (forwards everything) at what it does not follow for sure", () => {
  const cases = [
    "GET /v1/websocket HTTP/1.1\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\nws frames",
    "POST / HTTP/1.1\r\ntransfer-encoding: gzip, chunked\r\n\r\nzz",
    "POST / HTTP/1.1\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd",
    "POST / HTTP/1.1\r\ncontent-length : 3\r\n\r\nabc",
    "POST / HTTP/1.1\r\nno colon here\r\n\r\n",
    "POST / HTTP/1.1\r\nx: a\r\n folded\r\n\r\n",
  ];
  for (const text of cases) {
    for (const step of STEPS) {
      const long = `GET /?${"x".repeat(MAX_HEAD_BYTES)} HTTP/1.1\r\n\r\n`;
      const out = run(text + long, step);
      assert.deepEqual(out, { forwarded: text + long, refuse: null, opaque: true });
    }
  }
});

Deno.test("framing passes nothing on after a malformed chunk", () => {
  const head = "POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n";
  const cases: [string, string][] = [
    ["zz\r\nabc\r\n", ""],
    ["3\r\nabcX0\r\n\r\n", "3\r\nabc"],
    ["ffffffffffffffffff\r\n", ""],
    ["1".repeat(5000), ""],
  ];
  for (const [body, passed] of cases) {
    for (const step of STEPS) {
      const out = run(head + body + POST("after"), step);
      assert.deepEqual(out, {
        forwarded: head + passed,
        refuse: null,
        opaque: false,
        malformed: true,
      }, `${JSON.stringify(body.slice(0, 20))} step ${step}`);
    }
  }
});
