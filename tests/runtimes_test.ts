/**
 * One behaviour suite run against the real CLI on every runtime (Deno, Bun,
 * Node ≥ 24) over real sockets: each runtime's server adapter, SQLite binding
 * and streaming must give the same answers.
 *
 * @module
 */

import assert from "node:assert/strict";

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  encodeCheckSubscriptions,
  parseResponseCheckSubscriptions,
} from "../src/protocol/check.ts";
import { strongEtag } from "../src/protocol/etag.ts";
import { encodeSubscribeExact } from "../src/protocol/subscribe.ts";
import { cliCommand, postBytes, type Runtime, startServe, tempDir } from "./_cli.ts";
import { TestSubscriber } from "./_subscriber.ts";
import { notifyOver } from "./_harness.ts";
import { WsClient } from "./_ws_client.ts";
import { loadZstd, type Zstd } from "../src/compression/mod.ts";

/** Bodies above this many bytes are spooled to disk by the server under test. */
const SPOOL_THRESHOLD = 1024;

const EMPTY = new Uint8Array(0);
const enc = (s: string) => new TextEncoder().encode(s);

const loaded = await loadZstd();
if ("unavailable" in loaded) {
  throw new Error(`The runtime suite needs libzstd: ${loaded.unavailable}`);
}
const zstd: Zstd = loaded;
addEventListener("unload", () => zstd.close());

for (const runtime of ["deno", "bun", "node"] satisfies Runtime[]) {
  Deno.test(`runtime ${runtime}: subscribe, check, notify (in memory and spooled)`, async () => {
    await using dir = await tempDir();
    // A config file in the working directory, found without --config.
    await writeFile(
      join(dir.path, "lonelypss.json"),
      JSON.stringify({
        limits: { spoolThresholdBytes: SPOOL_THRESHOLD, spoolDir: "." },
        // id 1 from 64 bytes, so messages held in memory (below the spool threshold) use it.
        compression: { trainedMaxSize: 64 },
      }),
    );
    await using subscriber = new TestSubscriber();
    const [exe, pre] = await cliCommand(runtime);
    await using server = await startServe(
      exe,
      [
        ...pre,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--db",
        "subs.db",
        "--log-level",
        "warn",
      ],
      { cwd: dir.path },
    );
    assert.match(server.banner, /\(db subs\.db, auth none\/none\)$/);

    const url = subscriber.url("/receive");
    const topic = enc(`topic-${runtime}`);
    const subscribe = encodeSubscribeExact({ url, topic, recovery: null, tracing: EMPTY });
    assert.equal((await postBytes(`${server.url}/v1/subscribe/exact`, subscribe)).status, 200);
    assert.equal((await postBytes(`${server.url}/v1/subscribe/exact`, subscribe)).status, 409);

    const check = await postBytes(
      `${server.url}/v1/check_subscriptions`,
      encodeCheckSubscriptions({ tracing: EMPTY, url }),
    );
    assert.equal(check.status, 200);
    assert.deepEqual(
      parseResponseCheckSubscriptions(check.body).etag,
      strongEtag(url, { exacts: [{ topic, recovery: null }], globs: [] }),
    );

    const small = enc(`hello from ${runtime}`);
    assert.equal(await notifyOver(server.url, topic, small), 1);
    assert.deepEqual(subscriber.received.at(-1)?.message, small);

    const large = crypto.getRandomValues(new Uint8Array(SPOOL_THRESHOLD * 64));
    assert.equal(await notifyOver(server.url, topic, large), 1);
    assert.deepEqual(subscriber.received.at(-1)?.message, large);
    assert.deepEqual(subscriber.received.at(-1)?.receive?.topic, topic);

    // Websockets on this runtime's adapter: a websocket subscriber gets the
    // webhook subscriber's notify, once, and counts once.
    await using ws = await WsClient.connect(server.url);
    await ws.configure();
    await ws.subscription("subscribe_exact", topic);
    await ws.subscription("subscribe_glob", "topic-*");
    assert.equal(await notifyOver(server.url, topic, small), 2);
    assert.deepEqual((await ws.receive()).message, small);
    const viaWs = ws.notify(topic, large);
    const got = await ws.receive();
    assert.deepEqual(got.message, large);
    assert.equal(await viaWs, 2);
    assert.deepEqual(subscriber.received.at(-1)?.message, large);
    assert.equal((await ws.close()).code, 1000);

    // The operations endpoints on this runtime's adapter; only Node's can count connections.
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(`${health.status} ${await health.text()}`, "200 ok\n");
    const ready = await fetch(`${server.url}/readyz`);
    assert.equal(`${ready.status} ${await ready.text()}`, "200 ready\n");
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /^lonelypss_notifies_total 4$/m);
    assert.match(metrics, /^lonelypss_deliveries_total\{kind="receive",outcome="confirmed"\} 4$/m);
    const incoming = /^lonelypss_open_connections\{kind="incoming"\} (\d+)$/m.exec(metrics);
    if (runtime !== "bun") assert.ok(Number(incoming?.[1]) >= 1, `${runtime} reports connections`);
    else assert.equal(incoming, null, "no incoming count where the adapter cannot tell");

    // zstd on this runtime's backend (libzstd over FFI on Deno and Bun,
    // node:zlib on Node): id 1 announced, a large delivery compressed with it.
    await using zws = await WsClient.connect(server.url);
    await zws.configure({ enableZstd: true });
    const announced = await zws.next();
    assert.ok(announced.type === "enable_zstd_preset" && announced.identifier === 1);
    zws.broadcasterCounter++;
    await zws.subscription("subscribe_exact", topic);
    const compressible = enc(`${runtime} `.repeat(1000 / (runtime.length + 1)));
    assert.equal(await notifyOver(server.url, topic, compressible), 2);
    const part = await zws.expect("receive_stream");
    assert.equal(part.first?.compressor, 1);
    assert.ok(part.body.length < compressible.length / 5, `${part.body.length} bytes`);
    assert.deepEqual(
      zstd.decompress(part.body, {
        maxOutputBytes: compressible.length,
        maxWindowBytes: 8 << 20,
      }),
      compressible,
    );

    // A Host header that is not a valid host is the client's problem: 4xx, never a 500.
    assert.match(await rawStatusLine(server.url, "a b"), /^HTTP\/1\.1 4\d\d/);

    const stopped = await server.stop("SIGTERM");
    assert.equal(stopped.code, 0, stopped.stderr);
  });
}

/** Sends one raw HTTP/1.1 request with the given Host header; returns the status line. */
async function rawStatusLine(base: string, host: string): Promise<string> {
  const { hostname, port } = new URL(base);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    const request = `POST /v1/check_subscriptions HTTP/1.1\r\nhost: ${host}\r\n` +
      "content-length: 0\r\nconnection: close\r\n\r\n";
    await conn.write(enc(request));
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    return new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n")[0]!;
  } finally {
    conn.close();
  }
}
