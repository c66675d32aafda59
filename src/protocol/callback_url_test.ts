import assert from "node:assert/strict";
import { callbackUrlProblem } from "./callback_url.ts";

Deno.test("callback urls: absolute http(s) with a host, no credentials, no whitespace", () => {
  for (
    const good of [
      "http://127.0.0.1:3002/v1/receive",
      "https://example.com/hook?x=1",
      "HTTP://Example.com",
      "http://[::1]:8080/r",
      "https://例え.jp/受信",
    ]
  ) {
    assert.equal(callbackUrlProblem(good), null, good);
  }
  const bad: [string, RegExp][] = [
    ["", /absolute/],
    ["/v1/receive", /absolute/],
    ["example.com/receive", /absolute/],
    ["ftp://example.com/", /http or https/],
    ["file:///etc/passwd", /http or https/],
    ["javascript:alert(1)", /http or https/],
    ["http:example.com", /scheme:\/\/host/],
    ["http:/example.com", /scheme:\/\/host/],
    ["http://", /valid url|host/],
    ["http://user:pw@example.com/", /credentials/],
    ["http://user@example.com/", /credentials/],
    [" http://example.com/", /whitespace/],
    ["http://example.com/a b", /whitespace/],
    ["http://example.com/\n", /whitespace/],
    ["http://exa mple.com/", /whitespace/],
    ["http://[::1/", /valid url/],
  ];
  for (const [url, why] of bad) {
    const problem = callbackUrlProblem(url);
    assert.ok(problem !== null, `${JSON.stringify(url)} accepted`);
    assert.match(problem, why, url);
  }
});
