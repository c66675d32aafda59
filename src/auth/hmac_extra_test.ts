import assert from "node:assert/strict";
import extra from "../../tests/vectors/auth_extra.json" with { type: "json" };
import { fromHex } from "../protocol/mod.ts";
import { messageFromInputs } from "./_testing.ts";
import { hmacAuth } from "./hmac.ts";
import { memoryReplayStore } from "./replay_store.ts";
import type { AuthMessageType } from "./types.ts";

const SECRETS: Record<string, Uint8Array> = {
  to_broadcaster: fromHex(extra.to_broadcaster_secret_hex),
  to_subscriber: fromHex(extra.to_subscriber_secret_hex),
};

for (const v of extra.vectors) {
  Deno.test(`hmac edge vector ${v.operation} (${v.note}): same text as the reference, verifies once`, async () => {
    const auth = hmacAuth({
      secret: SECRETS[v.direction]!,
      replay: memoryReplayStore(),
      nonce: () => v.nonce,
    });
    const msg = messageFromInputs(v.message_type.toLowerCase() as AuthMessageType, v.inputs);
    const tracing = fromHex(v.inputs.tracing_hex);
    assert.equal(await auth.authorize(msg, tracing, v.now), v.authorization);
    assert.equal(v.reference_verify_result, "OK");
    assert.equal(await auth.verify(msg, tracing, v.authorization, v.now), "ok");
    assert.equal(await auth.verify(msg, tracing, v.authorization, v.now), "forbidden");
    await auth.close();
  });
}
