import assert from "node:assert/strict";
import * as protocol from "./mod.ts";
import { VECTORS } from "./_testing.ts";

/** Every message vector, each asserted by name in one of this folder's tests. */
const COVERED = [
  "subscribe_exact_request",
  "subscribe_exact_request_non_utf8_topic_no_recovery",
  "subscribe_glob_request",
  "subscribe_glob_request_invalid_utf8",
  "unsubscribe_exact_request_missing",
  "subscribe_exact_request_truncated",
  "subscribe_exact_request_trailing_bytes",
  "response_generic",
  "response_generic_with_authorization",
  "notify_request",
  "notify_request_trailing_byte",
  "notify_request_missing_byte",
  "notify_request_bad_hash",
  "response_notify_observed",
  "response_notify_observed_no_subscribers",
  "response_notify_observed_subscriber_500_reports_3",
  "response_notify_observed_unsubscribe_immediate",
  "response_notify_observed_empty_subscriber_body",
  "response_notify_minimal_tracing",
  "receive_request",
  "response_confirm_receive",
  "response_unsubscribe_immediate",
  "missed_request",
  "response_confirm_missed",
  "check_subscriptions_request",
  "response_check_subscriptions",
  "set_subscriptions_request",
  "set_subscriptions_request_wrong_etag",
  "set_subscriptions_request_unsorted",
  "receive_for_websockets_rejection",
  "missed_for_websockets_wrong_url",
];

Deno.test("mod: the vector file holds exactly the messages the tests cover", () => {
  assert.deepEqual(VECTORS.messages.map((m) => m.name).sort(), [...COVERED].sort());
});

Deno.test("mod: re-exports every codec", () => {
  for (
    const name of [
      "ParseError",
      "Reader",
      "Writer",
      "SubscriberToBroadcasterType",
      "MAX_GLOB_BYTES",
      "parseSubscribeExact",
      "encodeResponseGeneric",
      "parseCheckSubscriptions",
      "parseSetSubscriptions",
      "strongEtag",
      "compareGlobs",
      "parseNotifyHeader",
      "MAX_NOTIFY_HEADER_BYTES",
      "parseReceiveResponse",
      "reprDigestHeader",
      "parseMissed",
      "encodeSimpleTracing",
    ]
  ) {
    assert.ok(name in protocol, name);
  }
});

Deno.test("mod: Writer keeps every write when it grows (regression)", () => {
  const w = new protocol.Writer(1);
  for (let i = 0; i < 300; i++) w.u8(i & 0xff).u16(i).u32(i).bytes(new Uint8Array([i & 0xff]));
  const r = new protocol.Reader(w.finish());
  for (let i = 0; i < 300; i++) {
    assert.equal(r.u8("a"), i & 0xff);
    assert.equal(r.u16("b"), i);
    assert.equal(r.u32("c"), i);
    assert.equal(r.u8("d"), i & 0xff);
  }
  r.end();
});
