import assert from "node:assert/strict";
import vectors from "../../tests/vectors/auth.json" with { type: "json" };
import { operationType } from "./_testing.ts";
import { noneAuth } from "./none.ts";
import type { AuthMessage } from "./types.ts";

const MSG: AuthMessage = { type: "check_subscriptions", url: "http://127.0.0.1:3002/v1/receive" };

for (const v of vectors.none.vectors) {
  Deno.test(`none ${v.operation}: produces nothing, accepts missing and garbage`, async () => {
    assert.ok(operationType(v.operation));
    const auth = noneAuth();
    assert.equal(await auth.authorize(MSG, new Uint8Array(), vectors.now), v.authorization);
    assert.equal(v.verify_missing_result, "OK");
    assert.equal(await auth.verify(MSG, new Uint8Array(), null, vectors.now), "ok");
    assert.equal(v.verify_garbage_result, "OK");
    assert.equal(await auth.verify(MSG, new Uint8Array(), "X-HMAC garbage", 0), "ok");
    await auth.close();
  });
}
