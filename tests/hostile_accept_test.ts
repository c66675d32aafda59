/**
 * Descriptor exhaustion, incoming half: a real `cli.ts serve` child under a low
 * `ulimit -n`, flooded with idle TCP connections past its descriptor limit,
 * keeps answering and never exits (it used to die with EMFILE from accept).
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { writeFile } from "node:fs/promises";
import { CLI, type Served, startServe, subscribeOver, tempDir } from "./_cli.ts";

const OPEN_FILES = 256;
const FLOOD = 400;
const enc = (s: string) => new TextEncoder().encode(s);

/** `cli.ts serve` on Deno under `ulimit -n OPEN_FILES`. */
function serveLimited(cwd: string, extra: string[] = []): Promise<Served> {
  return startServe("bash", [
    "-c",
    `ulimit -n ${OPEN_FILES} && exec "$0" "$@"`,
    Deno.execPath(),
    "run",
    "-A",
    CLI,
    "serve",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--db",
    "subs.db",
    ...extra,
  ], { cwd });
}

/** Opens `n` TCP connections that never send a byte. */
async function flood(base: string, n: number): Promise<Deno.TcpConn[]> {
  const port = Number(new URL(base).port);
  const conns: Deno.TcpConn[] = [];
  for (let i = 0; i < n; i++) conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
  return conns;
}

function closeAll(conns: Deno.TcpConn[]): void {
  for (const conn of conns) conn.close();
}

function countLines(text: string, re: RegExp): number {
  return text.split("\n").filter((line) => re.test(line)).length;
}

const linux = Deno.build.os === "linux";
const URL_B = "http://127.0.0.1:9/b";

/** Calls `fn` until it resolves, at most 20 times over at most 10 s. */
async function retrying<T>(fn: () => Promise<T>): Promise<T> {
  const end = Date.now() + 10_000;
  for (let attempt = 1;; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= 20 || Date.now() > end) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

Deno.test({
  name: `serve under ulimit -n ${OPEN_FILES} keeps answering through ${FLOOD} idle connections`,
  ignore: !linux,
  async fn() {
    await using dir = await tempDir();
    const server = await serveLimited(dir.path);
    try {
      const idle = await flood(server.url, FLOOD);
      try {
        // The cap (from the limit) closes the oldest idle connections to make room.
        const status = await subscribeOver(server.url, "http://127.0.0.1:9/a", enc("during"));
        assert.equal(status, 200);
      } finally {
        closeAll(idle);
      }
      const again = await flood(server.url, FLOOD);
      closeAll(again);
      assert.equal(await subscribeOver(server.url, "http://127.0.0.1:9/a", enc("after")), 200);
    } finally {
      const ran = await server.stop();
      assert.equal(ran.code, 0, `exit ${ran.code}: ${ran.stderr}`);
      assert.doesNotMatch(ran.stderr, /Too many open files/, "the cap kept descriptors in hand");
    }
  },
});

Deno.test({
  name: "serve survives accept failing with EMFILE (a cap set above ulimit -n), logging it once",
  ignore: !linux,
  async fn() {
    await using dir = await tempDir();
    await writeFile(
      join(dir.path, "lonelypss.json"),
      JSON.stringify({ limits: { maxConnections: 4 * OPEN_FILES } }),
    );
    const server = await serveLimited(dir.path);
    try {
      const idle = await flood(server.url, FLOOD);
      try {
        await server.waitForStderr(/failed; backing off, still serving .*Too many open files/);
        // Out of descriptors, a request may be dropped; a retry gets through.
        assert.equal(await retrying(() => subscribeOver(server.url, URL_B, enc("during"))), 200);
      } finally {
        closeAll(idle);
      }
      closeAll(await flood(server.url, FLOOD));
      // Its internal HTTP server may be restarting after running out of descriptors.
      assert.equal(await retrying(() => subscribeOver(server.url, URL_B, enc("after"))), 200);
    } finally {
      const ran = await server.stop();
      assert.equal(ran.code, 0, `exit ${ran.code}: ${ran.stderr}`);
      // Hundreds of failed accepts, one line per kind per 10 s.
      assert.ok(countLines(ran.stderr, /Accepting connections failed/) <= 1, ran.stderr);
      assert.ok(countLines(ran.stderr, /internal HTTP server failed/) <= 1, ran.stderr);
    }
  },
});
