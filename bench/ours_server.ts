/**
 * Bench entrypoint for our broadcaster: `createBroadcaster` + `serveWithDeno`
 * on 127.0.0.1 with a silent logger, optionally hmac both ways (replay store
 * in an in-memory SQLite shared by both directions, as the reference's test
 * harness does). Prints `LISTENING <port>`; SIGTERM shuts down.
 *
 * Usage: deno run -A bench/ours_server.ts [--db :memory: | --rqlite URL[,URL…]]
 *   [--hmac-s2b S --hmac-b2s S]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createBroadcaster, openRqliteStore, silentLogger } from "../mod.ts";
import {
  decodeHmacSecret,
  hmacAuth,
  sharedReplayStore,
  sqliteReplayStore,
} from "../src/auth/mod.ts";
import type { AuthConfig } from "../src/auth/types.ts";
import { serveWithDeno } from "../src/runtime/deno.ts";

const { values } = parseArgs({
  options: {
    db: { type: "string", default: ":memory:" },
    rqlite: { type: "string" },
    "spool-dir": { type: "string" },
    "hmac-s2b": { type: "string" },
    "hmac-b2s": { type: "string" },
  },
});

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

const limits = values["spool-dir"] === undefined ? {} : { spoolDir: values["spool-dir"] };
const store = values.rqlite === undefined
  ? undefined
  : await openRqliteStore({ urls: values.rqlite.split(",") });
const broadcaster = await createBroadcaster({
  database: values.db,
  ...(store === undefined ? {} : { store }),
  auth,
  logger: silentLogger,
  limits,
});
const server = serveWithDeno(broadcaster, {
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(`LISTENING ${port}`),
});
Deno.addSignalListener("SIGTERM", () => void server.shutdown(2000));
await server.finished;
await server.shutdown(2000);
Deno.exit(0);
