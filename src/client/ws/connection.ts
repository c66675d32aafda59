/**
 * One configured websocket session: CONFIGURE and its confirmation, the two
 * pseudo-url counters, (un)subscriptions, and the broadcaster's messages
 * (deliveries, compressor announcements, MISSED), each verified as the
 * Python client verifies it. Any violation ends the connection; the client
 * then reconnects.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { AuthMessage } from "../../auth/mod.ts";
import { bytesEqual } from "../../protocol/mod.ts";
import { type B2SMessage, encodeS2B, pseudoUrl } from "../../protocol/stateful/mod.ts";
import { ClientError } from "../errors.ts";
import type { Registration } from "../registry.ts";
import { now } from "../settings.ts";
import type { ConnectionContext } from "./context.ts";
import { Deliveries } from "./deliveries.ts";
import { ConnectionLost, FrameSocket } from "./socket.ts";

const EMPTY = new Uint8Array(0);

export type { ConnectionContext } from "./context.ts";

/** A configured connection. */
export class WsConnection {
  readonly socket: FrameSocket;
  readonly ctx: ConnectionContext;
  #nonce: Uint8Array = EMPTY;
  #subscriberCounter = -1;
  #broadcasterCounter = 1;
  readonly #subscribed = new Map<Registration, Promise<void>>();
  readonly #deliveries: Deliveries;

  private constructor(socket: FrameSocket, ctx: ConnectionContext) {
    this.socket = socket;
    this.ctx = ctx;
    this.#deliveries = new Deliveries(this);
  }

  /**
   * Connects to `url` and configures the session.
   *
   * @throws {ClientError} `"unavailable"` when it cannot connect, `"unauthorized"` when the
   *   broadcaster closes after CONFIGURE, `"protocol"` for a bad CONFIRM_CONFIGURE
   */
  static async open(url: string, ctx: ConnectionContext): Promise<WsConnection> {
    ctx.compression.reset();
    const socket = await FrameSocket.open(url);
    const conn = new WsConnection(socket, ctx);
    try {
      await conn.#configure();
    } catch (e) {
      await socket.close(e instanceof ClientError ? e : new ConnectionLost(String(e)));
      throw e;
    }
    return conn;
  }

  async #configure(): Promise<void> {
    const { auth, compression } = this.ctx;
    const subscriberNonce = crypto.getRandomValues(new Uint8Array(32));
    const zstd = compression.zstd !== null;
    const fields = {
      subscriberNonce,
      enableZstd: zstd,
      enableTraining: zstd && (compression.options.allowTraining ?? false),
      initialDict: zstd ? compression.initialDictionary : 0,
    };
    let confirmed!: (m: B2SMessage) => void;
    const confirm = new Promise<B2SMessage>((r) => (confirmed = r));
    this.socket.onFrame = (m) => {
      if (m.type !== "confirm_configure") {
        throw new ClientError("protocol", `Expected CONFIRM_CONFIGURE, got ${m.type}`);
      }
      confirmed(m);
      this.socket.onFrame = (next) => this.#onFrame(next);
      return Promise.resolve();
    };
    const authorization = await auth.toBroadcaster.authorize(
      { type: "stateful_configure", ...fields },
      EMPTY,
      now(),
    );
    await this.socket.send(() =>
      encodeS2B({ type: "configure", ...fields, authorization, tracing: EMPTY })
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      confirm,
      this.socket.failed,
      new Promise<"timeout">((
        r,
      ) => (timer = setTimeout(() => r("timeout"), this.ctx.configureTimeoutMs))),
    ]).finally(() => clearTimeout(timer));
    if (outcome === "timeout") {
      throw new ConnectionLost(`No CONFIRM_CONFIGURE from ${this.socket.url}`);
    }
    if (outcome instanceof ClientError) {
      throw outcome instanceof ConnectionLost
        ? new ClientError(
          "unauthorized",
          `${this.socket.url} closed the connection after CONFIGURE (credentials refused?)`,
          { cause: outcome },
        )
        : outcome;
    }
    if (outcome.type !== "confirm_configure") throw new ClientError("protocol", "Unreachable");
    const verdict = await auth.toSubscriber.verify(
      { type: "stateful_confirm_configure", broadcasterNonce: outcome.broadcasterNonce },
      outcome.tracing,
      outcome.authorization,
      now(),
    );
    if (verdict !== "ok") {
      throw new ClientError("protocol", `CONFIRM_CONFIGURE authorization: ${verdict}`);
    }
    this.#nonce = new Uint8Array(
      createHash("sha256").update(subscriberNonce).update(outcome.broadcasterNonce).digest(),
    );
  }

  /** The url of the next subscriber-counter value (consumes it: call only while building a frame). */
  nextSubscriberUrl(): string {
    return pseudoUrl(this.#nonce, this.#subscriberCounter--);
  }

  /** The url of the next broadcaster-counter value (consumes it). */
  nextBroadcasterUrl(): string {
    return pseudoUrl(this.#nonce, this.#broadcasterCounter++);
  }

  /** Verifies a broadcaster message's authorization; throws `"protocol"` when it fails. */
  async verify(
    m: AuthMessage,
    tracing: Uint8Array,
    authorization: string | null,
    what: string,
  ): Promise<void> {
    const verdict = await this.ctx.auth.toSubscriber.verify(m, tracing, authorization, now());
    if (verdict !== "ok") throw new ClientError("protocol", `${what} authorization: ${verdict}`);
  }

  /** Subscribes `reg` on this connection (once; later calls share the first). */
  subscribe(reg: Registration): Promise<void> {
    let p = this.#subscribed.get(reg);
    if (p !== undefined) return p;
    p = this.#subscription(reg, true);
    this.#subscribed.set(reg, p);
    p.catch(() => {});
    return p;
  }

  /** Unsubscribes `reg` if this connection subscribed it. */
  async unsubscribe(reg: Registration): Promise<void> {
    const p = this.#subscribed.get(reg);
    if (p === undefined) return;
    this.#subscribed.delete(reg);
    await p;
    await this.#subscription(reg, false);
  }

  async #subscription(reg: Registration, add: boolean): Promise<void> {
    const exact = reg.kind === "exact";
    const type = `${add ? "subscribe" : "unsubscribe"}_${reg.kind}` as const;
    await this.socket.send(async () => {
      const url = this.nextSubscriberUrl();
      const authorization = await this.ctx.auth.toBroadcaster.authorize(
        exact
          ? { type: "subscribe_exact", url, recovery: null, topic: reg.topic! }
          : { type: "subscribe_glob", url, recovery: null, glob: reg.glob! },
        EMPTY,
        now(),
      );
      return encodeS2B(
        exact
          ? { type: type as "subscribe_exact", authorization, tracing: EMPTY, topic: reg.topic! }
          : { type: type as "subscribe_glob", authorization, tracing: EMPTY, glob: reg.glob! },
      );
    }, {
      type: `confirm_${type}`,
      check: (m) =>
        exact
          ? "topic" in m && bytesEqual(m.topic, reg.topic!)
          : "glob" in m && m.glob === reg.glob,
    });
  }

  async #onFrame(m: B2SMessage): Promise<void> {
    switch (m.type) {
      case "confirm_subscribe_exact":
      case "confirm_subscribe_glob":
      case "confirm_unsubscribe_exact":
      case "confirm_unsubscribe_glob":
      case "confirm_notify":
      case "continue_notify":
        this.socket.acknowledge(m);
        return;
      case "receive_stream":
        await this.#deliveries.part(m);
        return;
      case "confirm_configure":
        throw new ClientError("protocol", "Second CONFIRM_CONFIGURE");
      default:
        await this.#control(m);
    }
  }

  async #control(m: B2SMessage): Promise<void> {
    if (this.#deliveries.busy) {
      throw new ClientError("protocol", `${m.type} in the middle of a delivery`);
    }
    const url = this.nextBroadcasterUrl();
    const c = this.ctx.compression;
    switch (m.type) {
      case "enable_zstd_preset":
        await this.verify(
          {
            type: "stateful_enable_zstd_preset",
            url,
            compressorId: m.identifier,
            level: m.compressionLevel,
            minSize: m.minSize,
            maxSize: m.maxSize,
          },
          m.tracing,
          m.authorization,
          "ENABLE_ZSTD_PRESET",
        );
        c.enablePreset(m.identifier, m.compressionLevel, m.minSize, m.maxSize);
        return;
      case "enable_zstd_custom":
        await this.verify(
          {
            type: "stateful_enable_zstd_custom",
            url,
            compressorId: m.identifier,
            level: m.compressionLevel,
            minSize: m.minSize,
            maxSize: m.maxSize,
            dictionarySha512: m.sha512,
          },
          m.tracing,
          m.authorization,
          "ENABLE_ZSTD_CUSTOM",
        );
        c.enableCustom(m.identifier, m.compressionLevel, m.minSize, m.maxSize, m.dictionary);
        return;
      case "disable_zstd_custom":
        await this.verify(
          { type: "stateful_disable_zstd_custom", compressorId: m.identifier, url },
          m.tracing,
          m.authorization,
          "DISABLE_ZSTD_CUSTOM",
        );
        c.disable(m.identifier);
        return;
      case "missed":
        await this.verify(
          { type: "missed", recovery: url, topic: m.topic },
          m.tracing,
          m.authorization,
          "MISSED",
        );
        this.ctx.status.blip();
        return;
      default:
        throw new ClientError("protocol", `Unexpected ${m.type}`);
    }
  }

  /** Closes the connection (the client is closing or giving it up). */
  async close(reason: ClientError): Promise<void> {
    await this.socket.close(reason);
    await this.#deliveries.discard();
  }
}
