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
 * zstd (`--zstd`, `--training`): CONFIGURE then sets x-enable-zstd (and
 * x-enable-training); ENABLE_ZSTD_PRESET / ENABLE_ZSTD_CUSTOM /
 * DISABLE_ZSTD_CUSTOM are tracked per connection (a custom dictionary's
 * SHA-512 is checked), and a compressed delivery is collected whole, checked
 * against its announced SHA-512, decompressed with the compressor it names
 * (which must be announced) to exactly its announced length. With
 * `--corpus N` every delivered plaintext's SHA-512 must be that of one of
 * the N messages of the bench corpus (tests/compression/_corpus.ts, seed
 * `--corpus-seed`); a mismatch is counted in `badPlain` and not confirmed.
 * The counters say how many payload bytes (RECEIVE_STREAM bodies) and whole
 * RECEIVE_STREAM frames came in and which compressor each delivery used.
 *
 * Once every connection is subscribed it serves, on a fresh loopback port:
 * `GET /stats` (JSON counters) and `GET /progress`, a websocket on which it
 * pushes `<completed deliveries> <parts received>` (text) whenever they
 * changed, at most once per event-loop turn (the load generator paces and
 * times on it). Prints `LISTENING <port>`.
 *
 * Usage: deno run -A bench/ws_subscriber.ts --url http://127.0.0.1:PORT --topic T --connections N
 *   [--zstd [--training]] [--corpus N [--corpus-seed S]]
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";
import { parseArgs } from "node:util";
import { loadZstd, type Zstd, type ZstdDictionary } from "../src/compression/mod.ts";
import { bytesEqual } from "../src/protocol/bytes.ts";
import { type B2SMessage, encodeS2B, parseB2S } from "../src/protocol/stateful/mod.ts";
import { messageCorpus } from "../tests/compression/_corpus.ts";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    topic: { type: "string", default: "ws" },
    connections: { type: "string", default: "1" },
    // Connections opened at once while setting up.
    parallel: { type: "string", default: "25" },
    // CONFIGURE with x-enable-zstd / x-enable-training.
    zstd: { type: "boolean", default: false },
    training: { type: "boolean", default: false },
    // Check every plaintext against the bench corpus of this many messages.
    corpus: { type: "string" },
    "corpus-seed": { type: "string", default: "1" },
  },
});
if (values.url === undefined) throw new Error("Missing --url");
const wsUrl = values.url.replace(/^http/, "ws").replace(/\/+$/, "") + "/v1/websocket";
const topic = new TextEncoder().encode(values.topic);
const EMPTY = new Uint8Array(0);
/** Largest compressed delivery collected whole (the bench's are under 1 KiB). */
const MAX_COMPRESSED = 64 * 1024 * 1024;

let zstd: Zstd | null = null;
if (values.zstd) {
  const loaded = await loadZstd();
  if ("unavailable" in loaded) throw new Error(`--zstd needs libzstd: ${loaded.unavailable}`);
  zstd = loaded;
}
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const sha512 = (b: Uint8Array) => new Uint8Array(createHash("sha512").update(b).digest());
/** SHA-512s (hex) of the corpus messages, with --corpus. */
const corpusHashes = values.corpus === undefined ? null : new Set(
  messageCorpus(Number(values.corpus), Number(values["corpus-seed"])).map((m) => hex(sha512(m))),
);

/** Counters over all connections (GET /stats). */
const stats = {
  connections: 0,
  open: 0,
  /** Completed deliveries (CONFIRM_RECEIVE sent). */
  delivered: 0,
  /** Payload bytes (as sent: compressed when compressed) of completed deliveries. */
  bytes: 0,
  /** Plaintext bytes of completed deliveries (after decompression). */
  plainBytes: 0,
  parts: 0,
  /** RECEIVE_STREAM body bytes, every part. */
  payloadBytes: 0,
  /** Whole RECEIVE_STREAM messages (headers and body), every part. */
  frameBytes: 0,
  /** Completed deliveries by compressor: none, id 1, a preset, a custom dictionary. */
  viaPlain: 0,
  viaId1: 0,
  viaPreset: 0,
  viaCustom: 0,
  /** ENABLE_ZSTD_PRESET, ENABLE_ZSTD_CUSTOM, DISABLE_ZSTD_CUSTOM received. */
  enabledPreset: 0,
  enabledCustom: 0,
  disabledCustom: 0,
  /** Bytes of the ENABLE/DISABLE messages (dictionaries included). */
  controlFrameBytes: 0,
  /** Deliveries whose plaintext is not a corpus message (with --corpus), or would not decode. */
  badPlain: 0,
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

function delivered(bytes: number, plainBytes: number, compressor: number): void {
  stats.delivered++;
  stats.bytes += bytes;
  stats.plainBytes += plainBytes;
  if (compressor === 0) stats.viaPlain++;
  else if (compressor === 1) stats.viaId1++;
  else if (compressor < 65_536) stats.viaPreset++;
  else stats.viaCustom++;
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
  /** Compressor id (0 = none). */
  compressor: number;
  decompressedLength: number;
  /** A compressed delivery's bytes, collected whole to be decompressed. */
  wire: Uint8Array | null;
}

/** Opens, configures and subscribes one connection; resolves once subscribed. */
function connect(): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl);
    socket.binaryType = "arraybuffer";
    let state: "configuring" | "subscribing" | "open" | "closed" = "configuring";
    let current: Incoming | null = null;
    /** Compressors announced to this connection: id → dictionary (null: none). */
    const compressors = new Map<number, ZstdDictionary | null>();
    const send = (bytes: Uint8Array) => socket.send(bytes as Uint8Array<ArrayBuffer>);
    /** Applies ENABLE/DISABLE_ZSTD_*; false for any other message. */
    const control = (msg: B2SMessage, frameBytes: number): boolean => {
      if (msg.type === "enable_zstd_preset") {
        stats.enabledPreset++;
        if (msg.identifier !== 1) fail(`preset ${msg.identifier} announced, none asked for`);
        compressors.set(msg.identifier, null);
      } else if (msg.type === "enable_zstd_custom") {
        stats.enabledCustom++;
        if (zstd === null) fail("ENABLE_ZSTD_CUSTOM without x-enable-zstd");
        else if (!bytesEqual(sha512(msg.dictionary), msg.sha512)) fail("dictionary SHA-512");
        else {
          compressors.get(msg.identifier)?.close();
          compressors.set(msg.identifier, zstd.loadDictionary(msg.dictionary.slice()));
        }
      } else if (msg.type === "disable_zstd_custom") {
        stats.disabledCustom++;
        if (!compressors.has(msg.identifier)) fail(`disable of unknown id ${msg.identifier}`);
        compressors.get(msg.identifier)?.close();
        compressors.delete(msg.identifier);
      } else return false;
      stats.controlFrameBytes += frameBytes;
      return true;
    };

    socket.onopen = () => {
      stats.open++;
      const subscriberNonce = crypto.getRandomValues(new Uint8Array(32));
      send(encodeS2B({
        type: "configure",
        subscriberNonce,
        enableZstd: values.zstd,
        enableTraining: values.zstd && values.training,
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
      for (const d of compressors.values()) d?.close();
      compressors.clear();
    };
    socket.onmessage = (e: MessageEvent) => {
      if (typeof e.data === "string") return fail("text message");
      let msg: B2SMessage;
      const frameBytes = (e.data as ArrayBuffer).byteLength;
      try {
        msg = parseB2S(new Uint8Array(e.data as ArrayBuffer));
      } catch (error) {
        return fail(`unparsable message: ${error}`);
      }
      if (control(msg, frameBytes)) return;
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
        const { compressor, compressedLength, decompressedLength } = msg.first;
        const total = Number(compressedLength);
        if (compressor !== 0 && !compressors.has(compressor)) {
          return fail(`delivery with unannounced compressor ${compressor}`);
        }
        if (compressor !== 0 && total > MAX_COMPRESSED) {
          return fail("compressed delivery too large");
        }
        if (compressor === 0 && decompressedLength !== compressedLength) {
          return fail("uncompressed delivery with two lengths");
        }
        current = {
          identifier: msg.identifier.slice(),
          nextPart: 0,
          total,
          received: 0,
          sha512: msg.first.compressedSha512.slice(),
          hash: createHash("sha512"),
          compressor,
          decompressedLength: Number(decompressedLength),
          wire: compressor === 0 ? null : new Uint8Array(total),
        };
      }
      const d = current;
      if (d === null || msg.partId !== d.nextPart || !bytesEqual(msg.identifier, d.identifier)) {
        return fail("part out of order");
      }
      stats.parts++;
      stats.payloadBytes += msg.body.length;
      stats.frameBytes += frameBytes;
      changed();
      d.nextPart++;
      if (d.received + msg.body.length > d.total) return fail("delivery longer than announced");
      d.wire?.set(msg.body, d.received);
      d.received += msg.body.length;
      d.hash.update(msg.body);
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
      let plainBytes = d.total;
      if (d.wire !== null) {
        const plain = decode(d.wire, compressors.get(d.compressor) ?? null, d.decompressedLength);
        if (plain === null) return;
        plainBytes = plain.length;
        if (corpusHashes !== null && !corpusHashes.has(hex(sha512(plain)))) {
          stats.badPlain++;
          stats.firstError ??= "decompressed delivery is no corpus message";
          return;
        }
      } else if (corpusHashes !== null && !corpusHashes.has(hex(d.sha512))) {
        stats.badPlain++;
        stats.firstError ??= "delivery is no corpus message";
        return;
      }
      send(encodeS2B({
        type: "confirm_receive",
        identifier: d.identifier,
        numSubscribers: 1,
        authorization: null,
        tracing: EMPTY,
      }));
      delivered(d.total, plainBytes, d.compressor);
    };
  });
}

/** A compressed delivery decompressed to exactly `length` bytes; null (counted) if not. */
function decode(
  wire: Uint8Array,
  dictionary: ZstdDictionary | null,
  length: number,
): Uint8Array | null {
  try {
    const plain = zstd!.decompress(wire, {
      maxOutputBytes: length,
      maxWindowBytes: 8 << 20,
      ...(dictionary === null ? {} : { dictionary }),
    });
    if (plain.length === length) return plain;
    stats.firstError ??= `decompressed to ${plain.length} bytes, announced ${length}`;
  } catch (error) {
    stats.firstError ??= `does not decompress: ${error}`;
  }
  stats.badPlain++;
  return null;
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
