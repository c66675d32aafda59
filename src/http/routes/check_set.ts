/**
 * `/v1/check_subscriptions` and `/v1/set_subscriptions` (docs/protocol/http.md#check-subscriptions,
 * docs/protocol/http.md#set-subscriptions): the strong-etag pair.
 *
 * @module
 */

import {
  bytesEqual,
  encodeResponseCheckSubscriptions,
  encodeResponseGeneric,
  MAX_CHECK_SUBSCRIPTIONS_BYTES,
  parseCheckSubscriptions,
  parseSetSubscriptions,
  parseSetSubscriptionsHead,
  strongEtag,
} from "../../protocol/mod.ts";
import { checkCallbacks, parseOr400, readBodyCapped } from "../body.ts";
import { missingAuthorization, RequestBody } from "../request_body.ts";
import type { Route } from "../context.ts";
import { authFailure, badRequest, ok, storeUnavailable } from "../responses.ts";

const EMPTY = new Uint8Array(0);

/** `POST /v1/check_subscriptions`: the etag of everything stored for a url. */
export const checkSubscriptionsRoute: Route = async (req, ctx) => {
  const missing = missingAuthorization(req, ctx.auth.toBroadcaster);
  if (missing !== null) return missing;
  const max = Math.min(MAX_CHECK_SUBSCRIPTIONS_BYTES, ctx.limits.maxBodyBytes);
  const body = await readBodyCapped(req, ctx, max);
  if (body instanceof Response) return body;
  const msg = parseOr400(parseCheckSubscriptions, body);
  if (msg instanceof Response) return msg;
  const verdict = await ctx.auth.toBroadcaster.verify(
    { type: "check_subscriptions", url: msg.url },
    msg.tracing,
    req.headers.get("authorization"),
    ctx.now(),
  );
  if (verdict !== "ok") return authFailure(verdict);
  const set = await ctx.store.listSubscriptions(msg.url);
  if (set === "unavailable") return storeUnavailable();
  const etag = strongEtag(msg.url, set);
  const authorization = await ctx.auth.toSubscriber.authorize(
    { type: "check_subscriptions_response", etag: { format: 0, etag } },
    EMPTY,
    ctx.now(),
  );
  return ok(encodeResponseCheckSubscriptions({ authorization, tracing: EMPTY, etag }));
};

/**
 * `POST /v1/set_subscriptions`: replaces a url's subscriptions. The body's
 * etag must equal the etag of the body's own lists (else 400, nothing changed).
 * The authorization covers only the head (url and etag), so it is checked
 * before the lists, which may be large, are read.
 */
export const setSubscriptionsRoute: Route = async (req, ctx) => {
  const missing = missingAuthorization(req, ctx.auth.toBroadcaster);
  if (missing !== null) return missing;
  const max = ctx.limits.maxBodyBytes;
  const reading = RequestBody.of(req, ctx);
  const head = await reading.readUntil(parseSetSubscriptionsHead, max);
  if (head instanceof Response) return head;
  const verdict = await ctx.auth.toBroadcaster.verify(
    { type: "set_subscriptions", url: head.url, etag: { format: 0, etag: head.etag } },
    head.tracing,
    req.headers.get("authorization"),
    ctx.now(),
  );
  if (verdict !== "ok") return authFailure(verdict);
  const body = await reading.readAll(max);
  if (body instanceof Response) return body;
  const msg = parseOr400(parseSetSubscriptions, body);
  if (msg instanceof Response) return msg;
  const invalid = checkCallbacks([
    msg.url,
    ...msg.set.exacts.map((e) => e.recovery),
    ...msg.set.globs.map((g) => g.recovery),
  ]);
  if (invalid !== null) return invalid;
  const etag = strongEtag(msg.url, msg.set);
  if (!bytesEqual(etag, msg.etag)) {
    return badRequest("Strong etag does not match the subscriptions in the body");
  }
  const result = await ctx.store.setSubscriptions(msg.url, msg.set);
  if (result === "unavailable") return storeUnavailable();
  const authorization = await ctx.auth.toSubscriber.authorize(
    { type: "set_subscriptions_response", etag: { format: 0, etag } },
    EMPTY,
    ctx.now(),
  );
  return ok(encodeResponseGeneric({ authorization, tracing: EMPTY }));
};
