/**
 * The relay routes through which broadcasters hand each other deliveries for
 * websocket subscribers (docs/protocol/http.md#relay-routes):
 * `POST /v1/receive_for_websockets` and `POST /v1/missed_for_websockets`.
 * A process's relay rows point here; every RECEIVE for them is handed to the
 * local connections that want the topic.
 *
 * @module
 */

import type { Context } from "../../core/context.ts";
import { takeMessage } from "../../intake/intake.ts";
import { spoolFailure } from "./notify.ts";
import { readHead } from "../../intake/notify_head.ts";
import {
  encodeResponseConfirmMissed,
  encodeResponseConfirmReceive,
  encodeResponseUnsubscribeImmediate,
  INVALID_MISSED_URL_BODY,
  parseMissed,
  parseReceiveHeader,
  parseReprDigest,
} from "../../protocol/mod.ts";
import { parseOr400, readBodyCapped } from "../body.ts";
import { hasBody, missingAuthorization, RequestBody } from "../request_body.ts";
import type { Route } from "../context.ts";
import { fail, ok } from "../responses.ts";

const EMPTY = new Uint8Array(0);
const U32_MAX = 0xffff_ffff;
/** lp16 tracing, lp16 topic, lp8 identifier, u64 length. */
const MAX_RECEIVE_HEADER_BYTES = 2 + 65_535 + 2 + 65_535 + 1 + 255 + 8;
/** lp16 tracing, lp16 topic. */
const MAX_MISSED_BODY_BYTES = 2 + 65_535 + 2 + 65_535;

/** 400 (or `status`) with RESPONSE_UNSUBSCRIBE_IMMEDIATE: the sender drops its relay row. */
function unsubscribeImmediate(status = 400): Response {
  return new Response(encodeResponseUnsubscribeImmediate() as Uint8Array<ArrayBuffer>, {
    status,
    headers: { "content-type": "application/octet-stream" },
  });
}

/** The URL as the relay rows spell it: no fragment (docs/protocol/http.md#relay-routes). */
function requestUrl(req: Request): string {
  const hash = req.url.indexOf("#");
  return hash < 0 ? req.url : req.url.slice(0, hash);
}

/** Handles `/v1/receive_for_websockets`. */
export const receiveForWebsocketsRoute: Route = async (req: Request, ctx: Context) => {
  const digest = parseReprDigest(req.headers.get("repr-digest") ?? "");
  if (digest === null) return unsubscribeImmediate();
  const url = requestUrl(req);
  if (url !== ctx.local.receiveUrl) return unsubscribeImmediate();
  const missing = missingAuthorization(req, ctx.auth.toSubscriber, () => unsubscribeImmediate(401));
  if (missing !== null) return missing;
  if (!hasBody(req)) return fail(400, "Truncated body: incomplete receive header");
  const reader = RequestBody.of(req, ctx);
  let consumed = false;
  try {
    const head = await readHead(reader, parseReceiveHeader, MAX_RECEIVE_HEADER_BYTES, "receive");
    if (!head.ok) return fail(400, head.reason);
    const { tracing, topic, identifier, length } = head.header;
    if (!ctx.local.wants(topic)) return unsubscribeImmediate();
    const verdict = await ctx.auth.toSubscriber.verify(
      { type: "receive", url, topic, identifier, sha512: digest },
      tracing,
      req.headers.get("authorization"),
      ctx.now(),
    );
    if (verdict === "unavailable") return fail(503, "Authorization service unavailable");
    if (verdict === "unauthorized") return unsubscribeImmediate(401);
    if (verdict === "forbidden") return unsubscribeImmediate(403);
    const intake = await takeMessage(
      reader,
      head.rest,
      length,
      digest,
      ctx.limits,
      ctx.spool,
      ctx.bodyMemory,
    );
    if (!intake.ok) {
      return intake.spool ? spoolFailure(ctx, intake.spool) : fail(400, intake.reason);
    }
    consumed = true;
    let count: number;
    try {
      count = Math.min(
        ctx.local.deliver({ topic, sha512: digest, message: intake.message }),
        U32_MAX,
      );
    } finally {
      // Connections that queued it hold their own reference.
      await intake.message.dispose();
    }
    const authorization = await ctx.auth.toBroadcaster.authorize(
      { type: "confirm_receive", identifier, numSubscribers: count, url },
      EMPTY,
      ctx.now(),
    );
    return ok(encodeResponseConfirmReceive({
      authorization,
      tracing: EMPTY,
      identifier,
      numSubscribers: count,
    }));
  } finally {
    if (!consumed) await reader.cancel();
  }
};

/** Handles `/v1/missed_for_websockets`. */
export const missedForWebsocketsRoute: Route = async (req: Request, ctx: Context) => {
  const url = requestUrl(req);
  if (url !== ctx.local.missedUrl) {
    return new Response(INVALID_MISSED_URL_BODY as Uint8Array<ArrayBuffer>, {
      status: 400,
      headers: { "content-type": "application/json; charset=utf-8" },
    });
  }
  const missing = missingAuthorization(
    req,
    ctx.auth.toSubscriber,
    () => new Response(null, { status: 401 }),
  );
  if (missing !== null) return missing;
  const body = await readBodyCapped(req, ctx, MAX_MISSED_BODY_BYTES);
  if (body instanceof Response) return body;
  const msg = parseOr400(parseMissed, body);
  if (msg instanceof Response) return msg;
  const verdict = await ctx.auth.toSubscriber.verify(
    { type: "missed", recovery: url, topic: msg.topic },
    msg.tracing,
    req.headers.get("authorization"),
    ctx.now(),
  );
  if (verdict !== "ok") {
    return new Response(null, {
      status: verdict === "unavailable" ? 503 : verdict === "unauthorized" ? 401 : 403,
    });
  }
  ctx.local.missed(msg.topic);
  const authorization = await ctx.auth.toBroadcaster.authorize(
    { type: "confirm_missed", topic: msg.topic, url },
    EMPTY,
    ctx.now(),
  );
  return ok(encodeResponseConfirmMissed({ authorization, tracing: EMPTY }));
};
