import assert from "node:assert/strict";
import vectors from "../../tests/vectors/auth.json" with { type: "json" };
import extra from "../../tests/vectors/auth_extra.json" with { type: "json" };
import { fromHex, toHex } from "../protocol/mod.ts";
import { messageFromInputs, operationType } from "./_testing.ts";
import { encodeToSign, MESSAGE_TYPE_VALUES } from "./signed_fields.ts";
import type { AuthMessageType } from "./types.ts";

const TIMESTAMP = vectors.timestamp;

Deno.test("message type values match the reference's enum", () => {
  const ref = vectors.hmac.message_types as Record<string, number>;
  for (const [name, value] of Object.entries(ref)) {
    assert.equal(MESSAGE_TYPE_VALUES[name.toLowerCase() as AuthMessageType], value, name);
  }
  assert.equal(Object.keys(MESSAGE_TYPE_VALUES).length, Object.keys(ref).length);
});

for (const v of vectors.hmac.vectors) {
  Deno.test(`encodeToSign reproduces the reference bytes: ${v.operation}`, () => {
    const type = v.message_type.toLowerCase() as AuthMessageType;
    assert.equal(type, operationType(v.operation));
    const msg = messageFromInputs(type, v.inputs);
    const got = encodeToSign(msg, TIMESTAMP, v.nonce, fromHex(v.inputs.tracing_hex));
    assert.equal(toHex(got), v.to_sign_hex);
  });
}

for (const v of extra.vectors) {
  Deno.test(`encodeToSign reproduces the reference bytes (edge): ${v.note}`, () => {
    const msg = messageFromInputs(v.message_type.toLowerCase() as AuthMessageType, v.inputs);
    const got = encodeToSign(msg, Math.floor(v.now), v.nonce, fromHex(v.inputs.tracing_hex));
    assert.equal(toHex(got), v.to_sign_hex);
  });
}

const SHA = new Uint8Array(64);
const cases: [string, () => Uint8Array][] = [
  [
    "a nonce over 255 bytes",
    () =>
      encodeToSign({ type: "check_subscriptions", url: "u" }, 1, "a".repeat(256), new Uint8Array()),
  ],
  [
    "a url over 65535 bytes",
    () =>
      encodeToSign(
        { type: "check_subscriptions", url: "u".repeat(65536) },
        1,
        "",
        new Uint8Array(),
      ),
  ],
  [
    "tracing over 65535 bytes",
    () => encodeToSign({ type: "check_subscriptions", url: "u" }, 1, "", new Uint8Array(65536)),
  ],
  ["an identifier over 255 bytes", () =>
    encodeToSign(
      { type: "notify", topic: new Uint8Array(1), identifier: new Uint8Array(256), sha512: SHA },
      1,
      "",
      new Uint8Array(),
    )],
  ["a continue-receive part id over 255", () =>
    encodeToSign(
      { type: "stateful_continue_receive", identifier: new Uint8Array(1), partId: 256, url: "u" },
      1,
      "",
      new Uint8Array(),
    )],
  ["a negative subscriber count", () =>
    encodeToSign(
      { type: "confirm_receive", identifier: new Uint8Array(1), numSubscribers: -1, url: "u" },
      1,
      "",
      new Uint8Array(),
    )],
  ["a level over 2^32-1", () =>
    encodeToSign(
      {
        type: "stateful_enable_zstd_preset",
        url: "u",
        compressorId: 1,
        level: 2 ** 32,
        minSize: 0,
        maxSize: 1,
      },
      1,
      "",
      new Uint8Array(),
    )],
  ["a sha512 that is not 64 bytes", () =>
    encodeToSign(
      {
        type: "notify",
        topic: new Uint8Array(1),
        identifier: new Uint8Array(1),
        sha512: SHA.slice(1),
      },
      1,
      "",
      new Uint8Array(),
    )],
  [
    "a negative timestamp",
    () => encodeToSign({ type: "check_subscriptions", url: "u" }, -1, "", new Uint8Array()),
  ],
];
for (const [what, fn] of cases) {
  Deno.test(`encodeToSign throws RangeError for ${what}`, () => {
    assert.throws(fn, RangeError);
  });
}

Deno.test("encodeToSign accepts the largest fields that fit", () => {
  const out = encodeToSign(
    { type: "check_subscriptions", url: "u".repeat(65535) },
    2 ** 53 - 1,
    "é".repeat(127) + "a",
    new Uint8Array(65535),
  );
  assert.equal(out.length, 1 + 8 + 1 + 255 + 2 + 65535 + 2 + 65535);
});
