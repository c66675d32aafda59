/**
 * Bench subscriber: one fast HTTP server on 127.0.0.1 that answers every POST
 * (any path, so one server can stand for thousands of subscriber urls) with
 * RESPONSE_CONFIRM_RECEIVE echoing the RECEIVE's identifier. Bodies above
 * 1 MiB are streamed and their SHA-512 checked incrementally against
 * `Repr-Digest`. With `--hmac-s2b/--hmac-b2s` it verifies the RECEIVE's
 * authorization and signs its answer. `GET /stats` returns counters (JSON).
 * Prints `LISTENING <port>`.
 *
 * Usage: deno run -A bench/subscriber.ts [--hmac-s2b S --hmac-b2s S]
 *
 * @module
 */

import { StagedSha512 } from "../src/crypto/staged.ts";
import { parseArgs } from "node:util";
import { decodeHmacSecret, hmacAuth, memoryReplayStore } from "../src/auth/mod.ts";
import type { AuthStrategy } from "../src/auth/types.ts";
import {
  encodeResponseConfirmReceive,
  parseReceiveHeader,
  parseReprDigest,
} from "../src/protocol/mod.ts";

const { values } = parseArgs({
  options: { "hmac-s2b": { type: "string" }, "hmac-b2s": { type: "string" } },
});
const signer: AuthStrategy | null = values["hmac-s2b"] === undefined
  ? null
  : hmacAuth({ secret: decodeHmacSecret(values["hmac-s2b"]), replay: memoryReplayStore() });
// Every code is kept for its lifetime and more (241 s): at 10,000 RECEIVEs a
// second that is 2.4 million, far past the store's default cap of 500,000
// (over which it answers "unavailable", and each check scans the whole map).
const checker: AuthStrategy | null = values["hmac-b2s"] === undefined ? null : hmacAuth({
  secret: decodeHmacSecret(values["hmac-b2s"]),
  replay: memoryReplayStore({ maxEntries: 10_000_000 }),
});

const stats = { received: 0, bytes: 0, unparsed: 0, badDigest: 0, badAuth: 0 };
const EMPTY = new Uint8Array(0);
const STREAM_ABOVE = 1024 * 1024;
const headers = { "content-type": "application/octet-stream" };

async function readBody(req: Request): Promise<{ head: Uint8Array; digest: Uint8Array | null }> {
  const declared = Number(req.headers.get("content-length") ?? "-1");
  if (declared >= 0 && declared <= STREAM_ABOVE) {
    const head = new Uint8Array(await req.arrayBuffer());
    stats.bytes += head.length;
    return { head, digest: null };
  }
  // Large: keep only the first chunk(s) for the header, hash the rest off
  // the event loop in 1 MiB blocks, as a subscriber hashing with OpenSSL
  // would (lonelypsc); with node:crypto in Deno (~570 MiB/s, on the event
  // loop) this subscriber, not the broadcaster, set the pace of the 1 GiB rows.
  const hash = new StagedSha512();
  let head = EMPTY;
  let headerLength = -1;
  for await (const chunk of req.body ?? []) {
    stats.bytes += chunk.length;
    if (headerLength >= 0) {
      await hash.update(chunk);
      continue;
    }
    const joined = new Uint8Array(head.length + chunk.length);
    joined.set(head);
    joined.set(chunk, head.length);
    head = joined;
    const parsed = safeParse(head);
    if (parsed !== null) {
      headerLength = parsed.headerLength;
      await hash.update(head.subarray(headerLength));
      head = head.slice(0, headerLength);
    }
  }
  return { head, digest: new Uint8Array(await hash.digest()) };
}

function safeParse(b: Uint8Array): ReturnType<typeof parseReceiveHeader> {
  try {
    return parseReceiveHeader(b);
  } catch {
    return null;
  }
}

async function handle(req: Request): Promise<Response> {
  if (req.method === "GET") return Response.json(stats);
  const { head, digest } = await readBody(req);
  stats.received++;
  const parsed = safeParse(head);
  if (parsed === null) {
    // Not a RECEIVE (the raw forwarder relays notify bodies): answer anyway.
    stats.unparsed++;
    return new Response(
      encodeResponseConfirmReceive({
        authorization: null,
        tracing: EMPTY,
        identifier: EMPTY,
        numSubscribers: 1,
      }) as Uint8Array<ArrayBuffer>,
      { headers },
    );
  }
  const claimed = parseReprDigest(req.headers.get("repr-digest") ?? "");
  if (digest !== null && (claimed === null || !equal(claimed, digest))) stats.badDigest++;
  const { topic, identifier } = parsed.header;
  const url = req.url;
  const now = Date.now() / 1000;
  if (checker !== null) {
    const sha512 = digest ?? claimed ?? new Uint8Array(64);
    const ok = await checker.verify(
      { type: "receive", url, topic, identifier, sha512 },
      parsed.header.tracing,
      req.headers.get("authorization"),
      now,
    );
    if (ok !== "ok") stats.badAuth++;
  }
  const authorization = signer === null ? null : await signer.authorize(
    { type: "confirm_receive", identifier, numSubscribers: 1, url },
    EMPTY,
    now,
  );
  return new Response(
    encodeResponseConfirmReceive({
      authorization,
      tracing: EMPTY,
      identifier,
      numSubscribers: 1,
    }) as Uint8Array<ArrayBuffer>,
    { headers },
  );
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

const server = Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(`LISTENING ${port}`),
}, handle);
Deno.addSignalListener("SIGTERM", () => server.shutdown());
await server.finished;
Deno.exit(0);
