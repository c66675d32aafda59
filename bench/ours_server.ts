/**
 * Bench entrypoint for our broadcaster: `createBroadcaster` + `serveWithDeno`
 * on 127.0.0.1 with a silent logger, optionally hmac both ways (replay store
 * in an in-memory SQLite shared by both directions, as the reference's test
 * harness does). Prints `LISTENING <port>`; SIGTERM shuts down.
 *
 * Websockets are served as `createBroadcaster` does by default (relay url
 * learnt from the first websocket request: http://127.0.0.1:<port>).
 * `BENCH_LOG=1` logs at debug level to stderr instead of staying silent.
 * `--compression JSON` passes `createBroadcaster`'s `compression` options
 * (zstd on websockets), e.g. `{"trainedMaxSize":32,"training":false}`.
 *
 * Usage: deno run -A bench/ours_server.ts [--db :memory: | --rqlite URL[,URL…] | --postgres URL]
 *   [--spool-dir D] [--ws-part-bytes N] [--hmac-s2b S --hmac-b2s S] [--compression JSON]
 *   [--front off]   (serve with Deno.serve directly: `serveWithDeno`'s `front: false`)
 *   [--stats off]   (no delivery statistics per subscription)
 *   [--max-connections N]   (`limits.maxConnections`)
 *   [--deliver-while-receiving off]   (`limits.deliverWhileReceiving`: verify, then deliver)
 *
 * @module
 */

import "../src/crypto/defer.ts"; // first: libcrypto on the first hash, as the CLI does
import {
  consoleLogger,
  createBroadcaster,
  openPostgresStore,
  openRqliteStore,
  silentLogger,
} from "../mod.ts";
import {
  decodeHmacSecret,
  hmacAuth,
  sharedReplayStore,
  sqliteReplayStore,
} from "../src/auth/mod.ts";
import type { AuthConfig } from "../src/auth/types.ts";
import { serveWithDeno } from "../src/runtime/deno.ts";

// Flags as `--name value` or `--name=value` (the form for values that may start with "-", as
// base64url secrets can); not node:util's parseArgs: on Deno it loads part of the Node
// compatibility layer, which would count in the idle-memory run.
const FLAGS = [
  "db",
  "rqlite",
  "postgres",
  "spool-dir",
  // Largest websocket message we send (RECEIVE_STREAM part incl. headers).
  "ws-part-bytes",
  "hmac-s2b",
  "hmac-b2s",
  "compression",
  "front",
  // Delivery statistics per subscription (on by default, as in createBroadcaster).
  "stats",
  // limits.maxConnections (incoming connections open at once).
  "max-connections",
  // limits.deliverWhileReceiving ("off": a spooled notify is verified whole before delivery).
  "deliver-while-receiving",
] as const;
const values: Partial<Record<(typeof FLAGS)[number], string>> = {};
for (let i = 0; i < Deno.args.length; i++) {
  const arg = Deno.args[i]!;
  const eq = arg.indexOf("=");
  const name = (eq < 0 ? arg : arg.slice(0, eq)).replace(/^--/, "") as (typeof FLAGS)[number];
  const value = eq < 0 ? Deno.args[++i] : arg.slice(eq + 1);
  if (!FLAGS.includes(name) || value === undefined) {
    throw new Error(`Unknown flag or missing value: ${arg}`);
  }
  values[name] = value;
}
values.db ??= ":memory:";
values.front ??= "on";
values.stats ??= "on";
values["deliver-while-receiving"] ??= "on";

let auth: Partial<AuthConfig> = {};
if (values["hmac-s2b"] !== undefined && values["hmac-b2s"] !== undefined) {
  const shared = sharedReplayStore(await sqliteReplayStore({ path: ":memory:" }));
  auth = {
    toBroadcaster: hmacAuth({
      secret: decodeHmacSecret(values["hmac-s2b"]),
      replay: shared.acquire(),
    }),
    toSubscriber: hmacAuth({
      secret: decodeHmacSecret(values["hmac-b2s"]),
      replay: shared.acquire(),
    }),
  };
}

const limits = {
  ...(values["spool-dir"] === undefined ? {} : { spoolDir: values["spool-dir"] }),
  ...(values["ws-part-bytes"] === undefined
    ? {}
    : { websocketMaxMessageBytes: Number(values["ws-part-bytes"]) }),
  ...(values["max-connections"] === undefined
    ? {}
    : { maxConnections: Number(values["max-connections"]) }),
  deliverWhileReceiving: values["deliver-while-receiving"] !== "off",
};
const store = values.postgres !== undefined
  ? await openPostgresStore({ url: values.postgres })
  : values.rqlite === undefined
  ? undefined
  : await openRqliteStore({ urls: values.rqlite.split(",") });
const broadcaster = await createBroadcaster({
  database: values.db,
  ...(store === undefined ? {} : { store }),
  auth,
  logger: Deno.env.get("BENCH_LOG") ? consoleLogger("debug") : silentLogger,
  limits,
  subscriptions: { deliveryStats: values.stats !== "off" },
  ...(values.compression === undefined ? {} : { compression: JSON.parse(values.compression) }),
});
const server = serveWithDeno(broadcaster, {
  hostname: "127.0.0.1",
  port: 0,
  front: values.front !== "off",
  onListen: ({ port }) => console.log(`LISTENING ${port}`),
});
Deno.addSignalListener("SIGTERM", () => void server.shutdown(2000));
await server.finished;
await server.shutdown(2000);
Deno.exit(0);
