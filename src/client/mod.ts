/**
 * The lonelypss client for Deno, Bun and Node: publish and subscribe over
 * webhooks ({@link connectHttp}) or a websocket ({@link connectWebsocket}),
 * with none/token/hmac auth both ways ({@link authFromSecretsFile}).
 *
 * @example Publish and subscribe over webhooks
 * ```ts ignore
 * import { authFromSecretsFile, connectHttp } from "@lonelypss/cli/client";
 *
 * const client = await connectHttp({
 *   broadcasters: ["http://127.0.0.1:3003"],
 *   auth: await authFromSecretsFile("subscriber-secrets.json"),
 *   receiver: { url: "http://127.0.0.1:4000", port: 4000 },
 * });
 * const sub = await client.subscribeExact("cache-bust");
 * await client.notify("cache-bust", "user:42");
 * for await (const m of sub) console.log(await m.text());
 * ```
 *
 * @module
 */

export { authFromSecretsFile } from "./auth.ts";
export {
  connectHttp,
  type HttpClient,
  type HttpClientOptions,
  type ReceiverOptions,
} from "./http/client.ts";
export { connectWebsocket, type WebsocketClientOptions } from "./ws/client.ts";
export type { ReconnectOptions } from "./ws/backoff.ts";
export type { CompressionOptions, PresetDictionary } from "./ws/compression.ts";
export type { NotifyBody, NotifyOptions } from "./body.ts";
export { ClientError, type ClientErrorKind } from "./errors.ts";
export type { Message } from "./message.ts";
export type { ClientStatus } from "./status.ts";
export { DEFAULT_QUEUE_LIMITS, type QueueLimits, type Subscription } from "./subscription.ts";
export { DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_SPOOL_THRESHOLD } from "./settings.ts";
export type { Client, CommonOptions, NotifyResult } from "./types.ts";
