import assert from "node:assert/strict";
import * as stateful from "./mod.ts";
import * as protocol from "../mod.ts";
import { FROM_VECTOR, STATEFUL } from "./_testing_vectors.ts";

Deno.test("stateful mod: every vector class has a test mapping, and every mapping a vector", () => {
  const classes = STATEFUL.messages.map((m) => m.class).sort();
  assert.equal(classes.length, 26);
  assert.equal(new Set(classes).size, classes.length);
  assert.deepEqual(Object.keys(FROM_VECTOR).sort(), classes);
});

Deno.test("stateful mod: type numbers and flags equal the reference's", () => {
  assert.deepEqual({ ...stateful.S2BType }, STATEFUL.subscriber_to_broadcaster);
  assert.deepEqual({ ...stateful.B2SType }, STATEFUL.broadcaster_to_subscriber);
  assert.deepEqual({ MINIMAL_HEADERS: stateful.MINIMAL_HEADERS }, STATEFUL.flags);
});

Deno.test("stateful mod: exports the codec, which the protocol module leaves out (loaded by the first websocket)", () => {
  for (
    const name of [
      "parseS2B",
      "encodeS2B",
      "parseB2S",
      "encodeB2S",
      "encodeReceiveStreamHead",
      "pseudoUrl",
      "S2BType",
      "B2SType",
      "MINIMAL_HEADERS",
    ]
  ) {
    assert.ok(name in stateful, name);
    assert.ok(!(name in protocol), `${name} is not in protocol/mod.ts`);
  }
});
