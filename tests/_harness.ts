/**
 * End-to-end harness: a real broadcaster on a real loopback port with a real
 * SQLite file in a fresh temp dir, removed on dispose.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Broadcaster,
  type BroadcasterOptions,
  createBroadcaster,
  silentLogger,
} from "../mod.ts";
import { encodeNotify, parseResponseNotify } from "../src/protocol/notify.ts";
import type { Limits } from "../src/core/limits.ts";
import { Metrics } from "../src/core/metrics.ts";
import { SpoolBudget } from "../src/core/spool_budget.ts";
import { ByteBudget } from "../src/core/byte_budget.ts";
import { Semaphore } from "../src/fanout/semaphore.ts";
import { type Logger, ThrottledLog } from "../src/log.ts";
import { type RunningServer, serveWithDeno } from "../src/runtime/deno.ts";
import {
  encodeCheckSubscriptions,
  parseResponseCheckSubscriptions,
} from "../src/protocol/check.ts";

/** A missed-retry policy whose every delay is 0, so MISSED is due at once. */
export const IMMEDIATE_RETRY = {
  maxRetries: 3,
  expoFactor: 0,
  expoBase: 2,
  expoMax: 10,
  constantSeconds: 0,
  jitterSeconds: 0,
};

/** A running broadcaster for one test. */
export interface TestBroadcaster extends AsyncDisposable {
  /** Base url, e.g. `http://127.0.0.1:41234` (plus the path prefix, if any). */
  readonly url: string;
  /** The broadcaster. */
  readonly broadcaster: Broadcaster;
  /** The HTTP server. */
  readonly server: RunningServer;
  /** The temp dir holding the database. */
  readonly dir: string;
  /** The SQLite file. */
  readonly dbPath: string;
}

/**
 * Starts a broadcaster on 127.0.0.1:0 with a file database; `front: false`
 * serves it with `Deno.serve` directly instead of behind the Deno front.
 */
export async function startBroadcaster(
  options: BroadcasterOptions = {},
  { front = true }: { front?: boolean } = {},
): Promise<TestBroadcaster> {
  const dir = await mkdtemp(join(tmpdir(), "lonelypss-test-"));
  const dbPath = join(dir, "subscriptions.db");
  const broadcaster = await createBroadcaster({
    database: dbPath,
    logger: silentLogger,
    ...options,
    limits: { spoolDir: dir, ...options.limits },
  });
  const server = serveWithDeno(broadcaster, { hostname: "127.0.0.1", port: 0, front });
  return {
    url: `http://127.0.0.1:${server.addr.port}${options.pathPrefix ?? ""}`,
    broadcaster,
    server,
    dir,
    dbPath,
    async [Symbol.asyncDispose]() {
      await server.shutdown(1000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A response read whole. */
export interface Answer {
  /** HTTP status. */
  readonly status: number;
  /** Body bytes. */
  readonly body: Uint8Array;
  /** Response headers. */
  readonly headers: Headers;
}

/** POSTs raw bytes and reads the whole answer. */
export async function post(
  url: string,
  body: Uint8Array | Blob | ReadableStream<Uint8Array>,
  headers: Record<string, string> = {},
  method = "POST",
): Promise<Answer> {
  const res = await fetch(url, {
    method,
    headers: { "content-type": "application/octet-stream", ...headers },
    ...(method === "GET" || method === "HEAD" ? {} : { body: body as BodyInit }),
  });
  return {
    status: res.status,
    body: new Uint8Array(await res.arrayBuffer()),
    headers: res.headers,
  };
}

/**
 * An unauthenticated HTTP notify of `message` to `topic`; asserts 200 and the
 * echoed identifier, and resolves with the subscriber count.
 */
export async function notifyOver(
  base: string,
  topic: Uint8Array,
  message: Uint8Array,
): Promise<number> {
  const identifier = crypto.getRandomValues(new Uint8Array(8));
  const sha512 = new Uint8Array(createHash("sha512").update(message).digest());
  const res = await post(
    `${base}/v1/notify`,
    encodeNotify({ topic, sha512, tracing: new Uint8Array(0), identifier }, message),
  );
  assert.equal(res.status, 200, new TextDecoder().decode(res.body));
  const answer = parseResponseNotify(res.body);
  assert.deepEqual(answer.identifier, identifier);
  return answer.count;
}

/** The strong etag of `url`'s subscriptions on the broadcaster at `base` (asserts a 200). */
export async function checkEtag(base: string, url: string): Promise<Uint8Array> {
  const res = await post(
    `${base}/v1/check_subscriptions`,
    encodeCheckSubscriptions({ tracing: new Uint8Array(0), url }),
  );
  if (res.status !== 200) throw new Error(`check_subscriptions answered ${res.status}`);
  return parseResponseCheckSubscriptions(res.body).etag;
}

/** The operational parts of a hand-built Context: fresh counters, spool budget and fault log. */
export function contextParts(
  limits: Limits,
  log: Logger = silentLogger,
): {
  metrics: Metrics;
  spool: SpoolBudget;
  faults: ThrottledLog;
  outbound: null;
  outgoing: Semaphore;
  bodyMemory: ByteBudget;
  stats: null;
} {
  return {
    outbound: null,
    metrics: new Metrics(),
    spool: new SpoolBudget(limits.spoolQuotaBytes),
    faults: new ThrottledLog(log),
    outgoing: new Semaphore(limits.maxOutgoingConnections),
    bodyMemory: new ByteBudget(limits.maxBufferedBodyBytes),
    stats: null,
  };
}
