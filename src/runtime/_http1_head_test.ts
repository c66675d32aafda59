import assert from "node:assert/strict";
import { MAX_HEAD_BYTES, MAX_HEADER_FIELDS, MAX_REQUEST_LINE_BYTES } from "./_framing.ts";
import { NOT_MINE, parsePlainHead, type PlainHead } from "./_http1_head.ts";

const enc = new TextEncoder();

function parse(text: string): PlainHead | typeof NOT_MINE | null {
  const bytes = enc.encode(text);
  return parsePlainHead(bytes, 0, bytes.length);
}

function head(lines: string[]): string {
  return [...lines, "", ""].join("\r\n");
}

Deno.test("a plain POST head is served, with its url, length and headers", () => {
  const text = head([
    "POST /v1/notify HTTP/1.1",
    "Host: 127.0.0.1:3003",
    "Content-Length: 12",
    "X-A:  b ",
  ]);
  const got = parse(text + "body follows");
  assert.ok(got !== null && got !== NOT_MINE);
  assert.equal(got.method, "POST");
  assert.equal(got.url, "http://127.0.0.1:3003/v1/notify");
  assert.equal(got.length, 12);
  assert.equal(got.close, false);
  assert.equal(got.headers.get("x-a"), "b");
  assert.equal(got.end, text.length);
});

Deno.test("the head's end is found after a head that arrives in pieces, and not before", () => {
  const text = head(["GET /metrics HTTP/1.1", "host: a", "connection: close"]);
  const bytes = enc.encode(text + "GET /next");
  for (let cut = 0; cut < text.length; cut++) {
    assert.equal(parsePlainHead(bytes, 0, cut), null, `cut at ${cut}`);
  }
  const got = parsePlainHead(bytes, 0, bytes.length);
  assert.ok(got !== null && got !== NOT_MINE);
  assert.equal(got.end, text.length);
  assert.equal(got.close, true);
  // A second request in the same buffer parses from where the first ended.
  const two = enc.encode(text + text);
  const second = parsePlainHead(two, text.length, two.length);
  assert.ok(second !== null && second !== NOT_MINE);
  assert.equal(second.end, two.length);
});

Deno.test("every head of an unusual shape is left to the server behind", () => {
  const cases: Record<string, string> = {
    upgrade: head(["GET /v1/websocket HTTP/1.1", "host: a", "upgrade: websocket"]),
    "connection upgrade": head(["GET / HTTP/1.1", "host: a", "connection: Upgrade"]),
    chunked: head(["POST / HTTP/1.1", "host: a", "transfer-encoding: chunked"]),
    expect: head(["POST / HTTP/1.1", "host: a", "expect: 100-continue", "content-length: 1"]),
    te: head(["GET / HTTP/1.1", "host: a", "te: trailers"]),
    "HTTP/1.0": head(["POST / HTTP/1.0", "host: a", "content-length: 0"]),
    "no host": head(["GET / HTTP/1.1", "x: y"]),
    "two hosts": head(["GET / HTTP/1.1", "host: a", "host: b"]),
    "odd host": head(["GET / HTTP/1.1", "host: a b"]),
    "two lengths": head(["POST / HTTP/1.1", "host: a", "content-length: 1", "content-length: 1"]),
    "bad length": head(["POST / HTTP/1.1", "host: a", "content-length: +1"]),
    "GET with a body": head(["GET / HTTP/1.1", "host: a", "content-length: 3"]),
    "absolute target": head(["GET http://a/ HTTP/1.1", "host: a"]),
    "unknown method": head(["BREW / HTTP/1.1", "host: a"]),
    "lower-case method": head(["post / HTTP/1.1", "host: a"]),
    "space before colon": head(["GET / HTTP/1.1", "host: a", "x : y"]),
    "folded line": head(["GET / HTTP/1.1", "host: a", "x: y", " z"]),
    "no colon": head(["GET / HTTP/1.1", "host: a", "xy"]),
    "bare LF": "GET / HTTP/1.1\r\nhost: a\nx: y\r\n\r\n",
    "bare CR": head(["GET / HTTP/1.1", "host: a", "x: y\rz"]),
    "not ASCII": head(["GET / HTTP/1.1", "host: a", "x: é"]),
    "control byte": head(["GET / HTTP/1.1", "host: a", "x: \u0001"]),
    "blank line first": "\r\n" + head(["GET / HTTP/1.1", "host: a"]),
    "too many fields": head([
      "GET / HTTP/1.1",
      "host: a",
      ...Array.from({ length: MAX_HEADER_FIELDS }, (_, i) => `x${i}: y`),
    ]),
  };
  for (const [name, text] of Object.entries(cases)) {
    assert.equal(parse(text), NOT_MINE, name);
  }
});

Deno.test("an incomplete head past a limit is left to the server behind (which answers 414/431)", () => {
  assert.equal(parse("GET /" + "a".repeat(MAX_REQUEST_LINE_BYTES)), NOT_MINE);
  assert.equal(parse("GET /" + "a".repeat(MAX_REQUEST_LINE_BYTES - 10)), null);
  const big = "GET / HTTP/1.1\r\nhost: a\r\nx: " + "y".repeat(MAX_HEAD_BYTES);
  assert.equal(parse(big), NOT_MINE);
  assert.equal(parse(big.slice(0, MAX_HEAD_BYTES - 10)), null);
  // A complete one past the limit too.
  assert.equal(parse(big + "\r\n\r\n"), NOT_MINE);
});
