/**
 * The websocket transport: `GET /v1/websocket` upgrades through a runtime's
 * {@link WebSocketUpgrader} and runs one {@link Session} per connection; the
 * {@link WebsocketHub} keeps the relay rows every broadcaster process shares.
 *
 * @example
 * ```ts
 * import { CloseCode } from "./mod.ts";
 * console.log(CloseCode.TRY_AGAIN_LATER); // 1013
 * ```
 *
 * @module
 */

import { backgroundInterval } from "../background_timer.ts";
import type { Context } from "../core/context.ts";
import type { Compression } from "./compression.ts";
import { type CompressionOptions, compressionSettings } from "./compression_options.ts";
import type { Session } from "./session.ts";
import type { WebsocketHub } from "./hub.ts";
import type { WebSocketUpgrader } from "./socket.ts";

export { CloseCode, WsClose } from "./close.ts";
export { COMPRESSION_DEFAULTS } from "./compression_options.ts";
export type { CompressionOptions, CompressionSettings, ZstdPreset } from "./compression_options.ts";
export { denoUpgrader } from "./deno_upgrader.ts";
export { WebsocketHub } from "./hub.ts";
export type { HubConnection, HubDeps } from "./hub.ts";
export type { WebSocketUpgrader, WsEvents, WsPeer } from "./socket.ts";

const TEXT = { "content-type": "text/plain; charset=utf-8" };

/** What the first upgrade loads: the session code and the process's zstd. */
interface Loaded {
  readonly Session: typeof Session;
  readonly zstd: Compression | null;
}

/** The websocket endpoint and every open session. */
export class WebsocketService {
  readonly #ctx: Context;
  readonly #hub: WebsocketHub;
  readonly #prefix: string;
  readonly #upgrader: WebSocketUpgrader | null;
  readonly #compression: CompressionOptions | null;
  #loaded: Loaded | null = null;
  #loading: Promise<Loaded> | null = null;
  readonly #sessions = new Set<Session>();
  #idle: (() => void) | null = null;
  readonly #stopReconcile: () => void;
  #closing = false;

  /**
   * `upgrader` is the runtime's default (null where the runtime needs a
   * per-request one, e.g. Bun's server or Node's raw socket); `prefix` is the
   * normalised mount point, part of the relay url learnt from requests;
   * `compression` the zstd options (checked now), null for none. The
   * sessions' code and zstd load at the first upgrade, not here: a
   * broadcaster no websocket reaches does not hold them (bench/README.md,
   * "Idle memory").
   *
   * @throws {RangeError} for an invalid compression option
   */
  constructor(
    ctx: Context,
    hub: WebsocketHub,
    upgrader: WebSocketUpgrader | null,
    prefix: string,
    compression: CompressionOptions | null = null,
  ) {
    this.#ctx = ctx;
    this.#compression = compression !== null && compressionSettings(compression) !== null
      ? compression
      : null;
    this.#hub = hub;
    this.#upgrader = upgrader;
    this.#prefix = prefix;
    this.#stopReconcile = backgroundInterval(
      ctx.limits.relayReconcileMs,
      () => void hub.reconcile(),
    );
  }

  /** Open connections. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Answers `GET /v1/websocket`: the upgrade, or a 4xx/5xx with a reason. */
  async handle(req: Request, upgrader?: WebSocketUpgrader): Promise<Response> {
    if (req.method !== "GET") {
      return new Response("Method not allowed: use GET with a websocket upgrade\n", {
        status: 405,
        headers: { ...TEXT, allow: "GET" },
      });
    }
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("Expected a websocket upgrade\n", {
        status: 426,
        headers: { ...TEXT, upgrade: "websocket" },
      });
    }
    if (this.#closing) return new Response("Shutting down\n", { status: 503, headers: TEXT });
    const chosen = upgrader ?? this.#upgrader;
    if (chosen === null) {
      return new Response("Websockets are not available on this server\n", {
        status: 501,
        headers: TEXT,
      });
    }
    // Without a configured relay url, peers are assumed to reach us as this client did.
    if (this.#hub.base === null) this.#hub.learnBase(new URL(req.url).origin + this.#prefix);
    const { Session, zstd } = this.#loaded ?? await this.#load();
    if (this.#closing) return new Response("Shutting down\n", { status: 503, headers: TEXT });
    try {
      return await chosen.upgrade(req, (peer) => {
        const session = new Session(this.#ctx, this.#hub, peer, (s) => this.#ended(s), zstd);
        this.#sessions.add(session);
        return session;
      }, this.#ctx.limits.websocketMaxIncomingBytes);
    } catch (error) {
      this.#ctx.log.debug("Websocket upgrade refused", { error });
      return new Response("Invalid websocket upgrade request\n", { status: 400, headers: TEXT });
    }
  }

  /**
   * Closes every connection (1001), waits up to `graceMs` for their work to
   * end, then removes this process's relay rows.
   */
  async close(graceMs: number): Promise<void> {
    this.#closing = true;
    this.#stopReconcile();
    for (const session of this.#sessions) session.shutdown();
    if (this.#sessions.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.#idle = resolve),
        new Promise<void>((resolve) => timer = setTimeout(resolve, graceMs)),
      ]);
      clearTimeout(timer);
    }
    await this.#hub.close();
    (await this.#loading)?.zstd?.close();
  }

  /** Loads the sessions' code and creates the zstd of the process, once. */
  #load(): Promise<Loaded> {
    this.#loading ??= Promise.all([import("./session.ts"), import("./compression.ts")]).then(
      ([session, compression]) =>
        this.#loaded = {
          Session: session.Session,
          zstd: this.#compression === null
            ? null
            : compression.Compression.create(this.#compression, this.#ctx.log),
        },
    );
    return this.#loading;
  }

  #ended(session: Session): void {
    this.#sessions.delete(session);
    if (this.#sessions.size === 0) this.#idle?.();
  }
}
