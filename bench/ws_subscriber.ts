/**
 * Bench websocket subscribers: `--connections N` websockets from this one
 * process to a broadcaster's `/v1/websocket`, each configured and subscribed
 * to `--topic` (exact), then receiving deliveries as the official client
 * (lonelypsc) does: CONTINUE_RECEIVE for every non-final RECEIVE_STREAM part
 * as soon as it is in, CONFIRM_RECEIVE once the whole message is in and its
 * SHA-512 (computed incrementally, nothing is kept) matches the announced one.
 * Auth is `none`, so the acknowledgements carry no authorization and the
 * pseudo-url counters are not needed.
 *
 * Once every connection is subscribed it serves, on a fresh loopback port:
 * `GET /stats` (JSON counters) and `GET /progress`, a websocket on which it
 * pushes `<completed deliveries> <parts received>` (text) whenever they
 * changed, at most once per event-loop turn (the load generator paces and
 * times on it). Prints `LISTENING <port>`.
 *
 * Usage: deno run -A bench/ws_subscriber.ts --url http://127.0.0.1:PORT --topic T --connections N
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";
import { parseArgs } from "node:util";
import { bytesEqual } from "../src/protocol/bytes.ts";
import { type B2SMessage, encodeS2B, parseB2S } from "../src/protocol/stateful/mod.ts";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    topic: { type: "string", default: "ws" },
    connections: { type: "string", default: "1" },
    // Connections opened at once while setting up.
    parallel: { type: "string", default: "25" },
  },
});
if (values.url === undefined) throw new Error("Missing --url");
const wsUrl = values.url.replace(/^http/, "ws").replace(/\/+$/, "") + "/v1/websocket";
const topic = new TextEncoder().encode(values.topic);
const EMPTY = new Uint8Array(0);

/** Counters over all connections (GET /stats). */
const stats = {
  connections: 0,
  open: 0,
  /** Completed deliveries (CONFIRM_RECEIVE sent). */
  delivered: 0,
  /** Message bytes of completed deliveries. */
  bytes: 0,
  parts: 0,
  /** Deliveries whose SHA-512 did not match (no CONFIRM_RECEIVE sent). */
  badDigest: 0,
  /** Protocol surprises (part out of order, unexpected message, …). */
  errors: 0,
  /** Connections closed by the broadcaster after setup. */
  closed: 0,
  firstError: null as string | null,
  /** Wall clock (ms since the epoch, sub-ms) of the last completed delivery. */
  lastAt: 0,
};

function fail(why: string): void {
  stats.errors++;
  stats.firstError ??= why;
}

const progress = new Set<WebSocket>();
let pushScheduled = false;

function progressText(): string {
  return `${stats.delivered} ${stats.parts}`;
}

function pushProgress(): void {
  pushScheduled = false;
  const text = progressText();
  for (const p of progress) if (p.readyState === WebSocket.OPEN) p.send(text);
}

/** Schedules one push of the counters to every progress listener. */
function changed(): void {
  if (!pushScheduled && progress.size > 0) {
    pushScheduled = true;
    setTimeout(pushProgress, 0);
  }
}

function delivered(bytes: number): void {
  stats.delivered++;
  stats.bytes += bytes;
  stats.lastAt = performance.timeOrigin + performance.now();
}

/** The delivery a connection is receiving. */
interface Incoming {
  identifier: Uint8Array;
  nextPart: number;
  total: number;
  received: number;
  sha512: Uint8Array;
  hash: Hash;
}

/** Opens, configures and subscribes one connection; resolves once subscribed. */
function connect(): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl);
    socket.binaryType = "arraybuffer";
    let state: "configuring" | "subscribing" | "open" | "closed" = "configuring";
    let current: Incoming | null = null;
    const send = (bytes: Uint8Array) => socket.send(bytes as Uint8Array<ArrayBuffer>);

    socket.onopen = () => {
      stats.open++;
      const subscriberNonce = crypto.getRandomValues(new Uint8Array(32));
      send(encodeS2B({
        type: "configure",
        subscriberNonce,
        enableZstd: false,
        enableTraining: false,
        initialDict: 0,
        authorization: null,
        tracing: EMPTY,
      }));
    };
    socket.onerror = () => {
      if (state === "configuring" || state === "subscribing") reject(new Error("websocket failed"));
    };
    socket.onclose = (e) => {
      stats.open--;
      if (state === "open") {
        stats.closed++;
        stats.firstError ??= `closed by the broadcaster: ${e.code} ${e.reason}`;
      } else if (state !== "closed") {
        reject(new Error(`closed during setup: ${e.code} ${e.reason}`));
      }
      state = "closed";
    };
    socket.onmessage = (e: MessageEvent) => {
      if (typeof e.data === "string") return fail("text message");
      let msg: B2SMessage;
      try {
        msg = parseB2S(new Uint8Array(e.data as ArrayBuffer));
      } catch (error) {
        return fail(`unparsable message: ${error}`);
      }
      if (state === "configuring") {
        if (msg.type !== "confirm_configure") return reject(new Error(`got ${msg.type} first`));
        state = "subscribing";
        send(encodeS2B({ type: "subscribe_exact", authorization: null, tracing: EMPTY, topic }));
        return;
      }
      if (state === "subscribing") {
        if (msg.type !== "confirm_subscribe_exact") {
          return reject(new Error(`got ${msg.type} for the subscribe`));
        }
        state = "open";
        stats.connections++;
        resolve();
        return;
      }
      if (msg.type !== "receive_stream") return fail(`unexpected ${msg.type}`);
      if (msg.partId === 0) {
        if (current !== null || msg.first === null) return fail("part 0 inside a delivery");
        current = {
          identifier: msg.identifier.slice(),
          nextPart: 0,
          total: Number(msg.first.compressedLength),
          received: 0,
          sha512: msg.first.compressedSha512.slice(),
          hash: createHash("sha512"),
        };
      }
      const d = current;
      if (d === null || msg.partId !== d.nextPart || !bytesEqual(msg.identifier, d.identifier)) {
        return fail("part out of order");
      }
      stats.parts++;
      changed();
      d.nextPart++;
      d.received += msg.body.length;
      d.hash.update(msg.body);
      if (d.received > d.total) return fail("delivery longer than announced");
      if (d.received < d.total) {
        send(encodeS2B({
          type: "continue_receive",
          identifier: d.identifier,
          partId: msg.partId,
          authorization: null,
          tracing: EMPTY,
        }));
        return;
      }
      current = null;
      if (!bytesEqual(new Uint8Array(d.hash.digest()), d.sha512)) {
        // The official client disconnects here; count it and stay (the bench reports it).
        stats.badDigest++;
        return;
      }
      send(encodeS2B({
        type: "confirm_receive",
        identifier: d.identifier,
        numSubscribers: 1,
        authorization: null,
        tracing: EMPTY,
      }));
      delivered(d.total);
    };
  });
}

/** {@link connect}, tried three times (a loaded machine refuses the odd connection). */
async function connectRetrying(): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      return await connect();
    } catch (error) {
      if (attempt >= 3) throw error;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

const total = Number(values.connections);
const parallel = Math.max(1, Number(values.parallel));
let next = 0;
await Promise.all(Array.from({ length: Math.min(parallel, total) }, async () => {
  while (next < total) {
    next++;
    await connectRetrying();
  }
}));

const server = Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(`LISTENING ${port}`),
}, (req) => {
  const path = new URL(req.url).pathname;
  if (path === "/progress" && req.headers.get("upgrade")?.toLowerCase() === "websocket") {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onopen = () => {
      progress.add(socket);
      socket.send(progressText());
    };
    socket.onclose = () => progress.delete(socket);
    return response;
  }
  return Response.json(stats);
});
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
await server.finished;
