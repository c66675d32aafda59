/**
 * `connectHttp`: the webhook transport. Publishing is one POST per notify;
 * receiving needs a url the broadcasters can reach: the client either serves
 * it itself (`receiver: { url, port }`) or hands out `handle(req)` to mount
 * in an existing server (`receiver: { url }`).
 *
 * @module
 */

import { type HandlerServer, serveHandler } from "../../runtime/mod.ts";
import { type NotifyBody, type NotifyOptions, prepareBody } from "../body.ts";
import { ClientError } from "../errors.ts";
import { Registry } from "../registry.ts";
import { resolveSettings, topicBytes } from "../settings.ts";
import { SpoolDir } from "../spool.ts";
import { StatusEmitter } from "../status.ts";
import type { Subscription } from "../subscription.ts";
import type { Client, CommonOptions, NotifyResult } from "../types.ts";
import { holdOutgoingClient } from "../../outbound/http1/mod.ts";
import { Broadcasters, DEFAULT_REQUEST_TIMEOUT_MS } from "./post.ts";
import { handleReceiver, missedUrl, type ReceiverContext, receiveUrl } from "./receiver.ts";
import { httpNotify, httpSubscription } from "./requests.ts";

/** Where the broadcasters deliver. */
export interface ReceiverOptions {
  /**
   * The base url broadcasters reach this client at, e.g.
   * `http://10.0.0.7:4000` or `https://app.example/pubsub`; the client adds
   * `/v1/receive?s=<n>` and `/v1/missed?s=<n>`.
   */
  readonly url: string;
  /** Serve the receiver on this port (0: any free one; the url must then be updated by you). */
  readonly port?: number;
  /** Interface to bind when serving. Default `127.0.0.1`. */
  readonly hostname?: string;
}

/** Options of {@link connectHttp}. */
export interface HttpClientOptions extends CommonOptions {
  /** The webhook receiver; without it the client can only publish. */
  readonly receiver?: ReceiverOptions;
  /** Per-request timeout. Default 60 s. */
  readonly requestTimeoutMs?: number;
}

/** The webhook client. */
export interface HttpClient extends Client {
  /** Answers the broadcaster's RECEIVE and MISSED requests; mount it at the receiver url. */
  handle(req: Request): Promise<Response>;
  /** The port the client serves its receiver on, or null when it serves none. */
  readonly port: number | null;
}

/**
 * Connects the webhook transport. Nothing is sent until the first call.
 *
 * @throws {ClientError} `"invalid"` for bad options; the port's error when it is taken
 */
export async function connectHttp(options: HttpClientOptions): Promise<HttpClient> {
  const settings = resolveSettings(options, ["http:", "https:"]);
  const broadcasters = new Broadcasters(settings.broadcasters);
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const status = new StatusEmitter("ok");
  const spool = new SpoolDir(settings.spoolDirectory);
  const registry = new Registry(settings.queue, () => status.blip());
  const base = options.receiver?.url.replace(/\/+$/, "") ?? null;
  const ctx: ReceiverContext | null = base === null ? null : {
    base,
    auth: settings.auth,
    registry,
    spool,
    status,
    spoolThresholdBytes: settings.spoolThresholdBytes,
    maxMessageBytes: settings.maxMessageBytes,
  };
  registry.transport = {
    add: (reg) => {
      if (base === null) {
        return Promise.reject(
          new ClientError(
            "invalid",
            "This client has no receiver: pass options.receiver to subscribe",
          ),
        );
      }
      return httpSubscription(
        broadcasters,
        settings.auth,
        true,
        reg,
        receiveUrl(base, reg),
        missedUrl(base, reg),
        timeoutMs,
      );
    },
    remove: (reg) =>
      httpSubscription(
        broadcasters,
        settings.auth,
        false,
        reg,
        receiveUrl(base!, reg),
        missedUrl(base!, reg),
        timeoutMs,
      ),
  };
  const handle = (req: Request): Promise<Response> =>
    ctx === null || closed
      ? Promise.resolve(new Response("No receiver", { status: 404 }))
      : handleReceiver(ctx, req);
  const releaseOutgoing = await holdOutgoingClient();
  let server: HandlerServer | null = null;
  if (options.receiver?.port !== undefined) {
    server = await serveHandler(handle, {
      port: options.receiver.port,
      ...(options.receiver.hostname === undefined ? {} : { hostname: options.receiver.hostname }),
    });
  }
  let closed = false;
  let closing: Promise<void> | null = null;
  const check = () => {
    if (closed) throw new ClientError("closed", "The client is closed");
  };

  const client: HttpClient = {
    port: server?.port ?? null,
    handle,
    get status() {
      return status.current;
    },
    onStatus: (l) => status.listen(l),
    async notify(
      topic: string | Uint8Array,
      body: NotifyBody,
      o: NotifyOptions = {},
    ): Promise<NotifyResult> {
      check();
      const t = topicBytes(topic);
      const prepared = await prepareBody(body, o, spool);
      try {
        return {
          notified: await httpNotify(broadcasters, settings.auth, t, prepared, timeoutMs, o.signal),
        };
      } finally {
        await prepared.release();
      }
    },
    async subscribeExact(topic): Promise<Subscription> {
      check();
      return await registry.subscribe("exact", topicBytes(topic));
    },
    async subscribeGlob(pattern): Promise<Subscription> {
      check();
      return await registry.subscribe("glob", pattern);
    },
    close() {
      closing ??= (async () => {
        const regs = registry.all();
        closed = true;
        registry.close();
        if (base !== null) {
          await Promise.all(
            regs.map((reg) =>
              httpSubscription(
                broadcasters,
                settings.auth,
                false,
                reg,
                receiveUrl(base, reg),
                missedUrl(base, reg),
                timeoutMs,
              )
                .catch(() => {})
            ),
          );
        }
        await server?.close();
        await releaseOutgoing();
        await spool.remove();
        status.emit("abandoned");
      })();
      return closing;
    },
    [Symbol.asyncDispose]() {
      return client.close();
    },
  };
  return client;
}
