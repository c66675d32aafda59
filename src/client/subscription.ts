/**
 * One application-level subscription: an async iterable over a bounded queue.
 * When the consumer falls behind and the queue is full, the **oldest** queued
 * message is dropped (its temp file removed) and the client reports `"lost"`
 * then `"ok"`, so memory stays bounded and the application knows to
 * resynchronise.
 *
 * @module
 */

import type { Message } from "./message.ts";

/** Bounds of each subscription's queue. */
export interface QueueLimits {
  /** Most messages queued per subscription. Default 1024. */
  readonly maxMessages: number;
  /** Most in-memory body bytes queued per subscription (spooled bodies count 0). Default 64 MiB. */
  readonly maxBytes: number;
}

/** The defaults of {@link QueueLimits}. */
export const DEFAULT_QUEUE_LIMITS: QueueLimits = { maxMessages: 1024, maxBytes: 64 * 1024 * 1024 };

/** A subscription, as returned by `subscribeExact` and `subscribeGlob`. */
export interface Subscription extends AsyncIterable<Message>, AsyncDisposable {
  /** `"exact"` or `"glob"`. */
  readonly kind: "exact" | "glob";
  /** The exact topic (null for a glob). */
  readonly topic: Uint8Array | null;
  /** The glob pattern (null for an exact subscription). */
  readonly glob: string | null;
  /** Messages dropped from this subscription's queue because the consumer was slow. */
  readonly dropped: number;
  /**
   * Ends this subscription: iteration finishes, queued messages are dropped,
   * and when it was the last one on its topic (or pattern) the broadcaster is
   * told. Idempotent.
   */
  unsubscribe(): Promise<void>;
}

/** The queue and iterator behind a {@link Subscription}. */
export class SubscriptionImpl implements Subscription {
  readonly kind: "exact" | "glob";
  readonly topic: Uint8Array | null;
  readonly glob: string | null;
  dropped = 0;
  readonly #queue: Message[] = [];
  #queuedBytes = 0;
  #waiter: (() => void) | null = null;
  #ended = false;
  readonly #limits: QueueLimits;
  readonly #onDrop: () => void;
  readonly #onEnd: (s: SubscriptionImpl) => Promise<void>;

  /** `onEnd` tells the registry; `onDrop` reports the loss. */
  constructor(
    kind: "exact" | "glob",
    value: Uint8Array | string,
    limits: QueueLimits,
    onDrop: () => void,
    onEnd: (s: SubscriptionImpl) => Promise<void>,
  ) {
    this.kind = kind;
    this.topic = kind === "exact" ? value as Uint8Array : null;
    this.glob = kind === "glob" ? value as string : null;
    this.#limits = limits;
    this.#onDrop = onDrop;
    this.#onEnd = onEnd;
  }

  /** Whether iteration has ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Queues `m`, dropping the oldest messages past the limits. */
  push(m: Message): void {
    if (this.#ended) {
      void m.discard();
      return;
    }
    this.#queue.push(m);
    this.#queuedBytes += memoryBytes(m);
    let dropped = false;
    while (
      this.#queue.length > 1 &&
      (this.#queue.length > this.#limits.maxMessages || this.#queuedBytes > this.#limits.maxBytes)
    ) {
      const old = this.#queue.shift()!;
      this.#queuedBytes -= memoryBytes(old);
      void old.discard();
      this.dropped++;
      dropped = true;
    }
    if (dropped) this.#onDrop();
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  /** Ends iteration and drops what is queued (without telling the registry). */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const m of this.#queue.splice(0)) void m.discard();
    this.#queuedBytes = 0;
    this.#wake();
  }

  /** @inheritdoc */
  async unsubscribe(): Promise<void> {
    if (this.#ended) return;
    this.end();
    await this.#onEnd(this);
  }

  /** @inheritdoc */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.unsubscribe();
  }

  /** @inheritdoc */
  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return {
      next: async () => {
        for (;;) {
          const m = this.#queue.shift();
          if (m !== undefined) {
            this.#queuedBytes -= memoryBytes(m);
            return { done: false, value: m };
          }
          if (this.#ended) return { done: true, value: undefined };
          await new Promise<void>((resolve) => (this.#waiter = resolve));
        }
      },
      return: async () => {
        await this.unsubscribe();
        return { done: true, value: undefined };
      },
    };
  }
}

function memoryBytes(m: Message): number {
  return "copy" in m ? 0 : m.length;
}
