import assert from "node:assert/strict";
import { encodeUtf8, fromHex, toHex } from "./bytes.ts";
import {
  encodeNotify,
  encodeNotifyHeader,
  encodeResponseNotify,
  MAX_NOTIFY_HEADER_BYTES,
  type NotifyHeader,
  parseNotifyHeader,
  parseResponseNotify,
} from "./notify.ts";
import { encodeSimpleTracing, parseSimpleTracing } from "./tracing.ts";
import {
  assertOnlyParseErrors,
  assertPrefixesNull,
  checkCodec,
  ITERATIONS,
  Rand,
  sha512,
  vector,
  vectorBytes,
} from "./_testing.ts";

/** Parses a whole notify body: header plus what follows it. */
function split(name: string): { header: NotifyHeader; rest: Uint8Array } {
  const bytes = vectorBytes(name);
  const parsed = parseNotifyHeader(bytes);
  assert.ok(parsed !== null);
  return { header: parsed.header, rest: bytes.subarray(parsed.headerLength) };
}

Deno.test("notify vector: notify_request header parses; body re-encodes exactly", () => {
  const v = vector("notify_request");
  const { header, rest } = split(v.name);
  assert.equal(toHex(header.topic), v.topic_hex);
  assert.equal(toHex(header.sha512), v.sha512_hex);
  assert.equal(header.tracing.length, 0);
  assert.equal(toHex(header.identifier), v.identifier_hex);
  assert.equal(header.length, 5n);
  assert.equal(toHex(rest), v.message_hex);
  assert.deepEqual(sha512(rest), header.sha512);
  const { length: _, ...fields } = header;
  assert.deepEqual(encodeNotify(fields, rest), vectorBytes(v.name));
});

Deno.test("notify vector: trailing byte (400): header parses, more bytes than declared", () => {
  const { header, rest } = split("notify_request_trailing_byte");
  assert.equal(BigInt(rest.length), header.length + 1n);
});

Deno.test("notify vector: missing byte (400): header parses, fewer bytes than declared", () => {
  const { header, rest } = split("notify_request_missing_byte");
  assert.equal(BigInt(rest.length), header.length - 1n);
});

Deno.test("notify vector: bad hash (400): header parses, claimed hash != SHA-512", () => {
  const { header, rest } = split("notify_request_bad_hash");
  assert.equal(BigInt(rest.length), header.length);
  assert.notDeepEqual(header.sha512, sha512(rest));
  assert.deepEqual(header.sha512, new Uint8Array(64));
});

Deno.test("notify: header prefixes return null (never throw); extra bytes are not read", () => {
  const bytes = vectorBytes("notify_request");
  const parsed = parseNotifyHeader(bytes)!;
  assert.equal(parsed.headerLength, bytes.length - 5);
  assertPrefixesNull(bytes.subarray(0, parsed.headerLength), parseNotifyHeader);
  assert.deepEqual(parseNotifyHeader(bytes.subarray(0, parsed.headerLength)), parsed);
});

Deno.test("notify: largest header is MAX_NOTIFY_HEADER_BYTES", () => {
  const header = encodeNotifyHeader({
    topic: new Uint8Array(65_535),
    sha512: new Uint8Array(64),
    tracing: new Uint8Array(65_535),
    identifier: new Uint8Array(255),
    length: 0xffffffffffffffffn,
  });
  assert.equal(header.length, MAX_NOTIFY_HEADER_BYTES);
  assert.equal(parseNotifyHeader(header)!.header.length, 0xffffffffffffffffn);
});

const OBSERVED = [
  ["response_notify_observed", 1, "01020304", 7],
  ["response_notify_observed_no_subscribers", 0, "", 3],
  ["response_notify_observed_subscriber_500_reports_3", 3, "01020304", 7],
  ["response_notify_observed_unsubscribe_immediate", 0, "01020304", 8],
  ["response_notify_observed_empty_subscriber_body", 0, "01020304", 9],
] as const;

for (const [name, count, identifier, entries] of OBSERVED) {
  Deno.test(`notify vector: ${name} parses, its tracing decodes, both re-encode`, () => {
    const bytes = vectorBytes(name);
    const res = parseResponseNotify(bytes);
    assert.equal(res.authorization, null);
    assert.equal(res.count, count);
    assert.equal(toHex(res.identifier), identifier);
    assert.deepEqual(encodeResponseNotify(res), bytes);
    const tracing = parseSimpleTracing(res.tracing);
    assert.equal(tracing.truncated, false);
    assert.equal(tracing.entries.length, entries);
    const names = tracing.entries.map((e) => e.name);
    assert.deepEqual(names.slice(0, 2), ["auth_tentatively_accepted", "auth_accepted"]);
    assert.equal(names.at(-1), "no_more_subscribers");
    assert.ok(tracing.receivedAtNs <= tracing.sentAtNs);
    assert.deepEqual(
      encodeSimpleTracing(tracing.entries, tracing.receivedAtNs, tracing.sentAtNs),
      res.tracing,
    );
  });
}

Deno.test("notify vector: observed tracing equals its tracing_decoded", () => {
  const v = vector("response_notify_observed");
  const res = parseResponseNotify(vectorBytes(v.name));
  assert.equal(toHex(res.tracing), v.tracing_hex);
  const decoded = v.tracing_decoded as {
    truncated_flag: number;
    entries: { name: string; extra: string; at: number }[];
    request_received_at_ns: number;
    response_sent_at_ns: number;
  };
  const tracing = parseSimpleTracing(res.tracing);
  assert.equal(tracing.truncated, decoded.truncated_flag === 1);
  assert.deepEqual(tracing.entries, decoded.entries);
  // JSON numbers lose precision above 2^53: compare within a microsecond.
  const near = (a: bigint, b: number) => assert.ok(Math.abs(Number(a) - b) < 1_000);
  near(tracing.receivedAtNs, decoded.request_received_at_ns);
  near(tracing.sentAtNs, decoded.response_sent_at_ns);
});

Deno.test("notify vector: minimal tracing is encodeSimpleTracing of its one entry", () => {
  const v = vector("response_notify_minimal_tracing");
  const tracing = encodeSimpleTracing(
    [{ name: "no_more_subscribers", extra: "{}", at: 1767225600.25 }],
    1767225600_200000000n,
    1767225600_300000000n,
  );
  assert.equal(tracing.length, 52);
  assert.equal(toHex(tracing), v.tracing_hex);
  const body = encodeResponseNotify({
    authorization: null,
    tracing,
    count: v.count as number,
    identifier: fromHex("01020304"),
  });
  assert.equal(toHex(body), v.hex);
  assert.deepEqual(parseResponseNotify(body).tracing, tracing);
});

Deno.test("notify property: random headers and responses round-trip", () => {
  const rand = new Rand(51);
  for (let i = 0; i < ITERATIONS; i++) {
    const h = {
      topic: rand.bytes(),
      sha512: sha512(rand.bytes()),
      tracing: rand.bytes(),
      identifier: rand.bytes(),
      length: BigInt(rand.int(1_000_000)) * BigInt(rand.int(1_000_000_000) + 1),
    };
    const bytes = encodeNotifyHeader(h);
    assert.deepEqual(parseNotifyHeader(bytes), { header: h, headerLength: bytes.length });
    const extra = rand.bytes();
    const longer = new Uint8Array([...bytes, ...extra]);
    assert.equal(parseNotifyHeader(longer)?.headerLength, bytes.length);
    if (i < 30) assertPrefixesNull(bytes, parseNotifyHeader);
  }
  checkCodec(
    52,
    (r) => ({
      authorization: r.optionalText(),
      tracing: r.bytes(),
      count: r.int(0x100000000),
      identifier: r.bytes(),
    }),
    encodeResponseNotify,
    parseResponseNotify,
  );
});

Deno.test("notify property: random bytes never throw from the header parser", () => {
  const rand = new Rand(53);
  for (let i = 0; i < ITERATIONS; i++) parseNotifyHeader(rand.bytes(200));
  assertOnlyParseErrors(54, vectorBytes("response_notify_observed"), parseResponseNotify);
});

Deno.test("notify limits: RangeError for a wrong-size hash or over-long fields", () => {
  const h = {
    topic: encodeUtf8("t"),
    sha512: new Uint8Array(64),
    tracing: new Uint8Array(0),
    identifier: new Uint8Array(0),
  };
  assert.throws(
    () => encodeNotify({ ...h, sha512: new Uint8Array(32) }, new Uint8Array(0)),
    RangeError,
  );
  assert.throws(
    () => encodeNotify({ ...h, identifier: new Uint8Array(256) }, new Uint8Array(0)),
    RangeError,
  );
  assert.throws(
    () => encodeNotify({ ...h, topic: new Uint8Array(65_536) }, new Uint8Array(0)),
    RangeError,
  );
  assert.throws(() => encodeNotifyHeader({ ...h, length: -1n }), RangeError);
  const res = { authorization: null, tracing: new Uint8Array(0), identifier: new Uint8Array(0) };
  assert.throws(() => encodeResponseNotify({ ...res, count: 0x100000000 }), RangeError);
  assert.throws(
    () => encodeResponseNotify({ ...res, count: 0, identifier: new Uint8Array(256) }),
    RangeError,
  );
});
