import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { fromHex, toHex } from "../bytes.ts";
import { ITERATIONS, Rand } from "../_testing.ts";
import { parseB2S } from "./b2s.ts";
import { pseudoUrl } from "./pseudo_url.ts";
import { parseS2B } from "./s2b.ts";
import { SESSIONS } from "./_testing_vectors.ts";
import { assertRangeError } from "./_testing.ts";

/** SHA-256(subscriber nonce ‖ broadcaster nonce), taken from the session's first two frames. */
function connectionNonce(frames: { hex: string }[]): Uint8Array {
  const configure = parseS2B(fromHex(frames[0]!.hex));
  const confirm = parseB2S(fromHex(frames[1]!.hex));
  assert.ok(configure.type === "configure" && confirm.type === "confirm_configure");
  return new Uint8Array(
    createHash("sha256").update(configure.subscriberNonce).update(confirm.broadcasterNonce)
      .digest(),
  );
}

Deno.test("pseudoUrl: counters are lower-case hex with a leading minus, like Python's format(n, 'x')", () => {
  const nonce = new Uint8Array(32);
  const base = `websocket:${"A".repeat(43)}=:`;
  for (
    const [counter, text] of [
      [1, "1"],
      [10, "a"],
      [16, "10"],
      [255, "ff"],
      [0, "0"],
      [-1, "-1"],
      [-10, "-a"],
      [-16, "-10"],
      [Number.MAX_SAFE_INTEGER, "1fffffffffffff"],
      [-Number.MAX_SAFE_INTEGER, "-1fffffffffffff"],
    ] as const
  ) {
    assert.equal(pseudoUrl(nonce, counter), base + text);
  }
  for (const bad of [0.5, NaN, Infinity, 2 ** 53]) assertRangeError(() => pseudoUrl(nonce, bad));
});

Deno.test("pseudoUrl: standard padded base64, '+' and '/' included", () => {
  const nonce = fromHex("fbff" + "00".repeat(29) + "fe");
  assert.equal(pseudoUrl(nonce, 1), `websocket:+/8${"A".repeat(38)}P4=:1`);
  const rand = new Rand(5);
  for (let i = 0; i < ITERATIONS; i++) {
    const bytes = rand.bytes(48);
    assert.equal(
      pseudoUrl(bytes, i),
      `websocket:${Buffer.from(bytes).toString("base64")}:${i.toString(16)}`,
    );
  }
});

Deno.test("pseudoUrl: every counter-bound frame of the recorded sessions", () => {
  let checked = 0;
  for (const session of SESSIONS.sessions) {
    const nonce = connectionNonce(session.frames);
    assert.equal(toHex(nonce), session.connection_nonce_hex);
    assert.equal(pseudoUrl(nonce, 1), `websocket:${session.connection_nonce_b64}:1`);
    for (const f of session.frames) {
      const counter = f.subscriber_counter ?? f.broadcaster_counter;
      if (counter === undefined) continue;
      assert.equal(pseudoUrl(nonce, counter), f.pseudo_url, `${session.name} #${f.i}`);
      checked++;
    }
  }
  assert.equal(checked, 34);
  assert.equal(
    pseudoUrl(connectionNonce(SESSIONS.sessions[1]!.frames), -1),
    "websocket:NPbneLQ7rzFqpJSc2aJ+BIg2HRI2Jy6/yTUbF38zR7M=:-1",
  );
});
