import assert from "node:assert/strict";
import {
  BroadcasterToSubscriberType,
  MAX_GLOB_BYTES,
  SubscriberToBroadcasterType,
} from "./types.ts";
import { VECTORS } from "./_testing.ts";

Deno.test("types: subscriber-to-broadcaster enum equals the reference's", () => {
  assert.deepEqual(
    { ...SubscriberToBroadcasterType },
    VECTORS.enums.SubscriberToBroadcasterStatelessMessageType,
  );
});

Deno.test("types: broadcaster-to-subscriber enum equals the reference's", () => {
  assert.deepEqual(
    { ...BroadcasterToSubscriberType },
    VECTORS.enums.BroadcasterToSubscriberStatelessMessageType,
  );
});

Deno.test("types: glob limit is the SQLite-safe 50 000 bytes", () => {
  assert.equal(MAX_GLOB_BYTES, 50_000);
});
