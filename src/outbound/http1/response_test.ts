import assert from "node:assert/strict";
import { MalformedResponseError, ResponseParser } from "./response.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Feeds `response` in pieces of `step` bytes; the final state and the parser. */
function feed(response: string, cap = 1024, step = Infinity) {
  const p = new ResponseParser(cap);
  const all = bytes(response);
  let state = "more";
  for (let at = 0; at < all.length && state === "more"; at += step) {
    state = p.feed(all.subarray(at, Math.min(all.length, at + step)));
  }
  return { state, p };
}

Deno.test("response parser: framing by Content-Length, chunked, 204 and close, in any split", () => {
  const cases: [string, string, number, boolean][] = [
    ["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "hello", 200, true],
    ["HTTP/1.1 500 Oops\r\ncontent-length: 0\r\n\r\n", "", 500, true],
    [
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhe\r\n3;x=y\r\nllo\r\n0\r\n\r\n",
      "hello",
      200,
      true,
    ],
    ["HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", "", 204, true],
    ["HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", "ok", 200, false],
    ["HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", "ok", 200, false],
    ["HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok", "ok", 200, true],
    [
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx",
      "x",
      201,
      true,
    ],
    ["HTTP/1.1 200 OK\nContent-Length: 2\n\nok", "ok", 200, true],
    ["HTTP/1.1 200\r\nContent-Length: 2, 2\r\n\r\nok", "ok", 200, true],
  ];
  for (const [response, body, status, keepAlive] of cases) {
    for (const step of [Infinity, 1, 3, 7]) {
      const { state, p } = feed(response, 1024, step);
      assert.equal(state, "done", `${JSON.stringify(response)} step ${step}`);
      assert.equal(text(p.body), body);
      assert.equal(p.status, status);
      assert.equal(p.keepAlive, keepAlive, JSON.stringify(response));
    }
  }
});

Deno.test("response parser: a body until close ends with the connection", () => {
  const { state, p } = feed("HTTP/1.1 200 OK\r\n\r\npart");
  assert.equal(state, "more");
  assert.equal(p.end(), "done");
  assert.equal(text(p.body), "part");
  assert.equal(p.keepAlive, false);
});

Deno.test("response parser: the cap keeps the first bytes and says full", () => {
  const { state, p } = feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n012345", 4);
  assert.equal(state, "full");
  assert.equal(text(p.body), "0123");
  assert.equal(p.keepAlive, false);
  // All of it already in: complete, the rest skipped, the connection still good.
  const whole = feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", 4);
  assert.equal(whole.state, "done");
  assert.equal(text(whole.p.body), "0123");
  assert.equal(whole.p.keepAlive, true);
});

Deno.test("response parser: bytes after the response make the connection unusable", () => {
  const { state, p } = feed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA");
  assert.equal(state, "done");
  assert.equal(p.keepAlive, false);
});

Deno.test("response parser: malformed answers throw", () => {
  for (
    const bad of [
      "HELLO\r\n\r\n",
      "HTTP/2 200 OK\r\n\r\n",
      "HTTP/1.1 20 OK\r\n\r\n",
      "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
      "HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
      "HTTP/1.1 101 Switching Protocols\r\n\r\n",
    ]
  ) {
    assert.throws(() => feed(bad), MalformedResponseError, JSON.stringify(bad));
  }
  assert.throws(() => new ResponseParser(10).end(), MalformedResponseError);
  const cut = feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe").p;
  assert.throws(() => cut.end(), MalformedResponseError);
  assert.throws(() => feed(`HTTP/1.1 200 OK\r\nx: ${"a".repeat(70_000)}\r\n\r\n`, 10, 1000));
});
