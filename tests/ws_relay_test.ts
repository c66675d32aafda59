/**
 * Two broadcaster processes on one SQLite file: websocket subscribers on one
 * receive what is notified on the other through the relay rows, counted once
 * per connection; the rows go when the last connection leaves, and rows left
 * by a killed process are removed by the next delivery that finds nobody there.
 *
 * @module
 */

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import {
  encodeCheckSubscriptions,
  parseResponseCheckSubscriptions,
} from "../src/protocol/check.ts";
import { strongEtag } from "../src/protocol/etag.ts";
import { cliCommand, postBytes, type Served, startServe, tempDir } from "./_cli.ts";
import { notifyOver } from "./_harness.ts";
import { WsClient } from "./_ws_client.ts";

const EMPTY = new Uint8Array(0);
const enc = (s: string) => new TextEncoder().encode(s);
const TOPIC = enc("relay/topic");

/** True when the store (asked through `via`) holds no row for `url`. */
async function noRowsFor(via: string, url: string): Promise<boolean> {
  const res = await postBytes(
    `${via}/v1/check_subscriptions`,
    encodeCheckSubscriptions({ tracing: EMPTY, url }),
  );
  assert.equal(res.status, 200);
  const empty = strongEtag(url, { exacts: [], globs: [] });
  return parseResponseCheckSubscriptions(res.body).etag.every((b, i) => b === empty[i]);
}

/** Polls `condition` until it holds (bounded: fails the test after `ms`). */
async function eventually(what: string, condition: () => Promise<boolean>, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!await condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function serveOn(dir: string): Promise<Served> {
  const [exe, pre] = await cliCommand("deno");
  const args = ["serve", "--host", "127.0.0.1", "--port", "0", "--db", "shared.db"];
  return await startServe(exe, [...pre, ...args, "--log-level", "error"], { cwd: dir });
}

Deno.test("relay: two broadcasters on one database deliver to each other's websockets once", async () => {
  await using dir = await tempDir();
  await using a = await serveOn(dir.path);
  await using b = await serveOn(dir.path);
  const relayA = `${a.url}/v1/receive_for_websockets`;

  await using onA = await WsClient.connect(a.url);
  await onA.configure();
  await onA.subscription("subscribe_exact", TOPIC);
  await onA.subscription("subscribe_glob", "relay/*");

  // HTTP notify on B reaches the connection on A once (exact and glob rows of one url).
  const first = enc("from B over HTTP");
  assert.equal(await notifyOver(b.url, TOPIC, first), 1);
  assert.deepEqual((await onA.receive()).message, first);

  // A websocket subscriber on B as well: B serves it locally, A through the relay.
  await using onB = await WsClient.connect(b.url);
  await onB.configure();
  await onB.subscription("subscribe_glob", "relay/*");
  const second = new Uint8Array(randomBytes(100_000));
  const counted = onB.notify(TOPIC, second);
  const [gotA, gotB] = await Promise.all([onA.receive(), onB.receive()]);
  assert.equal(await counted, 2);
  assert.deepEqual(gotA.message, second);
  assert.deepEqual(gotB.message, second);

  // When A's only connection leaves, A's rows go with it.
  assert.equal((await onA.close()).code, 1000);
  await eventually("A's relay rows are gone", () => noRowsFor(b.url, relayA));
  assert.equal(await notifyOver(b.url, TOPIC, enc("only B now")), 1);
  await onB.receive();
});

Deno.test("relay: rows of a killed broadcaster are dropped by the next delivery", async () => {
  await using dir = await tempDir();
  const a = await serveOn(dir.path);
  await using b = await serveOn(dir.path);
  const relayA = `${a.url}/v1/receive_for_websockets`;
  const onA = await WsClient.connect(a.url);
  await onA.configure();
  await onA.subscription("subscribe_exact", TOPIC);
  assert.equal(await noRowsFor(b.url, relayA), false);

  await a.stop("SIGKILL");
  await onA.closed;
  assert.equal(await noRowsFor(b.url, relayA), false, "kill -9 leaves the rows behind");
  assert.equal(await notifyOver(b.url, TOPIC, enc("to nobody")), 0);
  assert.equal(await noRowsFor(b.url, relayA), true, "the refused delivery dropped them");
});
