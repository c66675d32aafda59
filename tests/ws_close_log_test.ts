/**
 * Every websocket close is logged, with the connection's id, the close code,
 * the reason and, where a limit was hit, the limit's name: limit and error
 * closes at warn, a client's clean close and shutdown at info, and a
 * connection lost without a close frame at warn. Over real sockets, with a
 * recording logger.
 *
 * @module
 */

import assert from "node:assert/strict";
import { loadZstd } from "../src/compression/mod.ts";
import { recordingLogger } from "../src/log.ts";
import { CloseCode } from "../src/ws/close.ts";
import { startBroadcaster } from "./_harness.ts";
import { WsClient } from "./_ws_client.ts";
import { RawWsClient } from "./_ws_raw.ts";
import { assertClosed, eventually, httpNotify, sha512 } from "./_ws_checks.ts";

// libzstd is opened once for the whole file (as the broadcaster's backend
// keeps it), not inside the one test that trains.
const zstd = await loadZstd();
if ("unavailable" in zstd) throw new Error(`These tests need libzstd: ${zstd.unavailable}`);
addEventListener("unload", () => zstd.close());

type Recorded = ReturnType<typeof recordingLogger>;

interface Line {
  readonly level: string;
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

/** The recorded lines whose message starts with "Closing websocket" or "Websocket …". */
function closeLines(log: Recorded): Line[] {
  const out: Line[] = [];
  for (const line of log.lines) {
    const match = /^(\w+) (.*?) (\{.*\})$/.exec(line);
    if (match === null) continue;
    const [, level, message, json] = match;
    if (!/^(Closing websocket|Websocket (closed|connection lost))/.test(message!)) continue;
    out.push({ level: level!, message: message!, fields: JSON.parse(json!) });
  }
  return out;
}

/** Waits for exactly one close line and returns it. */
async function oneCloseLine(log: Recorded): Promise<Line> {
  await eventually(() => closeLines(log).length > 0, "a close log line");
  const lines = closeLines(log);
  assert.equal(lines.length, 1, JSON.stringify(lines));
  return lines[0]!;
}

Deno.test("ws close log: a limit hit is logged at warn with the limit's name", async () => {
  const log = recordingLogger();
  await using b = await startBroadcaster({
    logger: log,
    limits: { websocketMaxIncomingBytes: 4096 },
  });
  await using client = await WsClient.connect(b.url);
  await client.configure();
  client.sendRaw(new Uint8Array(8192));
  await assertClosed(client, CloseCode.TOO_BIG, "Message larger than the limit");
  const line = await oneCloseLine(log);
  assert.equal(line.level, "warn");
  assert.equal(line.message, "Closing websocket");
  assert.equal(line.fields.code, CloseCode.TOO_BIG);
  assert.equal(line.fields.reason, "Message larger than the limit");
  assert.equal(line.fields.limit, "websocketMaxIncomingBytes");
  assert.equal(typeof line.fields.connection, "number");
});

Deno.test("ws close log: the CONFIGURE timeout names its limit", async () => {
  const log = recordingLogger();
  await using b = await startBroadcaster({
    logger: log,
    limits: { websocketConfigureTimeoutMs: 50 },
  });
  await using client = await WsClient.connect(b.url);
  await assertClosed(client, CloseCode.POLICY, "CONFIGURE not received in time");
  const line = await oneCloseLine(log);
  assert.equal(line.level, "warn");
  assert.equal(line.fields.code, CloseCode.POLICY);
  assert.equal(line.fields.limit, "websocketConfigureTimeoutMs");
});

Deno.test("ws close log: a protocol violation is logged at warn, with no limit", async () => {
  const log = recordingLogger();
  await using b = await startBroadcaster({ logger: log });
  await using client = await WsClient.connect(b.url);
  await client.configure();
  client.sendRaw("hello");
  await assertClosed(client, CloseCode.PROTOCOL, "Text messages are not part of the protocol");
  const line = await oneCloseLine(log);
  assert.equal(line.level, "warn");
  assert.equal(line.fields.code, CloseCode.PROTOCOL);
  assert.equal(line.fields.reason, "Text messages are not part of the protocol");
  assert.equal("limit" in line.fields, false);
});

Deno.test("ws close log: a client's clean close is logged at info with its code", async () => {
  const log = recordingLogger();
  await using b = await startBroadcaster({ logger: log });
  const client = await WsClient.connect(b.url);
  await client.configure();
  await client.close();
  const line = await oneCloseLine(log);
  assert.equal(line.level, "info");
  assert.equal(line.message, "Websocket closed by the client");
  assert.equal(line.fields.code, CloseCode.NORMAL);
  assert.equal(line.fields.reason, "bye");
});

Deno.test("ws close log: a connection lost without a close frame is logged at warn", async () => {
  const log = recordingLogger();
  await using b = await startBroadcaster({ logger: log });
  const raw = await RawWsClient.connect(b.url);
  // The session exists once the broadcaster logged its opening.
  await eventually(() => log.lines.some((l) => l.includes("Websocket opened")), "the open");
  raw.close();
  const line = await oneCloseLine(log);
  assert.equal(line.level, "warn");
  assert.equal(line.message, "Websocket connection lost without a close frame");
  assert.equal(line.fields.code, 1006);
});

Deno.test("ws close log: shutdown closes with 1001, logged at info, ids distinct", async () => {
  const log = recordingLogger();
  const b = await startBroadcaster({ logger: log });
  const clients = [await WsClient.connect(b.url), await WsClient.connect(b.url)];
  for (const c of clients) await c.configure();
  await b[Symbol.asyncDispose]();
  for (const c of clients) await assertClosed(c, CloseCode.GOING_AWAY, "Server shutting down");
  const lines = closeLines(log).filter((l) => l.message === "Closing websocket");
  assert.equal(lines.length, 2, JSON.stringify(closeLines(log)));
  for (const line of lines) {
    assert.equal(line.level, "info");
    assert.equal(line.fields.code, CloseCode.GOING_AWAY);
  }
  assert.notEqual(lines[0]!.fields.connection, lines[1]!.fields.connection);
  for (const c of clients) await c[Symbol.asyncDispose]();
});

/** JSON-like messages of 100–600 bytes, alike enough for zstd to train on. */
function sample(i: number): Uint8Array {
  const keys = Array.from({ length: 2 + (i % 9) }, (_, k) => `"cache/user/${(i * 7 + k) % 97}"`);
  return new TextEncoder().encode(
    JSON.stringify({ kind: "invalidate", seq: i, at: 1_700_000_000 + i, keys }) +
      " ".repeat(40 + (i % 13) * 17),
  );
}

// A dictionary trained while the connection's outgoing queue is full: its
// announcement cannot be queued. That used to throw inside the training's
// promise callback, an unhandled rejection that ends the whole process (every
// websocket dropped without a close frame, nothing logged). Deterministic: the
// client never acknowledges, so its queue holds exactly what it sent, and the
// low watermark is reached by the last NOTIFY only, so training ends with the
// queue full.
Deno.test("ws close log: a dictionary trained while the outgoing queue is full closes 1013", async () => {
  const log = recordingLogger();
  const max = 24;
  const samples = Array.from({ length: max }, (_, i) => sample(i));
  const sampleBytes = samples.reduce((n, s) => n + s.length, 0);
  await using b = await startBroadcaster({
    logger: log,
    limits: { websocketMaxPendingSends: max, websocketMaxUnacknowledged: 1 },
    compression: { lowWatermark: sampleBytes, highWatermark: 10 * sampleBytes },
  });
  await using client = await WsClient.connect(b.url);
  await client.configure({ enableZstd: true, enableTraining: true });
  await client.expect("enable_zstd_preset");
  const topic = new TextEncoder().encode("full/queue");
  await client.subscription("subscribe_exact", topic);
  // Two deliveries too small to be samples: the first is never acknowledged,
  // so the second holds the sender (flow control) and later replies queue up.
  for (let i = 0; i < 2; i++) {
    assert.equal(await httpNotify(b.url, topic, new Uint8Array([i])), 1);
  }
  await client.expect("receive_stream");
  // `max` NOTIFYs to nobody: their CONFIRM_NOTIFYs fill the queue exactly;
  // the last one's sample reaches the low watermark.
  for (const body of samples) {
    client.send({
      type: "notify",
      authorization: null,
      tracing: new Uint8Array(0),
      identifier: crypto.getRandomValues(new Uint8Array(4)),
      topic: new TextEncoder().encode("nobody"),
      compressor: 0,
      compressedLength: BigInt(body.length),
      decompressedLength: BigInt(body.length),
      compressedSha512: sha512(body),
      body,
    });
  }
  await assertClosed(client, CloseCode.TRY_AGAIN_LATER, "Outgoing queue full: client too slow");
  const line = await oneCloseLine(log);
  assert.equal(line.level, "warn");
  assert.equal(line.fields.limit, "websocketMaxPendingSends");
});
