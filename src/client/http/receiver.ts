/**
 * The webhook receiver: answers the broadcaster's RECEIVE and MISSED
 * requests. Each registration has its own urls (`<base>/v1/receive?s=<n>`,
 * `<base>/v1/missed?s=<n>`), so a delivery goes to exactly the subscriptions
 * it was sent for. Authorization is verified as the Python client does,
 * before the body is read; the body's SHA-512 before it is queued.
 *
 * @module
 */

import type { AuthConfig, AuthResult } from "../../auth/mod.ts";
import {
  bytesEqual,
  encodeResponseConfirmMissed,
  encodeResponseConfirmReceive,
  encodeResponseUnsubscribeImmediate,
  parseMissed,
  parseReceiveHeader,
  parseReprDigest,
} from "../../protocol/mod.ts";
import { compileGlob } from "../../glob/mod.ts";
import { IncomingBody } from "../incoming.ts";
import type { Registration, Registry } from "../registry.ts";
import { now } from "../settings.ts";
import type { SpoolDir } from "../spool.ts";
import type { StatusEmitter } from "../status.ts";

const EMPTY = new Uint8Array(0);
const MAX_MISSED_BYTES = 4 + 2 * 0xffff;

/** What the receiver needs from its client. */
export interface ReceiverContext {
  readonly base: string;
  readonly auth: AuthConfig;
  readonly registry: Registry;
  readonly spool: SpoolDir;
  readonly status: StatusEmitter;
  readonly spoolThresholdBytes: number;
  readonly maxMessageBytes: number;
}

/** The RECEIVE url of a registration. */
export function receiveUrl(base: string, reg: Registration): string {
  return `${base}/v1/receive?s=${reg.id}`;
}

/** The MISSED (recovery) url of a registration. */
export function missedUrl(base: string, reg: Registration): string {
  return `${base}/v1/missed?s=${reg.id}`;
}

/** Answers one request to the receiver; never rejects. */
export async function handleReceiver(ctx: ReceiverContext, req: Request): Promise<Response> {
  try {
    const u = new URL(req.url);
    const isReceive = u.pathname.endsWith("/v1/receive");
    const isMissed = u.pathname.endsWith("/v1/missed");
    if (!isReceive && !isMissed) return text(404, "Not found");
    if (req.method !== "POST") return text(405, "Method not allowed: expected POST");
    const reg = ctx.registry.byId(Number(u.searchParams.get("s")));
    if (reg === undefined || reg.removed) {
      // Not (or no longer) subscribed: the broadcaster deletes the row.
      await req.body?.cancel().catch(() => {});
      return binary(encodeResponseUnsubscribeImmediate());
    }
    return isReceive ? await receive(ctx, reg, req) : await missed(ctx, reg, req);
  } catch {
    await req.body?.cancel().catch(() => {});
    return text(500, "Internal error");
  }
}

async function receive(ctx: ReceiverContext, reg: Registration, req: Request): Promise<Response> {
  const sha512 = parseReprDigest(req.headers.get("repr-digest") ?? "");
  if (sha512 === null) return drop(req, 400, "Missing or invalid Repr-Digest (sha-512=<base64>)");
  if (req.body === null) return text(400, "Empty body");
  const reader = req.body.getReader();
  let buf: Uint8Array = new Uint8Array(0);
  let head;
  for (;;) {
    head = parseReceiveHeader(buf);
    if (head !== null) break;
    const { done, value } = await reader.read();
    if (done) return text(400, "Truncated RECEIVE header");
    buf = join(buf, value);
  }
  const { header, headerLength } = head;
  const cancel = async (status: number, msg: string) => {
    await reader.cancel().catch(() => {});
    return text(status, msg);
  };
  if (header.length > BigInt(ctx.maxMessageBytes)) return cancel(413, "Message too large");
  const topic = header.topic.slice();
  if (
    reg.kind === "exact" ? !bytesEqual(topic, reg.topic!) : !compileGlob(reg.glob!).matches(topic)
  ) {
    return cancel(400, "Topic does not match the subscription");
  }
  const url = receiveUrl(ctx.base, reg);
  const identifier = header.identifier.slice();
  const verdict = await ctx.auth.toSubscriber.verify(
    { type: "receive", url, topic, identifier, sha512 },
    header.tracing,
    req.headers.get("authorization"),
    now(),
  );
  if (verdict !== "ok") return cancel(authStatus(verdict), `Authorization ${verdict}`);
  const body = await IncomingBody.start(Number(header.length), ctx.spoolThresholdBytes, ctx.spool);
  try {
    await body.push(buf.subarray(headerLength));
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      await body.push(value);
    }
  } catch {
    await body.discard();
    return cancel(400, "Body longer than its declared length");
  }
  let message;
  try {
    message = await body.finish(topic, sha512);
  } catch (e) {
    return text(400, (e as Error).message);
  }
  ctx.registry.deliver([reg], message);
  const authorization = await ctx.auth.toBroadcaster.authorize(
    { type: "confirm_receive", identifier, numSubscribers: 1, url },
    EMPTY,
    now(),
  );
  return binary(
    encodeResponseConfirmReceive({ authorization, tracing: EMPTY, identifier, numSubscribers: 1 }),
  );
}

async function missed(ctx: ReceiverContext, reg: Registration, req: Request): Promise<Response> {
  const raw = new Uint8Array(await req.arrayBuffer());
  if (raw.length > MAX_MISSED_BYTES) return text(413, "MISSED body too large");
  let msg;
  try {
    msg = parseMissed(raw);
  } catch (e) {
    return text(400, (e as Error).message);
  }
  const recovery = missedUrl(ctx.base, reg);
  const verdict = await ctx.auth.toSubscriber.verify(
    { type: "missed", recovery, topic: msg.topic },
    msg.tracing,
    req.headers.get("authorization"),
    now(),
  );
  if (verdict !== "ok") return text(authStatus(verdict), `Authorization ${verdict}`);
  ctx.status.blip();
  const authorization = await ctx.auth.toBroadcaster.authorize(
    { type: "confirm_missed", topic: msg.topic, url: recovery },
    EMPTY,
    now(),
  );
  return binary(encodeResponseConfirmMissed({ authorization, tracing: EMPTY }));
}

function authStatus(r: AuthResult): number {
  return r === "unauthorized" ? 401 : r === "forbidden" ? 403 : 503;
}

async function drop(req: Request, status: number, msg: string): Promise<Response> {
  await req.body?.cancel().catch(() => {});
  return text(status, msg);
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

function binary(body: Uint8Array): Response {
  return new Response(body as Uint8Array<ArrayBuffer>, {
    status: 200,
    headers: { "content-type": "application/octet-stream" },
  });
}
