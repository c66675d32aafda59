/**
 * Fuzzes `/v1/notify` over raw loopback sockets: a bounded number of valid
 * and malformed requests (see `_fuzz_cases.ts`), a few at a time, against a
 * broadcaster started in this process. Reports, per family, the answers by
 * status, the connections closed (or reset) without an answer, the hangs, and
 * the requests whose sending failed (the server reset a client still sending);
 * exits 1 when a 5xx came back or a well-formed request went unanswered.
 *
 *   deno run -A bench/fuzz.ts [--auth none|hmac] [--count 3000] [--seed 1]
 *     [--concurrency 8] [--front on|off] [--kinds longurl,bitflip] [--json]
 *     [--target http://127.0.0.1:PORT]
 *
 * `--target` fuzzes a broadcaster already running on loopback (auth none),
 * e.g. `cli.ts serve` on Node or Bun, instead of starting one.
 *
 * @module
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createBroadcaster, silentLogger } from "../mod.ts";
import { generateHmacSecret, hmacAuth, memoryReplayStore, noneAuth } from "../src/auth/mod.ts";
import type { AuthConfig } from "../src/auth/types.ts";
import { serveWithDeno } from "../src/runtime/deno.ts";
import { CaseMaker } from "./_fuzz_cases.ts";
import { exchange } from "../tests/_raw_exchange.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    auth: { type: "string", default: "none" },
    count: { type: "string", default: "3000" },
    seed: { type: "string", default: "1" },
    concurrency: { type: "string", default: "8" },
    front: { type: "string", default: "on" },
    kinds: { type: "string", default: "" },
    json: { type: "boolean", default: false },
    target: { type: "string" },
  },
});
const count = Math.min(100_000, Number(values.count));
const hmac = values.auth === "hmac";
const secret = generateHmacSecret();
const serverAuth: AuthConfig = hmac
  ? {
    toBroadcaster: hmacAuth({ secret, replay: memoryReplayStore() }),
    toSubscriber: hmacAuth({ secret: generateHmacSecret(), replay: memoryReplayStore() }),
  }
  : { toBroadcaster: noneAuth(), toSubscriber: noneAuth() };
const clientAuth = hmac ? hmacAuth({ secret, replay: memoryReplayStore() }) : noneAuth();

const target = values.target === undefined ? null : new URL(values.target);
if (target !== null && !/^127\.|^\[::1\]$|^localhost$/.test(target.hostname)) {
  throw new Error("Fuzz only loopback targets");
}
const dir = target !== null ? null : await mkdtemp(join(tmpdir(), "lonelypss-fuzz-"));
const local = dir === null ? null : await startLocal(dir);
const port = target === null ? local!.server.addr.port : Number(target.port);

async function startLocal(dir: string) {
  const broadcaster = await createBroadcaster({
    database: join(dir, "subs.db"),
    logger: silentLogger,
    auth: serverAuth,
    limits: {
      spoolDir: dir,
      spoolThresholdBytes: 1024 * 1024,
      spoolQuotaBytes: 64 * 1024 * 1024,
    },
  });
  const server = serveWithDeno(broadcaster, {
    hostname: "127.0.0.1",
    port: 0,
    front: values.front !== "off",
  });
  return { broadcaster, server };
}

/** Per family: outcome → count. */
const table = new Map<string, Map<string, number>>();
const bump = (kind: string, outcome: string) => {
  const row = table.get(kind) ?? new Map<string, number>();
  row.set(outcome, (row.get(outcome) ?? 0) + 1);
  table.set(kind, row);
};
let failures = 0;
const kinds = values.kinds === "" ? [...CaseMaker.KINDS] : values.kinds.split(",");
const maker = new CaseMaker(Number(values.seed), clientAuth, kinds);
let next = 0;
const started = performance.now();
async function worker(): Promise<void> {
  while (next < count) {
    const i = next++;
    const c = await maker.make(i);
    // Every other connection writes its whole request before reading, as simple clients do.
    const readAfterWrite = Math.floor(i / kinds.length) % 2 === 1;
    const x = await exchange(port, c.bytes, {
      halfClose: c.halfClose,
      responses: c.responses,
      readAfterWrite,
    });
    if (!x.sentAll && !c.halfClose) {
      bump(c.kind, "reset while sending");
      if (c.mustAnswer) failures++;
    }
    for (const s of x.statuses) bump(c.kind, String(s));
    const missing = c.responses - x.statuses.length;
    if (missing > 0) {
      const how = x.hung ? "hung" : x.reset ? "reset" : "closed";
      bump(c.kind, `no answer (${how})`);
      if (c.mustAnswer) failures++;
    }
    if (x.statuses.some((s) => s >= 500)) failures++;
  }
}
await Promise.all(Array.from({ length: Number(values.concurrency) }, worker));
const seconds = (performance.now() - started) / 1000;
await local?.server.shutdown(1000);
if (dir !== null) await rm(dir, { recursive: true, force: true });

const report = Object.fromEntries(
  [...table].map(([kind, row]) => [kind, Object.fromEntries([...row].sort())]),
);
if (values.json) console.log(JSON.stringify({ auth: values.auth, count, report, failures }));
else {
  console.log(`fuzz: auth ${values.auth}, ${count} cases, ${seconds.toFixed(1)} s`);
  for (const [kind, row] of Object.entries(report)) {
    const cells = Object.entries(row).map(([k, v]) => `${k}: ${v}`).join(", ");
    console.log(`  ${kind.padEnd(11)} ${cells}`);
  }
  const totals = new Map<string, number>();
  for (const row of table.values()) {
    for (const [k, v] of row) totals.set(k, (totals.get(k) ?? 0) + v);
  }
  console.log(
    `  ${"all".padEnd(11)} ${[...totals].sort().map(([k, v]) => `${k}: ${v}`).join(", ")}`,
  );
  console.log(
    `failures (5xx; a well-formed request unanswered, or reset while sending): ${failures}`,
  );
}
Deno.exit(failures === 0 ? 0 : 1);
