import assert from "node:assert/strict";
import vectors from "../../tests/vectors/auth.json" with { type: "json" };
import { operationType } from "./_testing.ts";
import { tokenAuth } from "./token.ts";
import type { AuthMessage, AuthResult } from "./types.ts";

const T = vectors.token;
const TOKENS: Record<string, string> = {
  to_broadcaster: T.to_broadcaster_token,
  to_subscriber: T.to_subscriber_token,
};
// Token ignores the message; any one will do.
const MSG: AuthMessage = { type: "check_subscriptions", url: "http://127.0.0.1:3002/v1/receive" };
const NOW = vectors.now;

for (const v of T.vectors) {
  Deno.test(`token ${v.operation}: authorize gives the reference text, verify ok every time`, async () => {
    assert.ok(operationType(v.operation));
    const auth = tokenAuth(TOKENS[v.direction]!);
    assert.equal(auth.kind, "token");
    assert.equal(await auth.authorize(MSG, new Uint8Array(), NOW), v.authorization);
    assert.equal(await auth.verify(MSG, new Uint8Array(), v.authorization, NOW), "ok");
    assert.equal(v.verify_result, "OK");
    assert.equal(await auth.verify(MSG, new Uint8Array(), v.authorization, NOW), "ok");
    assert.equal(v.verify_again_result, "OK");
    await auth.close();
  });
}

for (const row of T.failures) {
  // The reference raises TypeError on non-ASCII text; we answer forbidden.
  const want = row.result.startsWith("exception") ? "forbidden" : row.result.toLowerCase();
  Deno.test(`token verify: ${row.description} → ${want}`, async () => {
    const auth = tokenAuth(row.expected_token);
    assert.equal(
      await auth.verify(MSG, new Uint8Array(), row.authorization, NOW),
      want as AuthResult,
    );
  });
}

Deno.test("token verify never throws on non-ASCII, lone surrogates or any length", async () => {
  const auth = tokenAuth("sécret-☃");
  assert.equal(await auth.verify(MSG, new Uint8Array(), "Bearer sécret-☃", NOW), "ok");
  const inputs = [
    "Bearer s\u00e9cret-\u2603 ",
    "Bearer \ud800",
    "\u0000",
    "Bearer " + "x".repeat(100_000),
    "Bearer",
    "Bearer sécret-",
    "😀".repeat(50),
  ];
  for (const text of inputs) {
    assert.equal(await auth.verify(MSG, new Uint8Array(), text, NOW), "forbidden", text);
  }
});

Deno.test("token compares whole text: a prefix or extension of the secret is forbidden", async () => {
  const auth = tokenAuth("abc");
  for (const text of ["Bearer ab", "Bearer abcd", "Bearer abc\n", "Bearer ABC"]) {
    assert.equal(await auth.verify(MSG, new Uint8Array(), text, NOW), "forbidden", text);
  }
  assert.equal(await auth.verify(MSG, new Uint8Array(), null, NOW), "unauthorized");
});
