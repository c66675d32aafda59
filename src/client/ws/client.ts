/**
 * `connectWebsocket`: the stateful transport. One connection at a time to
 * one of the broadcasters; when it drops the client reports `"lost"`,
 * reconnects (exponential backoff with full jitter, trying the next
 * broadcaster first), subscribes everything still open again, and reports
 * `"ok"`. A notify whose connection dropped before its confirmation is sent
 * again on the next connection when its body can be read again.
 *
 * @module
 */

import { type NotifyBody, type NotifyOptions, prepareBody } from "../body.ts";
import { abortError, ClientError } from "../errors.ts";
import { Registry } from "../registry.ts";
import { resolveSettings, topicBytes } from "../settings.ts";
import { SpoolDir } from "../spool.ts";
import { StatusEmitter } from "../status.ts";
import type { Subscription } from "../subscription.ts";
import type { Client, CommonOptions, NotifyResult } from "../types.ts";
import { backoffDelay, type ReconnectOptions, resolveBackoff, sleep } from "./backoff.ts";
import { type CompressionOptions, CompressorTable } from "./compression.ts";
import { WsConnection } from "./connection.ts";
import type { ConnectionContext } from "./context.ts";
import { wsNotify } from "./notify.ts";
import { ConnectionLost } from "./socket.ts";

/** Options of {@link connectWebsocket}. */
export interface WebsocketClientOptions extends CommonOptions {
  /** zstd (see {@link CompressionOptions}). Default off. */
  readonly compression?: CompressionOptions;
  /** Reconnect policy (see {@link ReconnectOptions}). */
  readonly reconnect?: ReconnectOptions;
  /** Largest frame this client sends; bigger bodies go in NOTIFY_STREAM parts. Default 1 MiB. */
  readonly maxFrameBytes?: number;
  /** How long to wait for CONFIRM_CONFIGURE. Default 10 s. */
  readonly configureTimeoutMs?: number;
}

/**
 * Connects to the first broadcaster that accepts (trying each once); resolves
 * once configured.
 *
 * @throws {ClientError} for bad options, or when no broadcaster accepted
 */
export async function connectWebsocket(options: WebsocketClientOptions): Promise<Client> {
  const settings = resolveSettings(options, ["ws:", "wss:"]);
  const backoff = resolveBackoff(options.reconnect);
  const status = new StatusEmitter("lost");
  const compression = await CompressorTable.create(options.compression ?? { enabled: false });
  const spool = new SpoolDir(settings.spoolDirectory);
  const registry = new Registry(settings.queue, () => status.blip());
  const ctx: ConnectionContext = {
    auth: settings.auth,
    registry,
    spool,
    status,
    compression,
    spoolThresholdBytes: settings.spoolThresholdBytes,
    maxMessageBytes: settings.maxMessageBytes,
    maxFrameBytes: options.maxFrameBytes ?? 1024 * 1024,
    configureTimeoutMs: options.configureTimeoutMs ?? 10_000,
  };
  const stop = new AbortController();
  let current: WsConnection | null = null;
  let readyWaiters: { resolve: (c: WsConnection) => void; reject: (e: unknown) => void }[] = [];
  let gaveUp: ClientError | null = null;

  const whenReady = (signal?: AbortSignal): Promise<WsConnection> => {
    if (gaveUp !== null) return Promise.reject(gaveUp);
    if (current !== null && current.socket.failure === null) return Promise.resolve(current);
    return new Promise((resolve, reject) => {
      const w = { resolve, reject };
      readyWaiters.push(w);
      signal?.addEventListener("abort", () => {
        readyWaiters = readyWaiters.filter((x) => x !== w);
        reject(abortError(signal));
      }, { once: true });
    });
  };
  const giveUp = (e: ClientError) => {
    gaveUp = e;
    for (const w of readyWaiters.splice(0)) w.reject(e);
    registry.close();
    status.emit("abandoned");
  };

  registry.transport = {
    async add(reg) {
      for (;;) {
        const conn = await whenReady();
        try {
          return await conn.subscribe(reg);
        } catch (e) {
          if (!(e instanceof ConnectionLost)) throw e;
        }
      }
    },
    async remove(reg) {
      await current?.unsubscribe(reg).catch(() => {});
    },
  };

  let first!: (e: ClientError | null) => void;
  const firstOutcome = new Promise<ClientError | null>((r) => (first = r));
  const loop = (async () => {
    const n = settings.broadcasters.length;
    let index = 0;
    let failures = 0;
    let everConnected = false;
    let lastError: ClientError | null = null;
    while (!stop.signal.aborted) {
      const url = settings.broadcasters[index % n]!;
      let conn: WsConnection | null = null;
      try {
        conn = await WsConnection.open(url, ctx);
        await Promise.all(registry.all().map((reg) => conn!.subscribe(reg)));
      } catch (e) {
        if (conn !== null) await conn.close(new ConnectionLost("Re-subscribing failed"));
        lastError = e instanceof ClientError ? e : new ClientError("unavailable", String(e));
        failures++;
        index++;
        if (!everConnected && failures >= n) {
          first(lastError);
          return;
        }
        if (failures >= backoff.maxAttempts) {
          giveUp(
            new ClientError(
              "unavailable",
              `Gave up after ${failures} attempts: ${lastError.message}`,
            ),
          );
          return;
        }
        await sleep(backoffDelay(backoff, failures - 1), stop.signal);
        continue;
      }
      if (stop.signal.aborted) {
        await conn.close(new ClientError("closed", "The client is closed"));
        return;
      }
      failures = 0;
      current = conn;
      everConnected = true;
      first(null);
      for (const w of readyWaiters.splice(0)) w.resolve(conn);
      status.emit("ok");
      const reason = await Promise.race([conn.socket.failed, stopped(stop.signal)]);
      current = null;
      if (reason === null) {
        await conn.close(new ClientError("closed", "The client is closed"));
        return;
      }
      await conn.close(reason);
      status.emit("lost");
      index++;
      await sleep(backoffDelay(backoff, 0), stop.signal);
    }
  })();

  let closing: Promise<void> | null = null;
  const close = () =>
    closing ??= (async () => {
      stop.abort();
      await loop;
      if (gaveUp === null) giveUp(new ClientError("closed", "The client is closed"));
      compression.close();
      await spool.remove();
    })();

  const failure = await firstOutcome;
  if (failure !== null) {
    await close();
    throw new ClientError(
      failure.kind,
      `No broadcaster accepted the connection: ${failure.message}`,
      {
        cause: failure,
      },
    );
  }

  const check = () => {
    if (closing !== null) throw new ClientError("closed", "The client is closed");
  };
  const client: Client = {
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
        for (;;) {
          const conn = await whenReady(o.signal);
          try {
            return { notified: await wsNotify(conn, t, prepared) };
          } catch (e) {
            if (!(e instanceof ConnectionLost) || !prepared.replayable || closing !== null) throw e;
          }
        }
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
    close,
    [Symbol.asyncDispose]: close,
  };
  return client;
}

function stopped(signal: AbortSignal): Promise<null> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(null);
    signal.addEventListener("abort", () => resolve(null), { once: true });
  });
}
