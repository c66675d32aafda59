/**
 * The client suite that runs unchanged on Deno, Bun and Node (spawned by
 * tests/client_runtimes_test.ts): `<runtime> tests/_client_runtime_suite.ts
 * <broadcaster http url>`. Uses only the client's API and `node:` modules;
 * prints `ok <checks>` and exits 0, or prints the failure and exits 1.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer } from "node:net";
import process from "node:process";
import {
  type Client,
  connectHttp,
  connectWebsocket,
  type Message,
  type Subscription,
} from "../src/client/mod.ts";

const base = process.argv[2]!;
const ws = base.replace(/^http/, "ws") + "/v1/websocket";
let checks = 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a !== null ? a.port : 0));
    });
  });
}

async function next(sub: Subscription): Promise<Message> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const r = await Promise.race([
      sub[Symbol.asyncIterator]().next(),
      new Promise<never>((
        _,
        rej,
      ) => (timer = setTimeout(() => rej(new Error("no message in 30 s")), 30_000))),
    ]);
    assert.ok(!r.done);
    return r.value;
  } finally {
    clearTimeout(timer);
  }
}

async function roundTrip(sub: Client, pub: Client, label: string): Promise<void> {
  const exact = await sub.subscribeExact(`${label}/a`);
  const again = await sub.subscribeExact(`${label}/a`);
  const glob = await sub.subscribeGlob(`${label}/*`);
  const r = await pub.notify(`${label}/a`, `hello ${label}`);
  assert.ok(r.notified >= 1, `${label}: notified ${r.notified}`);
  for (const s of [exact, again, glob]) {
    assert.equal(await (await next(s)).text(), `hello ${label}`);
  }
  checks++;
  // A stream of unknown length above the spool threshold (spooled on both sides).
  const size = 12 * 1024 * 1024;
  const hash = createHash("sha512");
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent >= size) return c.close();
      const chunk = new Uint8Array(64 * 1024).fill(sent % 256);
      hash.update(chunk);
      sent += chunk.length;
      c.enqueue(chunk);
    },
  });
  await again.unsubscribe();
  await glob.unsubscribe();
  assert.equal((await pub.notify(`${label}/a`, body)).notified, 1);
  const m = await next(exact);
  const got = createHash("sha512");
  for await (const chunk of m.stream()) got.update(chunk);
  assert.equal(got.digest("hex"), hash.digest("hex"));
  checks++;
  await exact.unsubscribe();
}

try {
  const port = await freePort();
  {
    await using sub = await connectHttp({
      broadcasters: [base],
      receiver: { url: `http://127.0.0.1:${port}`, port },
    });
    await using pub = await connectHttp({ broadcasters: [base] });
    await roundTrip(sub, pub, "http");
  }
  {
    await using sub = await connectWebsocket({ broadcasters: [ws] });
    await using pub = await connectWebsocket({ broadcasters: [ws], maxFrameBytes: 64 * 1024 });
    await roundTrip(sub, pub, "ws");
  }
  console.log(`ok ${checks}`);
  process.exit(0);
} catch (e) {
  console.log(`failed after ${checks} checks: ${(e as Error)?.stack ?? e}`);
  process.exit(1);
}
