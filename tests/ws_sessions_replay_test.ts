/**
 * Replays the sessions recorded between the official client and the
 * reference broadcaster (`tests/vectors/stateful_sessions.json`,
 * docs/protocol/websocket.md#vectors) against our broadcaster over a real websocket,
 * and compares what it answers with what the reference answered, frame by
 * frame and field by field.
 *
 * Subscriber → broadcaster: every recorded frame is re-created from its
 * parsed fields, changing only what is bound to the recorded broadcaster:
 * hmac codes are signed again now, with the session's to-broadcaster secret
 * and over our pseudo-urls, and acknowledgements name our delivery
 * identifiers. Everything else (the subscriber nonce, topics, globs, notify
 * identifiers, tracing, lengths, bodies, the part split, the header form) is
 * as recorded, and each re-created frame has the recorded length.
 *
 * Broadcaster → subscriber: our frames have the recorded types in the
 * recorded order (CONFIRM_NOTIFY may trade places with the RECEIVE_STREAM
 * parts of the same message, the file's `order_note`), the recorded header
 * form and length, and every field equal to the recorded one, byte for byte
 * once re-encoded, except the broadcaster nonce, the delivery identifiers and
 * the authorizations. Those are checked for validity instead: a 32-byte
 * nonce, 4-byte identifiers fresh per delivery and shared by its parts, and
 * (hmac) codes of the recorded shape, timestamped now, that verify with the
 * session's to-subscriber secret over our pseudo-urls, with one
 * broadcaster-counter value per delivery (docs/decisions.md#one-counter-value-per-delivery: parts
 * ≥ 1 signed with part 0's url, not with the reference's per-part url).
 *
 * @module
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import sessionsJson from "./vectors/stateful_sessions.json" with { type: "json" };
import {
  type AuthConfig,
  type AuthMessage,
  type AuthResult,
  hmacAuth,
  memoryReplayStore,
  noneAuth,
} from "../src/auth/mod.ts";
import { bytesEqual, fromHex, toHex } from "../src/protocol/bytes.ts";
import {
  type B2SMessage,
  encodeB2S,
  encodeS2B,
  parseB2S,
  parseS2B,
  pseudoUrl,
  type S2BMessage,
  type StreamStart,
} from "../src/protocol/stateful/mod.ts";
import { CloseCode } from "../src/ws/close.ts";
import { startBroadcaster } from "./_harness.ts";
import { WsClient } from "./_ws_client.ts";

/** One recorded frame (the fields this replay reads). */
interface Frame {
  readonly i: number;
  readonly dir: "s2b" | "b2s";
  readonly type: string;
  readonly len: number;
  readonly hex: string;
  readonly pseudo_url?: string;
  readonly confirm_notify_signed_hash?: "uncompressed" | "compressed" | "decompressed";
}

/** One recorded session. */
interface RecordedSession {
  readonly name: string;
  readonly auth: "none" | "hmac";
  readonly frames: readonly Frame[];
  readonly results: { readonly notify_large: { readonly len: number; readonly sha512: string } };
}

const FILE = sessionsJson as unknown as {
  readonly order_note: string;
  readonly hmac: { readonly to_broadcaster_secret_hex: string; to_subscriber_secret_hex: string };
  readonly sessions: readonly RecordedSession[];
  readonly compression: {
    readonly preset_dictionary_session: {
      readonly compressor_id: number;
      readonly level: number;
      readonly dictionary_b64: string;
      readonly notify_frame_index: number;
      readonly decompressed_sha512: string;
    };
  };
};

const TO_BROADCASTER_SECRET = fromHex(FILE.hmac.to_broadcaster_secret_hex);
const TO_SUBSCRIBER_SECRET = fromHex(FILE.hmac.to_subscriber_secret_hex);
/** The broadcaster's outgoing part size in every recorded session. */
const PART_LIMIT = 4096;
/** `X-HMAC <timestamp>:<nonce>:<code>` (docs/protocol/auth.md#authorization-text). */
const HMAC_TEXT = /^X-HMAC ([0-9]+):([A-Za-z0-9_-]+):([A-Za-z0-9+/]{86}==)$/;
/** CONFIRM_NOTIFY and the RECEIVE_STREAM parts of the same message may trade places. */
const SWAPPABLE: ReadonlySet<string> = new Set(["confirm_notify", "receive_stream"]);
const EMPTY = new Uint8Array(0);

const now = () => Date.now() / 1000;
const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

function session(name: string): RecordedSession {
  const found = FILE.sessions.find((s) => s.name === name);
  if (found === undefined) throw new Error(`No recorded session named ${name}`);
  return found;
}

function parseFrame(f: Frame): S2BMessage | B2SMessage {
  return f.dir === "s2b" ? parseS2B(fromHex(f.hex)) : parseB2S(fromHex(f.hex));
}

/** Header form: the flags, minimal (1) or expanded (0). */
function minimalOf(frame: Uint8Array): boolean {
  return ((frame[0]! << 8) | frame[1]!) === 1;
}

/** A fresh strategy per direction, as a broadcaster or a subscriber holds them. */
function authOf(s: RecordedSession): AuthConfig {
  if (s.auth === "none") return { toBroadcaster: noneAuth(), toSubscriber: noneAuth() };
  return {
    toBroadcaster: hmacAuth({ secret: TO_BROADCASTER_SECRET, replay: memoryReplayStore() }),
    toSubscriber: hmacAuth({ secret: TO_SUBSCRIBER_SECRET, replay: memoryReplayStore() }),
  };
}

/** Verifies an hmac authorization with a fresh replay store (so checks never interact). */
async function hmacVerdict(
  secret: Uint8Array,
  fields: AuthMessage,
  tracing: Uint8Array,
  authorization: string | null,
  at: number,
): Promise<AuthResult> {
  const strategy = hmacAuth({ secret, replay: memoryReplayStore() });
  try {
    return await strategy.verify(fields, tracing, authorization, at);
  } finally {
    await strategy.close();
  }
}

/**
 * What a message's signature covers besides its own fields (docs/protocol/auth.md#operations,
 * docs/protocol/websocket.md#pseudo-urls).
 */
interface Env {
  /** The pseudo-url of a counter-bound message. */
  url?: string;
  /** Topic and declared hash of the stream a NOTIFY_STREAM / RECEIVE_STREAM part belongs to. */
  stream?: { readonly topic: Uint8Array; readonly sha512: Uint8Array };
  /** Topic and signed hash of the message a CONFIRM_NOTIFY answers. */
  notified?: { readonly topic: Uint8Array; readonly sha512: Uint8Array };
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`Replay bug: no ${what} for this message`);
  return value;
}

/** The operation and fields a message's authorization signs. */
function signedFields(msg: S2BMessage | B2SMessage, env: Env): AuthMessage {
  switch (msg.type) {
    case "configure":
      return {
        type: "stateful_configure",
        subscriberNonce: msg.subscriberNonce,
        enableZstd: msg.enableZstd,
        enableTraining: msg.enableTraining,
        initialDict: msg.initialDict,
      };
    // Unsubscribe requests are signed with the subscribe operation
    // (docs/protocol/auth.md#operations).
    case "subscribe_exact":
    case "unsubscribe_exact":
      return {
        type: "subscribe_exact",
        url: need(env.url, "url"),
        recovery: null,
        topic: msg.topic,
      };
    case "subscribe_glob":
    case "unsubscribe_glob":
      return { type: "subscribe_glob", url: need(env.url, "url"), recovery: null, glob: msg.glob };
    case "notify":
      return {
        type: "notify",
        topic: msg.topic,
        identifier: msg.identifier,
        sha512: msg.compressedSha512,
      };
    case "notify_stream": {
      const stream = msg.first === null
        ? need(env.stream, "stream")
        : { topic: msg.first.topic, sha512: msg.first.compressedSha512 };
      return {
        type: "notify",
        topic: stream.topic,
        identifier: msg.identifier,
        sha512: stream.sha512,
      };
    }
    case "continue_receive":
      return {
        type: "stateful_continue_receive",
        identifier: msg.identifier,
        partId: msg.partId,
        url: need(env.url, "url"),
      };
    case "confirm_receive":
      return {
        type: "confirm_receive",
        identifier: msg.identifier,
        numSubscribers: msg.numSubscribers,
        url: need(env.url, "url"),
      };
    case "confirm_configure":
      return { type: "stateful_confirm_configure", broadcasterNonce: msg.broadcasterNonce };
    // Unsubscribe confirmations use the subscribe-confirmation operation
    // (docs/protocol/auth.md#operations).
    case "confirm_subscribe_exact":
    case "confirm_unsubscribe_exact":
      return {
        type: "confirm_subscribe_exact",
        url: need(env.url, "url"),
        recovery: null,
        topic: msg.topic,
      };
    case "confirm_subscribe_glob":
    case "confirm_unsubscribe_glob":
      return {
        type: "confirm_subscribe_glob",
        url: need(env.url, "url"),
        recovery: null,
        glob: msg.glob,
      };
    case "confirm_notify": {
      const notified = need(env.notified, "notified message");
      return {
        type: "confirm_notify",
        identifier: msg.identifier,
        subscribers: msg.subscribers,
        topic: notified.topic,
        sha512: notified.sha512,
      };
    }
    case "continue_notify":
      return { type: "stateful_continue_notify", identifier: msg.identifier, partId: msg.partId };
    case "receive_stream": {
      const stream = msg.first === null
        ? need(env.stream, "delivery")
        : { topic: msg.first.topic, sha512: msg.first.compressedSha512 };
      return {
        type: "receive",
        url: need(env.url, "url"),
        topic: stream.topic,
        identifier: msg.identifier,
        sha512: stream.sha512,
      };
    }
    case "enable_zstd_preset":
      return {
        type: "stateful_enable_zstd_preset",
        url: need(env.url, "url"),
        compressorId: msg.identifier,
        level: msg.compressionLevel,
        minSize: msg.minSize,
        maxSize: msg.maxSize,
      };
    default:
      throw new Error(`Replay bug: ${msg.type} is not in any recorded session`);
  }
}

/**
 * SHA-512 of a notified message as delivered (decompressed): what our CONFIRM_NOTIFY signs on every
 * path (docs/decisions.md#confirm_notifys-hash). Compressed notifies appear only in
 * `hmac_preset_dictionary`; the file gives both plaintext hashes.
 */
function deliveredSha512(
  s: RecordedSession,
  notifyFrame: number,
  start: { compressor: number; compressedSha512: Uint8Array; decompressedLength: bigint },
): Uint8Array {
  if (start.compressor === 0) return start.compressedSha512;
  const preset = FILE.compression.preset_dictionary_session;
  if (notifyFrame === preset.notify_frame_index) return fromHex(preset.decompressed_sha512);
  if (start.decompressedLength === BigInt(s.results.notify_large.len)) {
    return fromHex(s.results.notify_large.sha512);
  }
  throw new Error(`No plaintext hash for the compressed notify at frame ${notifyFrame}`);
}

/** Payload sizes of the recorded large stream of `type` (NOTIFY_STREAM or RECEIVE_STREAM). */
function recordedParts(s: RecordedSession, type: "NOTIFY_STREAM" | "RECEIVE_STREAM"): number[] {
  const parts = s.frames.filter((f) => f.type === type).map((f) => {
    const msg = parseFrame(f);
    assert.ok(msg.type === "notify_stream" || msg.type === "receive_stream");
    return msg;
  });
  const large = parts.findIndex((p) => p.first?.compressedLength === 10_000n);
  return parts.slice(large).map((p) => p.body.length);
}

/**
 * What identifies a message on both sides of the swap the file allows: its
 * topic and length, and for an uncompressed one its hash.
 */
function messageKey(
  start: { topic: Uint8Array; compressor: number; decompressedLength: bigint },
  sha512: Uint8Array,
): string {
  const hash = start.compressor === 0 ? toHex(sha512) : "compressed";
  return `${toHex(start.topic)}/${start.decompressedLength}/${hash}`;
}

/** A notify sent and not yet confirmed. */
interface Notified {
  readonly identifier: Uint8Array;
  readonly topic: Uint8Array;
  /** What our CONFIRM_NOTIFY signs (docs/decisions.md#confirm_notifys-hash). */
  readonly sha512: Uint8Array;
  readonly key: string;
}

/** A delivery as we received it. */
interface Delivery {
  /** The recorded delivery's identifier (hex) this one stands for. */
  readonly recorded: string;
  /** Our broadcaster's identifier. */
  readonly identifier: Uint8Array;
  /** Part 0's pseudo-url and its broadcaster-counter value. */
  readonly url: string;
  readonly counter: number;
  readonly topic: Uint8Array;
  readonly sha512: Uint8Array;
  readonly length: number;
  readonly key: string;
  /** Payload size of each part so far. */
  readonly payloads: number[];
}

/** One replay: a websocket to our broadcaster and the subscriber's side of the session. */
class Replay implements AsyncDisposable {
  readonly #session: RecordedSession;
  readonly #client: WsClient;
  /** The subscriber's strategies: signs s2b frames; b2s ones are verified separately. */
  readonly #auth: AuthConfig;
  /** Our b2s frames read ahead of the recorded frame they match (the allowed swap). */
  readonly #pending: Uint8Array[] = [];
  #subscriberNonce: Uint8Array = EMPTY;
  #nonce: Uint8Array = EMPTY;
  #subscriberCounter = -1;
  #broadcasterCounter = 1;
  /** Urls of the (un)subscribe requests sent, oldest first: their confirmations reuse them. */
  readonly #requestUrls: string[] = [];
  /** Notifies sent and not yet confirmed, oldest first. */
  readonly #notifies: Notified[] = [];
  /** The NOTIFY_STREAM being sent. */
  #stream: { frame: number; start: StreamStart; sent: number } | null = null;
  /** Recorded delivery identifier (hex) → ours, for the acknowledgements. */
  readonly #identifiers = new Map<string, Uint8Array>();
  #delivery: Delivery | null = null;
  /** Every delivery received, in order. */
  readonly deliveries: Delivery[] = [];
  /** Types of our b2s frames, in the order of the recorded frames they matched. */
  readonly types: string[] = [];

  private constructor(s: RecordedSession, client: WsClient, auth: AuthConfig) {
    this.#session = s;
    this.#client = client;
    this.#auth = auth;
  }

  /** Connects to the broadcaster at `base`. */
  static async open(base: string, s: RecordedSession): Promise<Replay> {
    const auth = authOf(s);
    return new Replay(s, await WsClient.connect(base, auth), auth);
  }

  /** Plays `frames` in order: sends the s2b ones, matches the b2s ones. */
  async run(frames: readonly Frame[]): Promise<void> {
    for (const f of frames) {
      if (f.dir === "s2b") await this.send(f);
      else await this.#receive(f);
    }
  }

  /** Re-creates recorded s2b frame `f` for our broadcaster and sends it. */
  async send(f: Frame): Promise<void> {
    const where = this.#where(f);
    const recorded = fromHex(f.hex);
    const rec = parseS2B(recorded);
    const env: Env = {};
    let msg: S2BMessage = { ...rec };
    switch (rec.type) {
      case "configure":
        this.#subscriberNonce = rec.subscriberNonce;
        break;
      case "subscribe_exact":
      case "subscribe_glob":
      case "unsubscribe_exact":
      case "unsubscribe_glob":
        env.url = this.#nextSubscriberUrl();
        this.#requestUrls.push(env.url);
        break;
      case "notify":
        this.#notifies.push({
          identifier: rec.identifier,
          topic: rec.topic,
          sha512: deliveredSha512(this.#session, f.i, rec),
          key: messageKey(rec, rec.compressedSha512),
        });
        break;
      case "notify_stream": {
        if (rec.first !== null) {
          assert.equal(this.#stream, null, `${where}: a stream is already open`);
          this.#stream = { frame: f.i, start: rec.first, sent: 0 };
        }
        const stream = need(this.#stream ?? undefined, "stream");
        const { start } = stream;
        env.stream = { topic: start.topic, sha512: start.compressedSha512 };
        stream.sent += rec.body.length;
        if (BigInt(stream.sent) === start.compressedLength) {
          this.#notifies.push({
            identifier: rec.identifier,
            topic: start.topic,
            sha512: deliveredSha512(this.#session, stream.frame, start),
            key: messageKey(start, start.compressedSha512),
          });
          this.#stream = null;
        }
        break;
      }
      case "continue_receive":
      case "confirm_receive": {
        const ours = this.#identifiers.get(toHex(rec.identifier));
        assert.ok(ours !== undefined, `${where}: acknowledges a delivery we never sent`);
        msg = { ...rec, identifier: ours };
        env.url = this.#nextSubscriberUrl();
        break;
      }
    }
    msg.authorization = await this.#auth.toBroadcaster.authorize(
      signedFields(msg, env),
      msg.tracing,
      now(),
    );
    assert.equal(msg.authorization === null, rec.authorization === null, where);
    assert.equal(msg.authorization?.length, rec.authorization?.length, `${where}: auth length`);
    const frame = encodeS2B(msg, minimalOf(recorded));
    assert.equal(toHex(frame.subarray(0, 4)), f.hex.slice(0, 8), `${where}: flags and type`);
    assert.equal(frame.length, f.len, `${where}: re-created frame length`);
    // Nothing changed but the authorization and the identifier acknowledged.
    const identifier = "identifier" in rec ? { identifier: rec.identifier } : {};
    const back = { ...msg, authorization: rec.authorization, ...identifier } as S2BMessage;
    assert.equal(toHex(encodeS2B(back, minimalOf(recorded))), f.hex, `${where}: fields`);
    this.#client.sendRaw(frame);
  }

  /** Takes our next b2s frame, which must match recorded frame `f`. */
  async #receive(f: Frame): Promise<void> {
    const where = this.#where(f);
    const recorded = fromHex(f.hex);
    const rec = parseB2S(recorded);
    const raw = await this.#take(rec.type, where);
    const ours = parseB2S(raw);
    this.types.push(ours.type);

    // Same header form and length; every field but the random ones and the
    // authorization equals the recorded one, and re-encodes to our bytes.
    assert.equal(minimalOf(raw), minimalOf(recorded), `${where}: header form`);
    assert.equal(raw.length, recorded.length, `${where}: frame length`);
    const expected = { ...rec, authorization: ours.authorization } as B2SMessage;
    if (expected.type === "confirm_configure" && ours.type === "confirm_configure") {
      expected.broadcasterNonce = ours.broadcasterNonce;
    }
    if (expected.type === "receive_stream" && ours.type === "receive_stream") {
      expected.identifier = ours.identifier;
    }
    assert.deepEqual(ours, expected, `${where}: fields`);
    assert.equal(toHex(encodeB2S(expected, minimalOf(recorded))), toHex(raw), `${where}: bytes`);

    // The random values and what the authorization is bound to.
    const env: Env = {};
    switch (ours.type) {
      case "confirm_configure": {
        assert.equal(ours.broadcasterNonce.length, 32, `${where}: nonce length`);
        assert.ok(rec.type === "confirm_configure");
        assert.notEqual(toHex(ours.broadcasterNonce), toHex(rec.broadcasterNonce), where);
        this.#nonce = sha256(this.#subscriberNonce, ours.broadcasterNonce);
        break;
      }
      case "confirm_subscribe_exact":
      case "confirm_subscribe_glob":
      case "confirm_unsubscribe_exact":
      case "confirm_unsubscribe_glob":
        env.url = need(this.#requestUrls.shift(), "request url");
        break;
      case "confirm_notify": {
        const notified = need(this.#notifies.shift(), "notify to confirm");
        assert.ok(bytesEqual(ours.identifier, notified.identifier), `${where}: answers another`);
        env.notified = notified;
        break;
      }
      case "receive_stream": {
        const d = await this.#deliveryPart(ours, rec, where);
        env.url = d.url;
        env.stream = d;
        break;
      }
      case "enable_zstd_preset":
      case "enable_zstd_custom":
      case "disable_zstd_custom":
      case "missed":
        env.url = pseudoUrl(this.#nonce, this.#broadcasterCounter++);
        break;
    }
    await this.#checkAuthorization(ours, rec, env, where);
  }

  /**
   * Tracks a RECEIVE_STREAM part: 4-byte identifier, fresh per delivery and
   * the same for its parts, part ids in order. Returns its delivery, whose
   * url it is signed over (part 0's: docs/decisions.md#one-counter-value-per-delivery).
   */
  async #deliveryPart(
    ours: Extract<B2SMessage, { type: "receive_stream" }>,
    rec: B2SMessage,
    where: string,
  ): Promise<Delivery> {
    assert.ok(rec.type === "receive_stream");
    if (ours.partId === 0) {
      assert.equal(this.#delivery, null, `${where}: new delivery before the last one ended`);
      assert.equal(ours.identifier.length, rec.identifier.length, `${where}: identifier length`);
      assert.equal(ours.identifier.length, 4, `${where}: identifier length`);
      for (const d of this.deliveries) {
        assert.ok(!bytesEqual(d.identifier, ours.identifier), `${where}: identifier reused`);
      }
      const first = ours.first!;
      const counter = this.#broadcasterCounter++;
      const delivery: Delivery = {
        recorded: toHex(rec.identifier),
        identifier: ours.identifier,
        url: pseudoUrl(this.#nonce, counter),
        counter,
        topic: first.topic,
        sha512: first.compressedSha512,
        length: Number(first.compressedLength),
        key: messageKey(first, first.compressedSha512),
        payloads: [],
      };
      this.#identifiers.set(delivery.recorded, delivery.identifier);
      this.deliveries.push(delivery);
      this.#delivery = delivery;
    }
    const d = need(this.#delivery ?? undefined, "delivery in progress");
    assert.equal(toHex(rec.identifier), d.recorded, `${where}: recorded parts of one delivery`);
    assert.ok(
      bytesEqual(ours.identifier, d.identifier),
      `${where}: identifier changed mid-delivery`,
    );
    assert.equal(ours.partId, d.payloads.length, `${where}: part id`);
    d.payloads.push(ours.body.length);
    const received = d.payloads.reduce((a, b) => a + b, 0);
    assert.ok(received <= d.length, `${where}: longer than announced`);
    if (received === d.length) this.#delivery = null;
    if (ours.partId > 0 && ours.authorization !== null) {
      // The reference signs part k with counter value (part 0's + k); we do not
      // (docs/decisions.md#one-counter-value-per-delivery).
      const perPart = pseudoUrl(this.#nonce, d.counter + ours.partId);
      const fields = signedFields(ours, { url: perPart, stream: d });
      assert.equal(
        await hmacVerdict(TO_SUBSCRIBER_SECRET, fields, ours.tracing, ours.authorization, now()),
        "forbidden",
        `${where}: signed with a counter value of its own (P1 wants part 0's)`,
      );
    }
    return d;
  }

  /** Null where the recording has none; else an hmac code of the recorded shape that verifies. */
  async #checkAuthorization(ours: B2SMessage, rec: B2SMessage, env: Env, where: string) {
    if (rec.authorization === null) {
      assert.equal(ours.authorization, null, `${where}: authorization`);
      return;
    }
    const mine = HMAC_TEXT.exec(ours.authorization ?? "");
    const theirs = HMAC_TEXT.exec(rec.authorization);
    assert.ok(mine !== null && theirs !== null, `${where}: hmac text ${ours.authorization}`);
    assert.equal(mine[0].length, theirs[0].length, `${where}: authorization length`);
    assert.equal(mine[2]!.length, theirs[2]!.length, `${where}: hmac nonce length`);
    const at = now();
    assert.ok(Math.abs(Number(mine[1]) - at) <= 60, `${where}: timestamp ${mine[1]} is not now`);
    const verdict = await hmacVerdict(
      TO_SUBSCRIBER_SECRET,
      signedFields(ours, env),
      ours.tracing,
      ours.authorization,
      at,
    );
    assert.equal(verdict, "ok", `${where}: authorization does not verify`);
  }

  /**
   * Our next frame of `type`: the next one in order, except that a
   * CONFIRM_NOTIFY and the RECEIVE_STREAM parts of the same message may come
   * in either order (`order_note`).
   */
  async #take(type: string, where: string): Promise<Uint8Array> {
    for (let i = 0;; i++) {
      while (this.#pending.length <= i) this.#pending.push(await this.#client.nextRaw());
      const got = parseB2S(this.#pending[i]!).type;
      if (got === type) {
        if (i > 0) {
          const keys = new Set(this.#pending.slice(0, i + 1).map((b) => this.#keyOf(parseB2S(b))));
          assert.ok(
            keys.size === 1 && !keys.has(null),
            `${where}: CONFIRM_NOTIFY and RECEIVE_STREAM swapped across messages`,
          );
        }
        return this.#pending.splice(i, 1)[0]!;
      }
      if (!SWAPPABLE.has(type) || !SWAPPABLE.has(got)) {
        const ahead = this.#pending.slice(0, i + 1).map((b) => parseB2S(b).type);
        assert.fail(`${where}: expected ${type}, got ${ahead.join(", ")}`);
      }
    }
  }

  /** The message a CONFIRM_NOTIFY or RECEIVE_STREAM part is about, if known. */
  #keyOf(msg: B2SMessage): string | null {
    if (msg.type === "confirm_notify") {
      return this.#notifies.find((n) => bytesEqual(n.identifier, msg.identifier))?.key ?? null;
    }
    if (msg.type !== "receive_stream") return null;
    if (msg.first !== null) return messageKey(msg.first, msg.first.compressedSha512);
    if (this.#delivery !== null && bytesEqual(this.#delivery.identifier, msg.identifier)) {
      return this.#delivery.key;
    }
    for (const b of this.#pending) {
      const part = parseB2S(b);
      if (part.type === "receive_stream" && bytesEqual(part.identifier, msg.identifier)) {
        if (part.first !== null) return messageKey(part.first, part.first.compressedSha512);
      }
    }
    return null;
  }

  /** Nothing left over, nothing more sent; the client closes (1000) as recorded. */
  async finish(): Promise<void> {
    assert.deepEqual(this.#pending.map((b) => parseB2S(b).type), [], "frames left over");
    await assert.rejects(this.#client.nextRaw(300), /Timed out/, "a frame nobody recorded");
    assert.equal(this.#stream, null);
    assert.equal(this.#delivery, null);
    assert.deepEqual(this.#notifies, []);
    assert.deepEqual(this.#requestUrls, []);
    assert.equal((await this.#client.close()).code, 1000);
  }

  /** Waits for the broadcaster to close the connection without sending anything first. */
  async closedByBroadcaster(): Promise<number> {
    await assert.rejects(this.#client.nextRaw(5_000), /Closed/);
    assert.deepEqual(this.#pending, []);
    return (await this.#client.closed).code;
  }

  #nextSubscriberUrl(): string {
    return pseudoUrl(this.#nonce, this.#subscriberCounter--);
  }

  #where(f: Frame): string {
    return `${this.#session.name} #${f.i} ${f.dir} ${f.type}`;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#client[Symbol.asyncDispose]();
    await this.#auth.toBroadcaster.close();
    await this.#auth.toSubscriber.close();
  }
}

/**
 * The frames of `hmac_preset_dictionary` that need compression: the
 * ENABLE_ZSTD_PRESET announcements, the compressed NOTIFY / NOTIFY_STREAM
 * and everything that answers them (their CONTINUE/CONFIRM_NOTIFY, the
 * compressed deliveries and their acknowledgements).
 */
function compressedFrames(s: RecordedSession): Set<number> {
  const skip = new Set<number>();
  const identifiers = new Set<string>();
  for (const f of s.frames) {
    const msg = parseFrame(f);
    let compressed = false;
    switch (msg.type) {
      case "enable_zstd_preset":
      case "enable_zstd_custom":
      case "disable_zstd_custom":
        compressed = true;
        break;
      case "notify":
        compressed = msg.compressor !== 0;
        break;
      case "notify_stream":
      case "receive_stream":
        compressed = msg.first === null
          ? identifiers.has(`${f.dir}${toHex(msg.identifier)}`)
          : msg.first.compressor !== 0;
        break;
      case "confirm_notify":
      case "continue_notify":
        compressed = identifiers.has(`s2b${toHex(msg.identifier)}`);
        break;
      case "continue_receive":
      case "confirm_receive":
        compressed = identifiers.has(`b2s${toHex(msg.identifier)}`);
        break;
    }
    if (!compressed) continue;
    skip.add(f.i);
    if (msg.type === "notify" || msg.type === "notify_stream" || msg.type === "receive_stream") {
      identifiers.add(`${f.dir}${toHex(msg.identifier)}`);
    }
  }
  return skip;
}

Deno.test("replay: the file's hmac secrets are bytes(0..63) to the broadcaster and bytes(64..127) to the subscriber", () => {
  assert.deepEqual([...TO_BROADCASTER_SECRET], Array.from({ length: 64 }, (_, i) => i));
  assert.deepEqual([...TO_SUBSCRIBER_SECRET], Array.from({ length: 64 }, (_, i) => 64 + i));
  assert.match(FILE.order_note, /CONFIRM_NOTIFY and the RECEIVE_STREAM/);
});

Deno.test("replay: every recorded hmac code verifies under the signing rules the replay checks ours with", async () => {
  // Checks the checker: the same signed fields, over the recorded urls at the
  // recorded time, accept every code the reference produced.
  for (const s of FILE.sessions.filter((s) => s.auth === "hmac")) {
    const streams = new Map<string, { topic: Uint8Array; sha512: Uint8Array }>();
    const notifies = new Map<string, { frame: number; msg: S2BMessage }>();
    for (const f of s.frames) {
      const where = `${s.name} #${f.i} ${f.type}`;
      const msg = parseFrame(f);
      const env: Env = {};
      if (f.pseudo_url !== undefined) env.url = f.pseudo_url;
      if (msg.type === "notify_stream" || msg.type === "receive_stream") {
        const key = `${f.dir}${toHex(msg.identifier)}`;
        if (msg.first !== null) {
          streams.set(key, { topic: msg.first.topic, sha512: msg.first.compressedSha512 });
        }
        const stream = streams.get(key);
        if (stream !== undefined) env.stream = stream;
      }
      if (msg.type === "notify" || (msg.type === "notify_stream" && msg.first !== null)) {
        notifies.set(toHex(msg.identifier), { frame: f.i, msg });
      }
      if (msg.type === "confirm_notify") {
        const n = need(notifies.get(toHex(msg.identifier)), "notify");
        const start = n.msg.type === "notify"
          ? n.msg
          : n.msg.type === "notify_stream"
          ? n.msg.first!
          : assert.fail();
        const topic = start.topic;
        // Which hash the reference signed differs by path (docs/decisions.md#confirm_notifys-hash);
        // the file says which.
        env.notified = f.confirm_notify_signed_hash === "decompressed"
          ? { topic, sha512: deliveredSha512(s, n.frame, start) }
          : { topic, sha512: start.compressedSha512 };
      }
      const text = need(msg.authorization ?? undefined, "authorization");
      const at = Number(HMAC_TEXT.exec(text)![1]);
      const secret = f.dir === "s2b" ? TO_BROADCASTER_SECRET : TO_SUBSCRIBER_SECRET;
      const verdict = await hmacVerdict(secret, signedFields(msg, env), msg.tracing, text, at);
      assert.equal(verdict, "ok", where);
    }
  }
});

for (
  const [name, payloads] of [
    ["none_uncompressed", [3990, 4079, 1931]],
    ["hmac_uncompressed", [3877, 3966, 2157]],
  ] as const
) {
  Deno.test(`replay ${name}: our broadcaster answers the recorded session as the reference did`, async () => {
    const s = session(name);
    // The recorded split (docs/protocol/websocket.md#notify_stream,
    // docs/protocol/websocket.md#delivery): the same on both directions.
    assert.deepEqual(recordedParts(s, "NOTIFY_STREAM"), payloads);
    assert.deepEqual(recordedParts(s, "RECEIVE_STREAM"), payloads);

    await using b = await startBroadcaster({
      auth: authOf(s),
      limits: { websocketMaxMessageBytes: PART_LIMIT },
    });
    await using replay = await Replay.open(b.url, s);
    await replay.run(s.frames);
    assert.deepEqual(replay.deliveries.map((d) => d.payloads), [[15], [...payloads]]);
    // One broadcaster-counter value per delivery (the reference used 1, 2, 3, 4;
    // docs/decisions.md#one-counter-value-per-delivery).
    assert.deepEqual(replay.deliveries.map((d) => d.counter), [1, 2]);
    assert.equal(replay.types.length, s.frames.filter((f) => f.dir === "b2s").length);
    await replay.finish();
  });
}

Deno.test("replay hmac_preset_dictionary with compression off: no ENABLE_ZSTD_*, the uncompressed frames as recorded", async () => {
  // With compression turned off (docs/protocol/zstd.md#what-is-optional) the broadcaster ignores
  // CONFIGURE's x-enable-zstd / x-enable-training / x-initial-dict, announces
  // nothing, and so may not be sent anything compressed. What the session can
  // still show: CONFIGURE exactly as recorded is accepted, no ENABLE_ZSTD_*
  // follows (a stray one would fail the frame matching), and the subscription
  // frames answer as recorded.
  const s = session("hmac_preset_dictionary");
  const skip = compressedFrames(s);
  assert.deepEqual([...skip], [2, 4, 8, 9, 10, 11, 12, 13, 14, 15]);
  const configure = parseFrame(s.frames[0]!);
  assert.ok(configure.type === "configure");
  assert.deepEqual([configure.enableZstd, configure.enableTraining, configure.initialDict], [
    true,
    true,
    2,
  ]);

  await using b = await startBroadcaster({
    auth: authOf(s),
    limits: { websocketMaxMessageBytes: PART_LIMIT },
    compression: { enabled: false },
  });
  {
    await using replay = await Replay.open(b.url, s);
    await replay.run(s.frames.filter((f) => !skip.has(f.i)));
    assert.deepEqual(replay.types, [
      "confirm_configure",
      "confirm_subscribe_exact",
      "confirm_subscribe_glob",
      "confirm_unsubscribe_glob",
      "confirm_unsubscribe_exact",
    ]);
    await replay.finish();
  }
  {
    // A compressor id we never announced is refused (docs/protocol/websocket.md#notify): the
    // recorded compressed NOTIFY (id 2), re-signed, closes the connection.
    await using replay = await Replay.open(b.url, s);
    await replay.run(s.frames.filter((f) => f.i < 8 && !skip.has(f.i)));
    await replay.send(s.frames[8]!);
    assert.equal(await replay.closedByBroadcaster(), CloseCode.PROTOCOL);
  }
});

Deno.test({
  name: "replay hmac_preset_dictionary in full: ENABLE_ZSTD_PRESET 1 and 2, compressed both ways",
  async fn() {
    const s = session("hmac_preset_dictionary");
    const preset = sessionsJson.compression.preset_dictionary_session;
    await using b = await startBroadcaster({
      auth: authOf(s),
      limits: { websocketMaxMessageBytes: PART_LIMIT },
      compression: {
        presets: [{
          id: preset.compressor_id,
          level: preset.level,
          dictionary: new Uint8Array(Buffer.from(preset.dictionary_b64, "base64")),
        }],
      },
    });
    await using replay = await Replay.open(b.url, s);
    await replay.run(s.frames);
    assert.deepEqual(replay.deliveries.map((d) => d.payloads), [[43], [1585]]);
    await replay.finish();
  },
});
