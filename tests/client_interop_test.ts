/**
 * The TypeScript client with the Python world: against the reference
 * broadcaster (lonelypss 0.0.11), hmac both ways, exact subscriptions, both
 * transports; and with the official Python client (lonelypsc 0.0.17) on the
 * same broadcaster (the reference and ours), TS → Python and Python → TS.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { writeFile } from "node:fs/promises";
import {
  authFromSecrets,
  encodeHmacSecret,
  generateHmacSecret,
  memoryReplayStore,
  parseSecretsFile,
} from "../src/auth/mod.ts";
import {
  authFromSecretsFile,
  type Client,
  connectHttp,
  connectWebsocket,
} from "../src/client/mod.ts";
import { tempDir } from "./_cli.ts";
import { startBroadcaster } from "./_harness.ts";
import { nextWithin } from "./_client.ts";
import { spawnPython, startReference } from "./_python_peers.ts";
import { INTEROP } from "./_venv.ts";

const PEER = join(INTEROP, "client_peer.py");

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A TS client of `transport` for a broadcaster at `http`. */
async function tsClient(transport: "http" | "ws", http: string, secrets: string): Promise<Client> {
  const auth = await authFromSecretsFile(secrets);
  if (transport === "ws") {
    return await connectWebsocket({
      broadcasters: [http.replace(/^http/, "ws") + "/v1/websocket"],
      auth,
    });
  }
  const port = freePort();
  return await connectHttp({
    broadcasters: [http],
    auth,
    receiver: { url: `http://127.0.0.1:${port}`, port },
  });
}

const peerUrl = (transport: "http" | "ws", http: string) =>
  transport === "ws" ? http.replace(/^http/, "ws") : http;

/** Runs the four checks on one broadcaster. */
async function suite(t: Deno.TestContext, http: string, secrets: string, reference: boolean) {
  for (const transport of ["http", "ws"] as const) {
    if (reference) {
      await t.step(`TS client alone over ${transport}`, async () => {
        await using c = await tsClient(transport, http, secrets);
        const sub = await c.subscribeExact("interop/alone");
        assert.equal((await c.notify("interop/alone", "from ts")).notified, 1);
        assert.equal(
          await (await nextWithin(sub[Symbol.asyncIterator](), 30_000)).text(),
          "from ts",
        );
      });
    }
    await t.step(`TS → Python over ${transport}`, async () => {
      await using py = await spawnPython(PEER, [
        "sub",
        "--transport",
        transport,
        "--url",
        peerUrl(transport, http),
        "--secrets",
        secrets,
        "--topic",
        `interop/${transport}/py`,
        "--port",
        String(freePort()),
      ]);
      assert.equal(await py.line(), "READY");
      await using c = await tsClient(transport, http, secrets);
      const body = new TextEncoder().encode(`ts says hi over ${transport}`);
      assert.equal((await c.notify(`interop/${transport}/py`, body)).notified, 1);
      assert.equal(await py.line(), Buffer.from(body).toString("hex"));
      const { code, stderr } = await py.done();
      assert.equal(code, 0, stderr.slice(-2000));
    });
    await t.step(`Python → TS over ${transport}`, async () => {
      await using c = await tsClient(transport, http, secrets);
      const sub = await c.subscribeExact(`interop/${transport}/ts`);
      const body = Buffer.from(`python says hi over ${transport}`);
      await using py = await spawnPython(PEER, [
        "pub",
        "--transport",
        transport,
        "--url",
        peerUrl(transport, http),
        "--secrets",
        secrets,
        "--topic",
        `interop/${transport}/ts`,
        "--data-hex",
        body.toString("hex"),
        "--port",
        String(freePort()),
      ]);
      assert.equal(await py.line(), "1");
      const m = await nextWithin(sub[Symbol.asyncIterator](), 30_000);
      assert.deepEqual(Buffer.from(await m.bytes()), body);
      const { code, stderr } = await py.done();
      assert.equal(code, 0, stderr.slice(-2000));
    });
  }
}

async function writeSecrets(dir: string): Promise<{ path: string; s2b: string; b2s: string }> {
  const s2b = encodeHmacSecret(generateHmacSecret());
  const b2s = encodeHmacSecret(generateHmacSecret());
  const path = join(dir, "subscriber-secrets.json");
  await writeFile(
    path,
    JSON.stringify({
      version: "2",
      "to-broadcaster": { type: "hmac", secret: s2b },
      "to-subscriber": { type: "hmac", secret: b2s },
    }),
  );
  return { path, s2b, b2s };
}

Deno.test("client interop: the reference broadcaster (lonelypss 0.0.11), hmac both ways", async (t) => {
  await using dir = await tempDir();
  const secrets = await writeSecrets(dir.path);
  const ref = await startReference(secrets.s2b, secrets.b2s);
  try {
    await suite(t, ref.url, secrets.path, true);
  } finally {
    await ref.child[Symbol.asyncDispose]();
  }
});

Deno.test("client interop: lonelypsc and this client on our broadcaster, hmac both ways", async (t) => {
  await using dir = await tempDir();
  const secrets = await writeSecrets(dir.path);
  const file = parseSecretsFile(
    JSON.stringify({
      version: "2",
      "to-broadcaster": { type: "hmac", secret: secrets.s2b },
      "to-subscriber": { type: "hmac", secret: secrets.b2s },
    }),
    "broadcaster-secrets.json",
  );
  const auth = await authFromSecrets(file, { replay: () => Promise.resolve(memoryReplayStore()) });
  await using bc = await startBroadcaster({ auth });
  await suite(t, bc.url, secrets.path, false);
});
