/**
 * Test-only helpers for the stateful codecs: random messages of every type
 * and the property checks the s2b and b2s tests share. Never imported by src
 * code; excluded from publishing.
 *
 * @module
 */

import assert from "node:assert/strict";
import { encodeUtf8, fromHex, ParseError, toHex } from "../bytes.ts";
import { assertOnlyParseErrors, assertParseError, Rand } from "../_testing.ts";
import type { B2SMessage, S2BMessage, StreamStart } from "./types.ts";
import { expectedMessage, STATEFUL } from "./_testing_vectors.ts";

type Message = S2BMessage | B2SMessage;

/** A minimal-form frame of `type` with the given raw header values, then `body`. */
export function minimalFrame(
  type: number,
  values: Uint8Array[],
  body: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const out = [0, 1, type >> 8, type & 0xff];
  for (const v of values) out.push(v.length >> 8, v.length & 0xff, ...v);
  return Uint8Array.from([...out, ...body]);
}

/** An expanded-form frame of `type` with the given raw (name, value) pairs, then `body`. */
export function expandedFrame(
  type: number,
  headers: [Uint8Array | string, Uint8Array | string][],
  body: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const out = [0, 0, type >> 8, type & 0xff, headers.length >> 8, headers.length & 0xff];
  for (const pair of headers) {
    for (const part of pair) {
      const b = typeof part === "string" ? encodeUtf8(part) : part;
      out.push(b.length >> 8, b.length & 0xff, ...b);
    }
  }
  return Uint8Array.from([...out, ...body]);
}

/**
 * Every vector of `direction` parses from both forms to the vector's fields,
 * and those fields encode to both forms byte for byte (minimal by default).
 */
export function assertVectors<T extends Message>(
  direction: "s2b" | "b2s",
  parse: (b: Uint8Array) => T,
  encode: (m: T, minimal?: boolean) => Uint8Array,
): number {
  const vectors = STATEFUL.messages.filter((m) => m.direction === direction);
  for (const v of vectors) {
    const expected = expectedMessage(v) as T;
    assert.deepEqual(parse(fromHex(v.minimal_hex)), expected, `${v.class} minimal`);
    assert.deepEqual(parse(fromHex(v.expanded_hex)), expected, `${v.class} expanded`);
    assert.equal(toHex(encode(expected)), v.minimal_hex, `${v.class} encode default`);
    assert.equal(toHex(encode(expected, true)), v.minimal_hex, `${v.class} encode minimal`);
    assert.equal(toHex(encode(expected, false)), v.expanded_hex, `${v.class} encode expanded`);
  }
  return vectors.length;
}

/** Prefixes and random mutations of every vector of `direction` throw nothing but ParseError. */
export function assertVectorsHostile(
  direction: "s2b" | "b2s",
  parse: (b: Uint8Array) => Message,
  seed: number,
): void {
  STATEFUL.messages.filter((m) => m.direction === direction).forEach((v, i) => {
    for (const hex of [v.minimal_hex, v.expanded_hex]) {
      assertPrefixes(fromHex(hex), parse);
      assertOnlyParseErrors(seed + 2 * i + (hex === v.minimal_hex ? 0 : 1), fromHex(hex), parse);
    }
  });
}

/** The body of `msg` (empty for types without one). */
export function bodyOf(msg: Message): Uint8Array {
  if ("body" in msg) return msg.body;
  if (msg.type === "enable_zstd_custom") return msg.dictionary;
  return new Uint8Array(0);
}

/**
 * Every strict prefix of `frame` either cuts into the headers and throws
 * ParseError, or keeps them whole and parses with the body cut short.
 */
export function assertPrefixes(frame: Uint8Array, parse: (b: Uint8Array) => Message): void {
  const whole = parse(frame);
  const headerEnd = frame.length - bodyOf(whole).length;
  for (let n = 0; n < frame.length; n++) {
    const prefix = frame.subarray(0, n);
    if (n < headerEnd) assertParseError(() => parse(prefix));
    else {
      const body = bodyOf(parse(prefix));
      assert.equal(body.length, n - headerEnd);
      assert.equal(body.byteOffset, frame.byteOffset + headerEnd);
    }
  }
}

/** Round-trips `msg` through both header forms and checks every prefix of each. */
export function assertRoundTrip<T extends Message>(
  msg: T,
  encode: (m: T, minimal?: boolean) => Uint8Array,
  parse: (b: Uint8Array) => Message,
  prefixes: boolean,
): void {
  for (const minimal of [true, false]) {
    const frame = encode(msg, minimal);
    assert.deepEqual(parse(frame), msg, `${msg.type} minimal=${minimal}`);
    if (prefixes) assertPrefixes(frame, parse);
  }
}

/** Asserts that `fn` throws a RangeError. */
export function assertRangeError(fn: () => unknown, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RangeError, `expected RangeError, got ${String(e)}`);
    if (message) assert.match(e.message, message);
    return true;
  });
}

/** Asserts that whatever `fn` throws is a ParseError (it may also return). */
export function assertNothingButParseError(fn: () => unknown, what: string): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ParseError, `non-ParseError for ${what}: ${String(e)}`);
  }
}

function common(r: Rand): { authorization: string | null; tracing: Uint8Array } {
  return { authorization: r.optionalText(), tracing: r.bytes() };
}

function bytes(r: Rand, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => r.int(256));
}

/** A random non-negative safe integer, often small, sometimes huge. */
export function safeInt(r: Rand, maxBytes = 7): number {
  const pick = r.int(4);
  if (pick === 0) return 0;
  if (pick === 1) return r.int(256);
  if (pick === 2) return r.int(0x10000);
  return maxBytes >= 7 ? Math.floor(r.next() * Number.MAX_SAFE_INTEGER) : r.int(256 ** maxBytes);
}

/** A random u64, including the maximum. */
export function u64(r: Rand): bigint {
  const pick = r.int(4);
  if (pick === 0) return 0n;
  if (pick === 1) return 0xffffffffffffffffn;
  return (BigInt(r.int(0x100000000)) << 32n) + BigInt(r.int(0x100000000)) >> BigInt(r.int(64));
}

function start(r: Rand): StreamStart {
  return {
    topic: r.bytes(),
    compressor: safeInt(r),
    compressedLength: u64(r),
    decompressedLength: u64(r),
    compressedSha512: bytes(r, 64),
  };
}

function part(r: Rand) {
  const partId = r.chance(0.4) ? 0 : safeInt(r);
  return {
    ...common(r),
    identifier: bytes(r, r.int(65)),
    partId,
    first: partId === 0 ? start(r) : null,
    body: r.bytes(100),
  };
}

/** A random subscriber → broadcaster message of any type. */
export function randomS2B(r: Rand): S2BMessage {
  switch (r.int(9)) {
    case 0:
      return {
        type: "configure",
        subscriberNonce: bytes(r, 32),
        enableZstd: r.chance(0.5),
        enableTraining: r.chance(0.5),
        initialDict: r.int(0x10000),
        ...common(r),
      };
    case 1:
      return {
        type: r.chance(0.5) ? "subscribe_exact" : "unsubscribe_exact",
        ...common(r),
        topic: r.bytes(),
      };
    case 2:
      return {
        type: r.chance(0.5) ? "subscribe_glob" : "unsubscribe_glob",
        ...common(r),
        glob: r.text(),
      };
    case 3:
      return {
        type: "notify",
        ...common(r),
        identifier: bytes(r, r.int(65)),
        ...start(r),
        body: r.bytes(100),
      };
    case 4:
    case 5:
      return { type: "notify_stream", ...part(r) };
    case 6:
      return {
        type: "continue_receive",
        identifier: bytes(r, r.int(65)),
        partId: safeInt(r),
        ...common(r),
      };
    default:
      return {
        type: "confirm_receive",
        identifier: bytes(r, r.int(65)),
        ...common(r),
        numSubscribers: r.int(0x100000000),
      };
  }
}

/** A random broadcaster → subscriber message of any type. */
export function randomB2S(r: Rand): B2SMessage {
  const zstd = () => ({
    identifier: safeInt(r),
    compressionLevel: r.int(0x10000) - 0x8000,
    minSize: safeInt(r, 4),
    maxSize: u64(r),
    ...common(r),
  });
  switch (r.int(11)) {
    case 0:
      return { type: "confirm_configure", broadcasterNonce: bytes(r, 32), ...common(r) };
    case 1: {
      const type = r.chance(0.5) ? "confirm_subscribe_exact" : "confirm_unsubscribe_exact";
      return { type, topic: r.bytes(), ...common(r) };
    }
    case 2: {
      const type = r.chance(0.5) ? "confirm_subscribe_glob" : "confirm_unsubscribe_glob";
      return { type, glob: r.text(), ...common(r) };
    }
    case 3:
      return {
        type: "confirm_notify",
        identifier: r.bytes(),
        subscribers: safeInt(r),
        ...common(r),
      };
    case 4:
      return { type: "continue_notify", identifier: r.bytes(), partId: safeInt(r), ...common(r) };
    case 5:
    case 6:
      return { type: "receive_stream", ...part(r) };
    case 7:
      return { type: "enable_zstd_preset", ...zstd() };
    case 8:
      return {
        type: "enable_zstd_custom",
        ...zstd(),
        sha512: bytes(r, 64),
        dictionary: r.bytes(100),
      };
    case 9:
      return { type: "disable_zstd_custom", identifier: safeInt(r), ...common(r) };
    default:
      return { type: "missed", ...common(r), topic: r.bytes() };
  }
}
