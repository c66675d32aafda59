/**
 * A websocket subscriber for the end-to-end tests: a real `WebSocket` to the
 * broadcaster, our codecs, and the client side of the counters and
 * authorization (what lonelypsc does), with raw access for hostile tests.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { noneAuth } from "../src/auth/none.ts";
import type { AuthConfig } from "../src/auth/types.ts";
import {
  type B2SMessage,
  encodeS2B,
  parseB2S,
  pseudoUrl,
  type S2BMessage,
} from "../src/protocol/stateful/mod.ts";

const EMPTY = new Uint8Array(0);

/** How the connection ended. */
export interface Closed {
  /** Close code (1006 when the connection dropped without a close frame). */
  readonly code: number;
  /** Close reason. */
  readonly reason: string;
}

/** A delivery reassembled from its RECEIVE_STREAM parts. */
export interface Received {
  /** Topic bytes. */
  readonly topic: Uint8Array;
  /** The message. */
  readonly message: Uint8Array;
  /** How many parts it came in. */
  readonly parts: number;
}

/** One websocket connection as a subscriber. */
export class WsClient implements AsyncDisposable {
  readonly #socket: WebSocket;
  readonly #inbox: (Uint8Array | string)[] = [];
  readonly #waiters = new Set<() => void>();
  #closed: Closed | null = null;
  /** Resolves when the connection is closed. */
  readonly closed: Promise<Closed>;
  /** Both directions' auth, as the subscriber holds them. */
  readonly auth: AuthConfig;
  /** The connection nonce, once configured. */
  nonce: Uint8Array = EMPTY;
  /** Next subscriber-counter value. */
  subscriberCounter = -1;
  /** Next broadcaster-counter value expected. */
  broadcasterCounter = 1;

  private constructor(socket: WebSocket, auth: AuthConfig) {
    this.#socket = socket;
    this.auth = auth;
    this.closed = new Promise((resolve) => {
      socket.addEventListener("close", (e) => {
        this.#closed = { code: e.code, reason: e.reason };
        this.#wakeAll();
        resolve(this.#closed);
      });
    });
    socket.addEventListener("message", (e: MessageEvent) => {
      this.#inbox.push(typeof e.data === "string" ? e.data : new Uint8Array(e.data));
      this.#wakeAll();
    });
  }

  /** Opens `ws(s)://…/v1/websocket` for a broadcaster at `httpBase`. */
  static async connect(httpBase: string, auth?: AuthConfig): Promise<WsClient> {
    const socket = new WebSocket(httpBase.replace(/^http/, "ws") + "/v1/websocket");
    socket.binaryType = "arraybuffer";
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve(), { once: true });
      socket.addEventListener("error", () => reject(new Error("websocket failed")), {
        once: true,
      });
    });
    return new WsClient(socket, auth ?? { toBroadcaster: noneAuth(), toSubscriber: noneAuth() });
  }

  #wakeAll(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  /** Sends raw bytes (or text). */
  sendRaw(data: Uint8Array | string): void {
    this.#socket.send(data as Uint8Array<ArrayBuffer>);
  }

  /** Sends one message in the minimal form. */
  send(msg: S2BMessage): void {
    this.sendRaw(encodeS2B(msg));
  }

  /** Waits until the inbox has more than `seen` messages; rejects on close or after `ms`. */
  async #waitFor(seen: number, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.#inbox.length <= seen) {
      if (this.#closed !== null) {
        throw new Error(`Closed (${this.#closed.code} ${this.#closed.reason}) while waiting`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("Timed out waiting for a message");
      let timer: ReturnType<typeof setTimeout> | undefined;
      let wake: () => void = () => {};
      await new Promise<void>((resolve) => {
        wake = resolve;
        this.#waiters.add(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
      this.#waiters.delete(wake);
    }
  }

  /** The next raw message, strictly in order. */
  async nextRaw(ms = 10_000): Promise<Uint8Array> {
    await this.#waitFor(0, ms);
    const next = this.#inbox.shift()!;
    if (typeof next === "string") throw new Error("Text message from the broadcaster");
    return next;
  }

  /** The next parsed message, strictly in order. */
  async next(ms?: number): Promise<B2SMessage> {
    return parseB2S(await this.nextRaw(ms));
  }

  /**
   * The first message of `type`, leaving messages of other types in order
   * (the order between a delivery and a confirmation is not fixed).
   */
  async expect<T extends B2SMessage["type"]>(
    type: T,
    ms = 10_000,
  ): Promise<Extract<B2SMessage, { type: T }>> {
    // Other waiters may take messages meanwhile: rescan from the start each time.
    for (;;) {
      for (let i = 0; i < this.#inbox.length; i++) {
        const raw = this.#inbox[i]!;
        if (typeof raw === "string") throw new Error("Text message from the broadcaster");
        const msg = parseB2S(raw);
        if (msg.type === type) {
          this.#inbox.splice(i, 1);
          return msg as Extract<B2SMessage, { type: T }>;
        }
      }
      await this.#waitFor(this.#inbox.length, ms);
    }
  }

  /** CONFIGURE, then waits for CONFIRM_CONFIGURE and derives the connection nonce. */
  async configure(
    options: { enableZstd?: boolean; enableTraining?: boolean; initialDict?: number } = {},
  ): Promise<void> {
    const subscriberNonce = crypto.getRandomValues(new Uint8Array(32));
    const fields = {
      subscriberNonce,
      enableZstd: options.enableZstd ?? false,
      enableTraining: options.enableTraining ?? false,
      initialDict: options.initialDict ?? 0,
    };
    const authorization = await this.auth.toBroadcaster.authorize(
      { type: "stateful_configure", ...fields },
      EMPTY,
      now(),
    );
    this.send({ type: "configure", ...fields, authorization, tracing: EMPTY });
    const confirm = await this.expect("confirm_configure");
    const verdict = await this.auth.toSubscriber.verify(
      { type: "stateful_confirm_configure", broadcasterNonce: confirm.broadcasterNonce },
      confirm.tracing,
      confirm.authorization,
      now(),
    );
    if (verdict !== "ok") throw new Error(`CONFIRM_CONFIGURE authorization: ${verdict}`);
    this.nonce = new Uint8Array(
      createHash("sha256").update(subscriberNonce).update(confirm.broadcasterNonce).digest(),
    );
  }

  /** The pseudo-url of the next subscriber-counter value (consumes it). */
  nextSubscriberUrl(): string {
    return pseudoUrl(this.nonce, this.subscriberCounter--);
  }

  /** Sends a (un)subscribe without waiting for its confirmation. */
  async sendSubscription(
    type: "subscribe_exact" | "unsubscribe_exact" | "subscribe_glob" | "unsubscribe_glob",
    value: Uint8Array | string,
  ): Promise<void> {
    const url = this.nextSubscriberUrl();
    const exact = type.endsWith("exact");
    const authorization = await this.auth.toBroadcaster.authorize(
      exact
        ? { type: "subscribe_exact", url, recovery: null, topic: value as Uint8Array }
        : { type: "subscribe_glob", url, recovery: null, glob: value as string },
      EMPTY,
      now(),
    );
    this.send(
      exact
        ? {
          type: type as "subscribe_exact",
          authorization,
          tracing: EMPTY,
          topic: value as Uint8Array,
        }
        : { type: type as "subscribe_glob", authorization, tracing: EMPTY, glob: value as string },
    );
  }

  /** Subscribes (or unsubscribes) and waits for the matching confirmation. */
  async subscription(
    type: "subscribe_exact" | "unsubscribe_exact" | "subscribe_glob" | "unsubscribe_glob",
    value: Uint8Array | string,
  ): Promise<void> {
    await this.sendSubscription(type, value);
    await this.expect(`confirm_${type}` as B2SMessage["type"]);
  }

  /** NOTIFY in one message; resolves with CONFIRM_NOTIFY's subscriber count. */
  async notify(topic: Uint8Array, message: Uint8Array): Promise<number> {
    const identifier = crypto.getRandomValues(new Uint8Array(4));
    const sha512 = new Uint8Array(createHash("sha512").update(message).digest());
    const authorization = await this.auth.toBroadcaster.authorize(
      { type: "notify", topic, identifier, sha512 },
      EMPTY,
      now(),
    );
    const length = BigInt(message.length);
    this.send({
      type: "notify",
      authorization,
      tracing: EMPTY,
      identifier,
      topic,
      compressor: 0,
      compressedLength: length,
      decompressedLength: length,
      compressedSha512: sha512,
      body: message,
    });
    const confirm = await this.expect("confirm_notify");
    return confirm.subscribers;
  }

  /**
   * Receives one whole delivery, acknowledging every part (CONTINUE_RECEIVE,
   * then CONFIRM_RECEIVE) and checking part 0's authorization with the next
   * broadcaster-counter value, as lonelypsc does.
   */
  async receive(ms?: number): Promise<Received> {
    const first = await this.expect("receive_stream", ms);
    if (first.partId !== 0 || first.first === null) throw new Error("Delivery without part 0");
    const start = first.first;
    const url = pseudoUrl(this.nonce, this.broadcasterCounter++);
    const verdict = await this.auth.toSubscriber.verify(
      {
        type: "receive",
        url,
        topic: start.topic,
        identifier: first.identifier,
        sha512: start.compressedSha512,
      },
      first.tracing,
      first.authorization,
      now(),
    );
    if (verdict !== "ok") throw new Error(`RECEIVE_STREAM authorization: ${verdict}`);
    const total = Number(start.compressedLength);
    const message = new Uint8Array(total);
    let at = 0;
    let part = first;
    let parts = 0;
    for (;;) {
      message.set(part.body, at);
      at += part.body.length;
      parts++;
      if (at > total) throw new Error("Delivery longer than announced");
      if (at === total) break;
      await this.acknowledge({
        type: "continue_receive",
        identifier: part.identifier,
        partId: part.partId,
      });
      const next = await this.expect("receive_stream", ms);
      if (next.partId !== part.partId + 1) throw new Error("Parts out of order");
      part = next;
    }
    const sha = new Uint8Array(createHash("sha512").update(message).digest());
    if (!sha.every((b, i) => b === start.compressedSha512[i])) throw new Error("SHA-512 mismatch");
    await this.acknowledge({ type: "confirm_receive", identifier: first.identifier, partId: -1 });
    return { topic: start.topic, message, parts };
  }

  /** Sends CONTINUE_RECEIVE (or CONFIRM_RECEIVE for `partId` -1), signed with the next counter. */
  async acknowledge(
    a: { type: "continue_receive" | "confirm_receive"; identifier: Uint8Array; partId: number },
  ) {
    const url = this.nextSubscriberUrl();
    if (a.type === "continue_receive") {
      const authorization = await this.auth.toBroadcaster.authorize(
        { type: "stateful_continue_receive", identifier: a.identifier, partId: a.partId, url },
        EMPTY,
        now(),
      );
      this.send({ ...a, type: "continue_receive", authorization, tracing: EMPTY });
    } else {
      const authorization = await this.auth.toBroadcaster.authorize(
        { type: "confirm_receive", identifier: a.identifier, numSubscribers: 1, url },
        EMPTY,
        now(),
      );
      this.send({
        type: "confirm_receive",
        identifier: a.identifier,
        authorization,
        tracing: EMPTY,
        numSubscribers: 1,
      });
    }
  }

  /** Closes (1000) and waits for the close to complete. */
  async close(): Promise<Closed> {
    if (this.#closed === null && this.#socket.readyState === WebSocket.OPEN) {
      this.#socket.close(1000, "bye");
    }
    return await this.closed;
  }

  /** @inheritdoc */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#socket.readyState === WebSocket.CONNECTING) {
      await new Promise((r) => setTimeout(r, 0));
    }
    await this.close();
  }
}

function now(): number {
  return Date.now() / 1000;
}
