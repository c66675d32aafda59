/**
 * One websocket connection's state machine (docs/protocol/websocket.md#states): WAITING_CONFIGURE
 * (with a timeout, docs/decisions.md#configure-timeout) → OPEN → CLOSED. Incoming messages are
 * processed one at a time in arrival order, except acknowledgements, which only touch the
 * expected-acks queue and so are handled at once even while a NOTIFY fans out
 * (docs/decisions.md#acknowledgements-during-a-notify); replies keep request order through reserved
 * slots in the outgoing queue. Counters are consumed at arrival, so they follow wire order whatever
 * waits.
 *
 * @module
 */

import type { Context } from "../core/context.ts";
import { randomBytes } from "../crypto/equal.ts";
import type { OutgoingMessage } from "../core/message.ts";
import { ParseError, toHex } from "../protocol/mod.ts";
import { encodeB2S, parseS2B, pseudoUrl, type S2BMessage } from "../protocol/stateful/mod.ts";
import {
  authClose,
  CloseCode,
  closeReason,
  logPeerClose,
  logServerClose,
  WsClose,
} from "./close.ts";
import type { HubConnection, WebsocketHub } from "./hub.ts";
import type { Compression } from "./compression.ts";
import { ConnectionCompression } from "./conn_compression.ts";
import { NotifyIntake } from "./notify_in.ts";
import { Sender } from "./sender.ts";
import type { WsEvents, WsPeer } from "./socket.ts";

const EMPTY = new Uint8Array(0);

type Ack = Extract<S2BMessage, { type: "continue_receive" | "confirm_receive" }>;

let lastId = 0;

/** One connection; created when the socket opens. */
export class Session implements HubConnection, WsEvents {
  /** This connection's number in the process, in every log line about it. */
  readonly id: number = ++lastId;
  readonly #ctx: Context;
  readonly #hub: WebsocketHub;
  readonly #peer: WsPeer;
  readonly #onEnd: (session: Session) => void;
  #state: "configuring" | "open" | "closed" = "configuring";
  #configureTimer: ReturnType<typeof setTimeout> | undefined;
  #nonce: Uint8Array = EMPTY;
  #subscriberCounter = -1;
  #broadcasterCounter = 1;
  readonly #sender: Sender;
  readonly #exact = new Map<string, Uint8Array>();
  readonly #globs = new Set<string>();
  readonly #notify: NotifyIntake;
  /** The process's zstd, or null when it offers none. */
  readonly #zstd: Compression | null;
  /** This connection's compressors, once CONFIGURE asked for zstd. */
  #compression: ConnectionCompression | null = null;
  /** Messages waiting for (or in) processing, and the chain that runs them. */
  #unprocessed = 0;
  #work: Promise<void> = Promise.resolve();
  #acks: Promise<void> = Promise.resolve();

  /** Starts the CONFIGURE timeout; `onEnd` runs once the session is closed and cleaned up. */
  constructor(
    ctx: Context,
    hub: WebsocketHub,
    peer: WsPeer,
    onEnd: (s: Session) => void,
    zstd: Compression | null = null,
  ) {
    this.#ctx = ctx;
    this.#zstd = zstd;
    this.#hub = hub;
    this.#peer = peer;
    this.#onEnd = onEnd;
    this.#sender = new Sender({
      ctx,
      peer,
      nextUrl: () => pseudoUrl(this.#nonce, this.#broadcasterCounter++),
      fail: (error) => this.#fail(error),
      compression: () => this.#compression,
    });
    this.#notify = new NotifyIntake(ctx, () => this.#compression);
    ctx.log.debug("Websocket opened", { connection: this.id });
    this.#configureTimer = setTimeout(() => {
      this.#configureTimer = undefined;
      this.#close(
        CloseCode.POLICY,
        "CONFIGURE not received in time",
        "websocketConfigureTimeoutMs",
      );
    }, ctx.limits.websocketConfigureTimeoutMs);
  }

  /** True until the session is closed. */
  get open(): boolean {
    return this.#state !== "closed";
  }

  /** @inheritdoc */
  message(data: Uint8Array | string): void {
    if (this.#state === "closed") return;
    try {
      this.#accept(data);
    } catch (error) {
      this.#fail(error);
    }
  }

  /**
   * The socket closed (reported once by the runtime): after our close frame,
   * the end of the handshake; else the client closed, or the connection was
   * lost without a close frame (1006).
   */
  close(code: number, reason: string): void {
    logPeerClose(this.#ctx.log, this.id, code, reason, this.#state === "closed");
    this.#end();
  }

  /** Closes from our side (server shutdown). */
  shutdown(): void {
    this.#close(CloseCode.GOING_AWAY, "Server shutting down");
  }

  /** @inheritdoc */
  deliver(msg: OutgoingMessage): boolean {
    if (this.#state !== "open") return false;
    try {
      return this.#sender.deliver(msg);
    } catch (error) {
      this.#fail(error);
      return false;
    }
  }

  /** @inheritdoc */
  room(): Promise<void> {
    return this.#state === "open" ? this.#sender.room() : Promise.resolve();
  }

  /** @inheritdoc */
  missed(topic: Uint8Array): boolean {
    if (this.#state !== "open") return false;
    try {
      return this.#sender.missed(topic);
    } catch (error) {
      this.#fail(error);
      return false;
    }
  }

  /** Parses, consumes counters in wire order, and routes to the ack or work chain. */
  #accept(data: Uint8Array | string): void {
    if (typeof data === "string") {
      throw new WsClose(CloseCode.PROTOCOL, "Text messages are not part of the protocol");
    }
    if (data.length > this.#ctx.limits.websocketMaxIncomingBytes) {
      throw new WsClose(
        CloseCode.TOO_BIG,
        "Message larger than the limit",
        "websocketMaxIncomingBytes",
      );
    }
    let msg: S2BMessage;
    try {
      msg = parseS2B(data);
    } catch (error) {
      if (error instanceof ParseError) {
        throw new WsClose(CloseCode.PROTOCOL, `Malformed message: ${error.message}`);
      }
      throw error;
    }
    if (this.#state === "configuring") {
      if (msg.type !== "configure") {
        throw new WsClose(CloseCode.PROTOCOL, "The first message must be CONFIGURE");
      }
      this.#state = "open";
      clearTimeout(this.#configureTimer);
      this.#configureTimer = undefined;
      this.#run(() => this.#configure(msg));
      return;
    }
    switch (msg.type) {
      case "continue_receive":
      case "confirm_receive": {
        const url = pseudoUrl(this.#nonce, this.#subscriberCounter--);
        this.#acks = this.#acks.then(() => this.#state === "open" ? this.#ack(msg, url) : undefined)
          .catch((error) => this.#fail(error));
        return;
      }
      case "subscribe_exact":
      case "subscribe_glob":
      case "unsubscribe_exact":
      case "unsubscribe_glob": {
        const url = pseudoUrl(this.#nonce, this.#subscriberCounter--);
        this.#run(() => this.#subscription(msg, url));
        return;
      }
      case "configure":
        throw new WsClose(CloseCode.PROTOCOL, "CONFIGURE sent twice");
      default:
        this.#run(() => this.#notify.handle(msg, this.#sender));
    }
  }

  /** Appends `task` to the work chain, bounded by the unprocessed-message limit. */
  #run(task: () => Promise<void>): void {
    if (++this.#unprocessed > this.#ctx.limits.websocketMaxUnprocessed) {
      throw new WsClose(
        CloseCode.TRY_AGAIN_LATER,
        "Too many unprocessed messages",
        "websocketMaxUnprocessed",
      );
    }
    this.#work = this.#work.then(async () => {
      try {
        if (this.#state === "open") await task();
      } finally {
        this.#unprocessed--;
      }
    }).catch((error) => this.#fail(error));
  }

  async #configure(msg: Extract<S2BMessage, { type: "configure" }>): Promise<void> {
    const { ctx } = { ctx: this.#ctx };
    const verdict = await ctx.auth.toBroadcaster.verify(
      {
        type: "stateful_configure",
        subscriberNonce: msg.subscriberNonce,
        enableZstd: msg.enableZstd,
        enableTraining: msg.enableTraining,
        initialDict: msg.initialDict,
      },
      msg.tracing,
      msg.authorization,
      ctx.now(),
    );
    if (verdict !== "ok") throw authClose(verdict, "CONFIGURE");
    // The first connection asking for zstd loads the backend (see Compression.load).
    const zstd = this.#zstd !== null && msg.enableZstd && await this.#zstd.load()
      ? this.#zstd
      : null;
    const broadcasterNonce = randomBytes(32);
    const nonces = new Uint8Array(msg.subscriberNonce.length + broadcasterNonce.length);
    nonces.set(msg.subscriberNonce);
    nonces.set(broadcasterNonce, msg.subscriberNonce.length);
    this.#nonce = new Uint8Array(await crypto.subtle.digest("SHA-256", nonces));
    const authorization = await ctx.auth.toSubscriber.authorize(
      { type: "stateful_confirm_configure", broadcasterNonce },
      EMPTY,
      ctx.now(),
    );
    this.#sender.send(
      encodeB2S({ type: "confirm_configure", broadcasterNonce, authorization, tracing: EMPTY }),
    );
    // zstd only for a client that asked (and, unlike the reference, training only with zstd on:
    // docs/decisions.md#training-for-real); announcements follow CONFIRM_CONFIGURE.
    if (zstd !== null) {
      this.#compression = new ConnectionCompression(zstd, ctx, {
        enableTraining: msg.enableTraining,
        initialDict: msg.initialDict,
      }, (make, onSent) => {
        // Called later too (a trained dictionary): a full queue closes here.
        try {
          this.#sender.control(make, onSent);
        } catch (error) {
          this.#fail(error);
        }
      });
    }
  }

  async #subscription(
    msg: Extract<
      S2BMessage,
      { type: "subscribe_exact" | "subscribe_glob" | "unsubscribe_exact" | "unsubscribe_glob" }
    >,
    url: string,
  ): Promise<void> {
    const ctx = this.#ctx;
    const exact = msg.type === "subscribe_exact" || msg.type === "unsubscribe_exact";
    const subscribe = msg.type === "subscribe_exact" || msg.type === "subscribe_glob";
    // Unsubscribe requests are signed with the subscribe operation
    // (docs/protocol/auth.md#operations).
    const verdict = await ctx.auth.toBroadcaster.verify(
      "topic" in msg
        ? { type: "subscribe_exact", url, recovery: null, topic: msg.topic }
        : { type: "subscribe_glob", url, recovery: null, glob: msg.glob },
      msg.tracing,
      msg.authorization,
      ctx.now(),
    );
    if (verdict !== "ok") throw authClose(verdict, msg.type.toUpperCase());
    // Closed while verifying: #end has released this connection's rows, so
    // one added now would never be (a relay row left in the store for good).
    if (this.#state !== "open") return;
    const key = "topic" in msg ? toHex(msg.topic) : msg.glob;
    const holds = exact ? this.#exact.has(key) : this.#globs.has(key);
    if (subscribe === holds) {
      throw new WsClose(
        CloseCode.PROTOCOL,
        subscribe ? "Already subscribed on this connection" : "Not subscribed on this connection",
      );
    }
    // The confirmation's place is taken first: no delivery for the topic can
    // go out before it.
    const slot = this.#sender.reserve();
    let stored = true;
    if ("topic" in msg) {
      if (subscribe) {
        this.#exact.set(key, msg.topic);
        stored = await this.#hub.addExact(this, msg.topic);
        if (!stored) this.#exact.delete(key);
      } else {
        this.#exact.delete(key);
        await this.#hub.removeExact(this, msg.topic);
      }
    } else if (subscribe) {
      this.#globs.add(key);
      stored = await this.#hub.addGlob(this, msg.glob);
      if (!stored) this.#globs.delete(key);
    } else {
      this.#globs.delete(key);
      await this.#hub.removeGlob(this, msg.glob);
    }
    if (!stored) {
      slot.fill(null);
      throw new WsClose(CloseCode.TRY_AGAIN_LATER, "Storage unavailable");
    }
    const authorization = await ctx.auth.toSubscriber.authorize(
      "topic" in msg
        ? { type: "confirm_subscribe_exact", url, recovery: null, topic: msg.topic }
        : { type: "confirm_subscribe_glob", url, recovery: null, glob: msg.glob },
      EMPTY,
      ctx.now(),
    );
    const confirmType = `confirm_${msg.type}` as const;
    slot.fill(encodeB2S(
      "topic" in msg
        ? {
          type: confirmType as "confirm_subscribe_exact" | "confirm_unsubscribe_exact",
          topic: msg.topic,
          authorization,
          tracing: EMPTY,
        }
        : {
          type: confirmType as "confirm_subscribe_glob" | "confirm_unsubscribe_glob",
          glob: msg.glob,
          authorization,
          tracing: EMPTY,
        },
    ));
  }

  async #ack(msg: Ack, url: string): Promise<void> {
    const ctx = this.#ctx;
    const partId = msg.type === "continue_receive" ? msg.partId : -1;
    const problem = this.#sender.acknowledge(msg.identifier, partId);
    if (problem !== null) throw new WsClose(CloseCode.PROTOCOL, problem);
    const verdict = await ctx.auth.toBroadcaster.verify(
      msg.type === "continue_receive"
        ? { type: "stateful_continue_receive", identifier: msg.identifier, partId, url }
        : {
          type: "confirm_receive",
          identifier: msg.identifier,
          numSubscribers: msg.numSubscribers,
          url,
        },
      msg.tracing,
      msg.authorization,
      ctx.now(),
    );
    if (verdict !== "ok") throw authClose(verdict, msg.type.toUpperCase());
  }

  #fail(error: unknown): void {
    if (this.#state === "closed") return;
    if (error instanceof WsClose) {
      this.#close(error.code, error.message, error.limit);
      return;
    }
    this.#close(CloseCode.INTERNAL, "Internal error", undefined, error);
  }

  /**
   * Closes from our side with a close frame carrying `code` and `reason` (cut
   * to what a close frame holds, so the runtime never refuses it), and logs
   * it: shutdown at info, an internal `error` at error, every other close
   * (limits, protocol, authorization) at warn with the limit's name.
   */
  #close(code: number, reason: string, limit?: string, error?: unknown): void {
    if (this.#state === "closed") return;
    const wire = closeReason(reason);
    logServerClose(this.#ctx.log, { connection: this.id, code, reason: wire, limit, error });
    try {
      this.#peer.close(code, wire);
    } catch (e) {
      this.#ctx.log.warn("Websocket close frame not sent", { connection: this.id, error: e });
    }
    this.#end();
  }

  /** Cleanup once, whoever closed: queues, timers, partial streams, subscriptions. */
  #end(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    clearTimeout(this.#configureTimer);
    const released: Promise<unknown>[] = [this.#sender.close(), this.#notify.abort()];
    this.#compression?.close();
    for (const topic of this.#exact.values()) released.push(this.#hub.removeExact(this, topic));
    for (const glob of this.#globs) released.push(this.#hub.removeGlob(this, glob));
    this.#exact.clear();
    this.#globs.clear();
    // The sender too: a delivery in progress holds its message (a spool file)
    // until it notices the close.
    // allSettled: a cleanup that fails (a store write, a spool file) is
    // logged, never an unhandled rejection (which would end the process).
    void Promise.allSettled([...released, this.#work, this.#acks, this.#sender.settled]).then(
      (results) => {
        for (const r of results) {
          if (r.status === "rejected") {
            this.#ctx.log.warn("Websocket cleanup failed", {
              connection: this.id,
              error: r.reason,
            });
          }
        }
        this.#onEnd(this);
      },
    );
  }
}
