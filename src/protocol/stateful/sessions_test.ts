import assert from "node:assert/strict";
import { fromHex, toHex } from "../bytes.ts";
import { assertOnlyParseErrors } from "../_testing.ts";
import { encodeB2S, encodeReceiveStreamHead, parseB2S } from "./b2s.ts";
import { encodeS2B, parseS2B } from "./s2b.ts";
import { SESSIONS } from "./_testing_vectors.ts";
import { assertPrefixes } from "./_testing.ts";

Deno.test("sessions: the three recorded sessions are all here", () => {
  assert.deepEqual(
    SESSIONS.sessions.map((s) => [s.name, s.frames.length]),
    [["none_uncompressed", 26], ["hmac_uncompressed", 26], ["hmac_preset_dictionary", 20]],
  );
});

Deno.test("sessions: every recorded frame parses as its type and re-encodes to the same bytes", () => {
  let count = 0;
  for (const session of SESSIONS.sessions) {
    for (const f of session.frames) {
      const frame = fromHex(f.hex);
      const where = `${session.name} #${f.i} ${f.dir} ${f.type}`;
      assert.equal(frame.length, f.len, where);
      const msg = f.dir === "s2b" ? parseS2B(frame) : parseB2S(frame);
      assert.equal(msg.type, f.type.toLowerCase(), where);
      assert.equal(msg.authorization, f.authorization, where);
      const again = f.dir === "s2b" ? encodeS2B(parseS2B(frame)) : encodeB2S(parseB2S(frame));
      assert.equal(toHex(again), f.hex, where);
      if (msg.type === "receive_stream") {
        const { type: _, body, ...head } = msg;
        assert.equal(toHex(encodeReceiveStreamHead(head)) + toHex(body), f.hex, where);
      }
      count++;
    }
  }
  assert.equal(count, 72);
});

Deno.test("sessions: the nonces are the CONFIGURE and CONFIRM_CONFIGURE fields", () => {
  for (const session of SESSIONS.sessions) {
    const configure = parseS2B(fromHex(session.frames[0]!.hex));
    const confirm = parseB2S(fromHex(session.frames[1]!.hex));
    assert.ok(configure.type === "configure" && confirm.type === "confirm_configure");
    assert.equal(toHex(configure.subscriberNonce), session.subscriber_nonce_hex);
    assert.equal(toHex(confirm.broadcasterNonce), session.broadcaster_nonce_hex);
    assert.equal(configure.enableZstd, session.name === "hmac_preset_dictionary");
    assert.equal(configure.initialDict, session.name === "hmac_preset_dictionary" ? 2 : 0);
  }
});

Deno.test("sessions: a 3-part stream has part ids 0, 1, 2 and only part 0 carries the start", () => {
  for (const dir of ["s2b", "b2s"] as const) {
    const type = dir === "s2b" ? "NOTIFY_STREAM" : "RECEIVE_STREAM";
    const parts = SESSIONS.sessions[0]!.frames
      .filter((f) => f.type === type)
      .map((f) => dir === "s2b" ? parseS2B(fromHex(f.hex)) : parseB2S(fromHex(f.hex)))
      .filter((p) => p.type === "notify_stream" || p.type === "receive_stream")
      .filter((p) => p.partId !== 0 || p.first?.compressedLength === 10_000n);
    assert.deepEqual(parts.map((p) => [p.partId, p.first !== null]), [[0, true], [1, false], [
      2,
      false,
    ]]);
    assert.ok(parts.every((p) => toHex(p.identifier) === toHex(parts[0]!.identifier)));
    assert.equal(parts.reduce((n, p) => n + p.body.length, 0), 10_000);
  }
});

Deno.test("sessions: prefixes and mutations of every recorded frame throw nothing but ParseError", () => {
  SESSIONS.sessions.forEach((session, s) => {
    session.frames.forEach((f, i) => {
      const parse = f.dir === "s2b" ? parseS2B : parseB2S;
      const frame = fromHex(f.hex);
      assertPrefixes(frame, parse);
      assertOnlyParseErrors(1000 * s + i, frame.subarray(0, 300), parse);
    });
  });
});
