/**
 * A connection's outgoing side (docs/protocol/websocket.md#processing-order,
 * docs/protocol/websocket.md#delivery): one queue for replies and deliveries, sent one at a time in
 * order; every RECEIVE_STREAM delivery occupies the sender for all of its parts; flow control by
 * unacknowledged parts (docs/protocol/websocket.md#flow-control); one broadcaster-counter value per
 * delivery (docs/decisions.md#one-counter-value-per-delivery).
 *
 * @module
 */

import type { Context } from "../core/context.ts";
import { randomBytes } from "../crypto/equal.ts";
import type { OutgoingMessage } from "../core/message.ts";
import { bytesEqual, toHex } from "../protocol/mod.ts";
import { encodeB2S, encodeReceiveStreamHead } from "../protocol/stateful/mod.ts";
import { CloseCode, WsClose } from "./close.ts";
import { MessageAbandoned } from "../core/growing_spool.ts";
import type { ConnectionCompression } from "./conn_compression.ts";
import type { WsPeer } from "./socket.ts";

const EMPTY = new Uint8Array(0);
/** lonelypsc (aiohttp) refuses larger messages. */
const CLIENT_MAX_MESSAGE = 4 * 1024 * 1024;
/**
 * lonelypsc signs CONTINUE_RECEIVE's part id as one byte under hmac (docs/decisions.md#part-sizes).
 */
const HMAC_MAX_NON_FINAL_PARTS = 256;

/** A reply whose bytes are not known yet; later entries wait for it. */
export interface Slot {
  /** Supplies the reply (or nothing, to send nothing) and lets the queue move on. */
  fill(bytes: Uint8Array | null): void;
}

type Entry =
  | { kind: "frame"; bytes: Uint8Array | null; ready: boolean }
  | { kind: "delivery"; msg: OutgoingMessage; release: () => Promise<void>; memory: number }
  | { kind: "missed"; topic: Uint8Array; key: string | null }
  | {
    kind: "control";
    make: (url: string) => Promise<Uint8Array>;
    onSent: (() => void) | undefined;
  };

/** The bytes of one delivery as they go on the wire. */
interface Payload {
  readonly length: number;
  /** SHA-512 of exactly these bytes. */
  readonly sha512: Uint8Array;
  /** Compressor id, 0 for none. */
  readonly compressor: number;
  read(start: number, end: number, into?: Uint8Array): Promise<Uint8Array>;
}

/** An acknowledgement the client owes, oldest first. */
interface Expected {
  readonly identifier: Uint8Array;
  /** The buffer the part went out in, reusable once acknowledged (multi-part deliveries). */
  readonly frame: Uint8Array | null;
  /** The part id a CONTINUE_RECEIVE must name, or -1 for CONFIRM_RECEIVE. */
  readonly partId: number;
}

/** What the sender needs from its session. */
export interface SenderDeps {
  readonly ctx: Context;
  readonly peer: WsPeer;
  /** The pseudo-url of the next broadcaster-counter value (consumes it). */
  nextUrl(): string;
  /** Closes the session after an error while sending. */
  fail(error: unknown): void;
  /** The connection's compressors, once CONFIGURE turned compression on. */
  compression(): ConnectionCompression | null;
}

/** The outgoing queue of one connection. */
export class Sender {
  readonly #deps: SenderDeps;
  readonly #queue: Entry[] = [];
  #head = 0;
  #pumping = false;
  #draining: Promise<void> = Promise.resolve();
  readonly #expected: Expected[] = [];
  #expectedHead = 0;
  /**
   * Frames of the multi-part delivery in progress whose parts were
   * acknowledged: the socket is done with them, so the next parts reuse them
   * (a 1 GiB delivery then cycles a few buffers instead of ~300).
   */
  #spareFrames: Uint8Array[] = [];
  #pooling = false;
  #wakeAck: (() => void) | null = null;
  #memory = 0;
  /** Topics with a MISSED queued for an overflow (hex). */
  readonly #missedQueued = new Set<string>();
  /** Fan-outs waiting for room ({@link room}), oldest first; a send wakes one. */
  readonly #roomWaiters = new Set<() => void>();
  /** A wait for room saw nothing sent for `websocketStallTimeoutMs`; cleared by the next send. */
  #stalled = false;
  #closed = false;

  /** A sender for one open connection. */
  constructor(deps: SenderDeps) {
    this.#deps = deps;
  }

  /**
   * Resolves when the sender is not sending: after {@link close}, once the
   * delivery in progress (if any) has stopped and released its message.
   */
  get settled(): Promise<void> {
    return this.#draining;
  }

  /** Entries waiting to be sent. */
  get pending(): number {
    return this.#queue.length - this.#head;
  }

  /** Queues a reply whose bytes are known. */
  send(bytes: Uint8Array): void {
    this.#push({ kind: "frame", bytes, ready: true });
  }

  /** Reserves the next place in the queue for a reply made later (keeps request order). */
  reserve(): Slot {
    const entry: Entry = { kind: "frame", bytes: null, ready: false };
    this.#push(entry);
    return {
      fill: (bytes) => {
        entry.bytes = bytes;
        entry.ready = true;
        this.#pump();
      },
    };
  }

  /**
   * Queues a delivery; false (not counted) when closed, or when the bytes
   * queued in memory would pass their limit: then the client is sent MISSED
   * for the topic instead. A client that overflows again before even that
   * MISSED went out is stuck: WsClose (1013), as when the queue is full.
   */
  deliver(msg: OutgoingMessage): boolean {
    if (this.#closed) return false;
    const memory = msg.message.inMemory ? Number(msg.message.length) : 0;
    if (this.#memory + memory > this.#deps.ctx.limits.websocketMaxQueuedBytes) {
      if (this.#missedQueued.size > 0) {
        throw new WsClose(
          CloseCode.TRY_AGAIN_LATER,
          "Too many bytes queued: client too slow",
          "websocketMaxQueuedBytes",
        );
      }
      const key = toHex(msg.topic);
      this.#missedQueued.add(key);
      this.#push({ kind: "missed", topic: msg.topic, key });
      return false;
    }
    this.#memory += memory;
    this.#push({ kind: "delivery", msg, release: msg.message.retain(), memory });
    return true;
  }

  /**
   * Resolves once the queue is below half of its limits (entries, and bytes
   * held in memory), at once when closed or stalled: a fan-out awaits it
   * before {@link deliver}, so a notifier is paced by this connection as by a
   * webhook. A wait that sees nothing sent for `websocketStallTimeoutMs` marks
   * the connection stalled and resolves; until it sends again, deliveries
   * queue at once, and an overflow closes it (1013) as before.
   */
  async room(): Promise<void> {
    while (!this.#closed && !this.#stalled && this.#halfFull()) {
      if (!await this.#nextSend()) this.#stalled = true;
    }
  }

  #halfFull(): boolean {
    const limits = this.#deps.ctx.limits;
    return this.pending >= Math.max(1, Math.floor(limits.websocketMaxPendingSends / 2)) ||
      this.#memory >= limits.websocketMaxQueuedBytes / 2;
  }

  /** True on the next send (or close), false after `websocketStallTimeoutMs` without one. */
  #nextSend(): Promise<boolean> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#roomWaiters.delete(wake);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#roomWaiters.delete(wake);
        resolve(false);
      }, this.#deps.ctx.limits.websocketStallTimeoutMs);
      this.#roomWaiters.add(wake);
    });
  }

  /** A frame went out: the connection is not stalled, and one waiting fan-out rechecks. */
  #sent(): void {
    this.#stalled = false;
    const first = this.#roomWaiters.values().next();
    if (!first.done) first.value();
  }

  /**
   * Queues a counter-bound control message (ENABLE_/DISABLE_ZSTD_*): `make`
   * builds it with the next broadcaster-counter url when its turn comes;
   * `onSent` runs once it is on the wire.
   */
  control(make: (url: string) => Promise<Uint8Array>, onSent?: () => void): void {
    this.#push({ kind: "control", make, onSent });
  }

  /** Queues MISSED for `topic`; false when closed. */
  missed(topic: Uint8Array): boolean {
    if (this.#closed) return false;
    this.#push({ kind: "missed", topic, key: null });
    return true;
  }

  /**
   * Takes one acknowledgement off the expected queue: `partId` -1 for
   * CONFIRM_RECEIVE. Returns why it does not fit (the session closes), or null.
   */
  acknowledge(identifier: Uint8Array, partId: number): string | null {
    const head = this.#expected[this.#expectedHead];
    if (head === undefined) return "Acknowledgement without a delivery";
    if (head.partId !== partId || !bytesEqual(head.identifier, identifier)) {
      return head.partId === -1 && partId !== -1
        ? "CONTINUE_RECEIVE where CONFIRM_RECEIVE was expected"
        : "Acknowledgement for another delivery or part";
    }
    if (head.frame !== null && this.#pooling) this.#spareFrames.push(head.frame);
    this.#expected[this.#expectedHead++] = undefined as unknown as Expected;
    if (this.#expectedHead > 1024 && this.#expectedHead * 2 > this.#expected.length) {
      this.#expected.splice(0, this.#expectedHead);
      this.#expectedHead = 0;
    }
    const wake = this.#wakeAck;
    this.#wakeAck = null;
    wake?.();
    return null;
  }

  /**
   * Stops sending and releases every queued delivery; resolves once their
   * spool files (if nobody else holds them) are gone. Idempotent.
   */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    const released: Promise<void>[] = [];
    for (let i = this.#head; i < this.#queue.length; i++) {
      const entry = this.#queue[i]!;
      if (entry.kind === "delivery") released.push(entry.release());
    }
    this.#queue.length = 0;
    this.#head = 0;
    this.#memory = 0;
    const wake = this.#wakeAck;
    this.#wakeAck = null;
    wake?.();
    for (const waiter of [...this.#roomWaiters]) waiter();
    return Promise.all(released).then(() => {});
  }

  #push(entry: Entry): void {
    if (this.#closed) {
      if (entry.kind === "delivery") this.#release(entry.release);
      return;
    }
    if (this.pending >= this.#deps.ctx.limits.websocketMaxPendingSends) {
      if (entry.kind === "delivery") this.#release(entry.release);
      throw new WsClose(
        CloseCode.TRY_AGAIN_LATER,
        "Outgoing queue full: client too slow",
        "websocketMaxPendingSends",
      );
    }
    this.#queue.push(entry);
    this.#pump();
  }

  /** Releases a delivery not sent; a failure is logged (never an unhandled rejection). */
  #release(release: () => Promise<void>): void {
    release().catch((error) => this.#deps.ctx.log.warn("Releasing a delivery failed", { error }));
  }

  #pump(): void {
    if (this.#pumping || this.#closed) return;
    this.#pumping = true;
    this.#draining = this.#drain().then(
      () => {
        this.#pumping = false;
        // An entry pushed while the drain was finishing saw it still running.
        if (this.#ready()) this.#pump();
      },
      (error) => {
        this.#pumping = false;
        this.#deps.fail(error);
      },
    );
  }

  /** True when the head of the queue can be sent now. */
  #ready(): boolean {
    const head = this.#queue[this.#head];
    return head !== undefined && (head.kind !== "frame" || head.ready);
  }

  async #drain(): Promise<void> {
    while (!this.#closed && this.#head < this.#queue.length) {
      const entry = this.#queue[this.#head]!;
      if (entry.kind === "frame" && !entry.ready) return; // fill() pumps again
      this.#queue[this.#head++] = undefined as unknown as Entry;
      if (this.#head === this.#queue.length) {
        this.#queue.length = 0;
        this.#head = 0;
      } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        // A queue that never empties (a steady stream) must not grow forever.
        this.#queue.splice(0, this.#head);
        this.#head = 0;
      }
      if (entry.kind === "frame") {
        if (entry.bytes !== null) this.#write(entry.bytes);
      } else if (entry.kind === "control") {
        const bytes = await entry.make(this.#deps.nextUrl());
        if (this.#closed) return;
        this.#write(bytes);
        entry.onSent?.();
      } else if (entry.kind === "missed") {
        if (entry.key !== null) this.#missedQueued.delete(entry.key);
        await this.#sendMissed(entry.topic, this.#deps.nextUrl());
      } else {
        try {
          await this.#sendDelivery(entry.msg);
        } finally {
          this.#memory -= entry.memory;
          await entry.release();
        }
      }
    }
  }

  #write(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#deps.peer.send(bytes);
    this.#sent();
    if (this.#deps.peer.bufferedAmount > this.#deps.ctx.limits.websocketMaxBufferedBytes) {
      throw new WsClose(
        CloseCode.TRY_AGAIN_LATER,
        "Send buffer full: client not reading",
        "websocketMaxBufferedBytes",
      );
    }
  }

  async #sendMissed(topic: Uint8Array, url: string): Promise<void> {
    const { ctx } = this.#deps;
    const authorization = await ctx.auth.toSubscriber.authorize(
      { type: "missed", recovery: url, topic },
      EMPTY,
      ctx.now(),
    );
    this.#write(encodeB2S({ type: "missed", authorization, tracing: EMPTY, topic }));
  }

  /** One RECEIVE_STREAM delivery: all its parts, waiting for acks as flow control says. */
  async #sendDelivery(msg: OutgoingMessage): Promise<void> {
    const { ctx } = this.#deps;
    const { topic } = msg;
    const payload = await this.#payload(msg);
    const { length, sha512, read } = payload;
    const identifier = randomBytes(4);
    const url = this.#deps.nextUrl();
    // The hash signed and announced is the payload's as sent (compressed if so).
    const authorize = () =>
      ctx.auth.toSubscriber.authorize(
        { type: "receive", url, topic, identifier, sha512 },
        EMPTY,
        ctx.now(),
      );
    const first = {
      topic,
      compressor: payload.compressor,
      compressedLength: BigInt(length),
      decompressedLength: msg.message.length,
      compressedSha512: sha512,
    };
    let authorization = await authorize();
    const head0 = encodeReceiveStreamHead({
      authorization,
      tracing: EMPTY,
      identifier,
      partId: 0,
      first,
    });
    if (this.#partSize(length, head0.length) === null) {
      // The official client cannot acknowledge that many parts: tell it it
      // missed the message rather than break the connection (docs/decisions.md#part-sizes).
      ctx.log.warn("Delivery too large for this client's acknowledgements; sent MISSED", {
        length,
      });
      await this.#sendMissed(topic, url);
      return;
    }
    const maxFrame = head0.length + this.#partSize(length, head0.length)!;
    // Reusing frames needs acknowledgements to come before the pool grows
    // without bound: only with flow control on, and only for several parts.
    const pooled = length > maxFrame - head0.length &&
      ctx.limits.websocketMaxUnacknowledged > 0;
    this.#pooling = pooled;
    for (let part = 0, start = 0;; part++) {
      await this.#ackRoom();
      if (this.#closed) return;
      if (part > 0) authorization = await authorize();
      const head = part === 0 ? head0 : encodeReceiveStreamHead({
        authorization,
        tracing: EMPTY,
        identifier,
        partId: part,
        first: null,
      });
      // Sized by this part's own header, as the reference does: later parts
      // lack the start headers and so carry more payload (3 990 / 4 079 / …
      // with a 4 096 limit and no auth). Not null: this header is shorter
      // than part 0's, which fitted.
      const end = Math.min(length, start + this.#partSize(length, head.length)!);
      const final = end === length;
      // The part is read straight into its frame, after the header.
      const size = head.length + end - start;
      const buffer = pooled ? this.#frameBuffer(maxFrame) : new Uint8Array(size);
      const frame = buffer.subarray(0, size);
      frame.set(head);
      try {
        await read(start, end, frame.subarray(head.length));
      } catch (error) {
        if (!(error instanceof MessageAbandoned)) throw error;
        // Abandoned before its first part went out: nothing to withdraw, the delivery is skipped.
        if (part === 0) {
          this.#pooling = false;
          return;
        }
        throw new WsClose(CloseCode.MESSAGE_ABANDONED, error.message);
      }
      if (this.#closed) return;
      this.#expected.push({ identifier, partId: final ? -1 : part, frame: pooled ? buffer : null });
      this.#write(frame);
      if (final) break;
      start = end;
    }
    // Late acknowledgements of this delivery's parts find no pool to return to.
    this.#pooling = false;
    this.#spareFrames = [];
  }

  /** A frame buffer of `size` bytes: a spare one when the client has acknowledged one. */
  #frameBuffer(size: number): Uint8Array {
    const spare = this.#spareFrames.pop();
    return spare !== undefined && spare.length === size ? spare : new Uint8Array(size);
  }

  /**
   * What goes on the wire for `msg`: compressed when the connection has a
   * compressor for its length (messages held in memory; larger ones go as
   * they are), else the message itself. Small messages are training samples.
   */
  async #payload(msg: OutgoingMessage): Promise<Payload> {
    const { message, sha512 } = msg;
    const length = Number(message.length);
    const plain: Payload = {
      length,
      sha512,
      compressor: 0,
      read: (start, end, into) => message.read(start, end, into),
    };
    const compression = this.#deps.compression();
    if (compression === null || !message.inMemory) return plain;
    const settings = compression.service.settings;
    const chosen = compression.choose(length);
    if (chosen === null && length >= settings.trainedMaxSize) return plain;
    const bytes = await message.read(0, length);
    compression.sample(bytes);
    if (chosen === null) return plain;
    const compressed = await compression.service.compress(message, bytes, chosen);
    return {
      length: compressed.bytes.length,
      sha512: compressed.sha512,
      compressor: chosen.id,
      read: (start, end, into) => {
        const part = compressed.bytes.subarray(start, end);
        into?.set(part);
        return Promise.resolve(into ?? part);
      },
    };
  }

  /**
   * Payload bytes of a part whose header (flags, type, headers) is
   * `headLength` bytes (docs/protocol/websocket.md#delivery), enlarged under hmac so no more
   * than 256 non-final parts are needed; null when even 4 MiB parts would not do.
   */
  #partSize(length: number, headLength: number): number | null {
    const { ctx } = this.#deps;
    const size = Math.max(512, ctx.limits.websocketMaxMessageBytes - headLength);
    if (ctx.auth.toBroadcaster.kind !== "hmac") return size;
    const needed = Math.ceil(length / (HMAC_MAX_NON_FINAL_PARTS + 1));
    if (needed <= size) return size;
    return needed + headLength <= CLIENT_MAX_MESSAGE ? needed : null;
  }

  /** Waits while the client owes as many acknowledgements as flow control allows. */
  async #ackRoom(): Promise<void> {
    const max = this.#deps.ctx.limits.websocketMaxUnacknowledged;
    while (
      !this.#closed && max > 0 && this.#expected.length - this.#expectedHead >= max
    ) {
      await new Promise<void>((resolve) => this.#wakeAck = resolve);
    }
  }
}
