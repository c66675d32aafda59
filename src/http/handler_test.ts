import assert from "node:assert/strict";
import { normalisePrefix } from "./handler.ts";

Deno.test("path prefixes get one leading slash and no trailing one", () => {
  assert.equal(normalisePrefix(""), "");
  assert.equal(normalisePrefix("/"), "");
  assert.equal(normalisePrefix("ps"), "/ps");
  assert.equal(normalisePrefix("/a/b/"), "/a/b");
  assert.equal(normalisePrefix("/ps//"), "/ps");
});

Deno.test("plainPath: takes plain urls as the URL parser would, leaves the rest to it", async () => {
  const { plainPath } = await import("./handler.ts");
  const urls = [
    "http://127.0.0.1:3003/v1/subscribe/exact",
    "http://example.com/v1/notify?x=1#y",
    "https://a-b.example:443/pubsub/v1/notify",
    "http://h/",
    "http://h/a/",
  ];
  for (const url of urls) assert.equal(plainPath(url), new URL(url).pathname, url);
  for (
    const url of [
      "http://h/v1/../v1/notify",
      "http://h/v1/%6Eotify",
      "http://h/v1\\\\notify",
      "http://h/v1/./notify",
      "http://exa mple/v1/notify",
      "http://user@h/v1/notify",
      "http://h:99999999/v1",
      "http://h:65536/v1",
      "http://h/ä",
      "http://h",
    ]
  ) {
    assert.equal(plainPath(url), null, url);
  }
});
