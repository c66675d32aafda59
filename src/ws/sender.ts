/**
 * A connection's outgoing side (stateful-websocket.md §3.4, §9): one queue for
 * replies and deliveries, sent one at a time in order; every RECEIVE_STREAM
 * delivery occupies the sender for all of its parts; flow control by
 * unacknowledged parts (P6); one broadcaster-counter value per delivery (P1).
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import type { Context } from "../core/context.ts";
import type { OutgoingMessage } from "../core/message.ts";
import { bytesEqual } from "../protocol/bytes.ts";
import { encodeB2S, encodeReceiveStreamHead } from "../protocol/stateful/mod.ts";
import { CloseCode, WsClose } from "./close.ts";
import type { WsPeer } from "./socket.ts";

const EMPTY = new Uint8Array(0);
/** lonelypsc (aiohttp) refuses larger messages. */
const CLIENT_MAX_MESSAGE = 4 * 1024 * 1024;
/** lonelypsc signs CONTINUE_RECEIVE's part id as one byte under hmac (§14 D7). */
const HMAC_MAX_NON_FINAL_PARTS = 256;

/** A reply whose bytes are not known yet; later entries wait for it. */
export interface Slot {
  /** Supplies the reply (or nothing, to send nothing) and lets the queue move on. */
  fill(bytes: Uint8Array | null): void;
}

type Entry =
  | { kind: "frame"; bytes: Uint8Array | null; ready: boolean }
  | { kind: "delivery"; msg: OutgoingMessage; release: () => Promise<void> | void; memory: number }
  | { kind: "missed"; topic: Uint8Array };

/** An acknowledgement the client owes, oldest first. */
interface Expected {
  readonly identifier: Uint8Array;
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
}

/** The outgoing queue of one connection. */
export class Sender {
  readonly #deps: SenderDeps;
  readonly #queue: Entry[] = [];
  #head = 0;
  #pumping = false;
  #draining: Promise<void> = Promise.resolve();
  /** Spool files being deleted by a release (the last holder's). */
  readonly #deleting = new Set<Promise<void>>();
  readonly #expected: Expected[] = [];
  #expectedHead = 0;
  #wakeAck: (() => void) | null = null;
  #memory = 0;
  #closed = false;

  /** A sender for one open connection. */
  constructor(deps: SenderDeps) {
    this.#deps = deps;
  }

  /**
   * Resolves when the sender is not sending; after {@link close}, once the
   * delivery in progress (if any) has stopped and every message it let go of
   * is released, spool files deleted.
   */
  get settled(): Promise<void> {
    return this.#draining.then(() => Promise.all(this.#deleting)).then(() => {});
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

  /** Queues a delivery; false (nothing kept) when closed. Throws WsClose past a limit. */
  deliver(msg: OutgoingMessage): boolean {
    if (this.#closed) return false;
    const memory = msg.message.inMemory ? Number(msg.message.length) : 0;
    if (this.#memory + memory > this.#deps.ctx.limits.websocketMaxQueuedBytes) {
      throw new WsClose(CloseCode.TRY_AGAIN_LATER, "Too many bytes queued: client too slow");
    }
    this.#memory += memory;
    this.#push({ kind: "delivery", msg, release: msg.message.retain(), memory });
    return true;
  }

  /** Queues MISSED for `topic`; false when closed. */
  missed(topic: Uint8Array): boolean {
    if (this.#closed) return false;
    this.#push({ kind: "missed", topic });
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

  /** Stops sending and releases every queued delivery. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (let i = this.#head; i < this.#queue.length; i++) {
      const entry = this.#queue[i]!;
      if (entry.kind === "delivery") this.#release(entry);
    }
    this.#queue.length = 0;
    this.#head = 0;
    this.#memory = 0;
    const wake = this.#wakeAck;
    this.#wakeAck = null;
    wake?.();
  }

  #release(entry: Extract<Entry, { kind: "delivery" }>): void {
    const deleting = entry.release();
    if (deleting === undefined) return;
    this.#deleting.add(deleting);
    void deleting.finally(() => this.#deleting.delete(deleting));
  }

  #push(entry: Entry): void {
    if (this.#closed) {
      if (entry.kind === "delivery") this.#release(entry);
      return;
    }
    if (this.pending >= this.#deps.ctx.limits.websocketMaxPendingSends) {
      if (entry.kind === "delivery") this.#release(entry);
      throw new WsClose(CloseCode.TRY_AGAIN_LATER, "Outgoing queue full: client too slow");
    }
    this.#queue.push(entry);
    this.#pump();
  }

  #pump(): void {
    if (this.#pumping || this.#closed) return;
    this.#pumping = true;
    this.#draining = this.#drain().catch((error) => this.#deps.fail(error)).finally(() => {
      this.#pumping = false;
    });
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
      } else if (entry.kind === "missed") {
        await this.#sendMissed(entry.topic, this.#deps.nextUrl());
      } else {
        try {
          await this.#sendDelivery(entry.msg);
        } finally {
          this.#memory -= entry.memory;
          this.#release(entry);
        }
      }
    }
  }

  #write(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#deps.peer.send(bytes);
    if (this.#deps.peer.bufferedAmount > this.#deps.ctx.limits.websocketMaxBufferedBytes) {
      throw new WsClose(CloseCode.TRY_AGAIN_LATER, "Send buffer full: client not reading");
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
    const { topic, sha512, message } = msg;
    const length = Number(message.length);
    const identifier = new Uint8Array(randomBytes(4));
    const url = this.#deps.nextUrl();
    const authorize = () =>
      ctx.auth.toSubscriber.authorize(
        { type: "receive", url, topic, identifier, sha512 },
        EMPTY,
        ctx.now(),
      );
    const first = {
      topic,
      compressor: 0,
      compressedLength: message.length,
      decompressedLength: message.length,
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
    const partSize = this.#partSize(length, head0.length);
    if (partSize === null) {
      // The official client cannot acknowledge that many parts: tell it it
      // missed the message rather than break the connection (P5).
      ctx.log.warn("Delivery too large for this client's acknowledgements; sent MISSED", {
        length,
      });
      await this.#sendMissed(topic, url);
      return;
    }
    for (let part = 0, start = 0;; part++) {
      const end = Math.min(length, start + partSize);
      const final = end === length;
      await this.#ackRoom();
      if (this.#closed) return;
      const body = await message.read(start, end);
      if (part > 0) authorization = await authorize();
      const head = part === 0 ? head0 : encodeReceiveStreamHead({
        authorization,
        tracing: EMPTY,
        identifier,
        partId: part,
        first: null,
      });
      if (this.#closed) return;
      this.#expected.push({ identifier, partId: final ? -1 : part });
      const frame = new Uint8Array(head.length + body.length);
      frame.set(head);
      frame.set(body, head.length);
      this.#write(frame);
      if (final) return;
      start = end;
    }
  }

  /**
   * Payload bytes per part (spec §9.1 step 3), enlarged under hmac so no more
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
