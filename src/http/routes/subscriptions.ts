/**
 * `/v1/subscribe/{exact,glob}` and `/v1/unsubscribe/{exact,glob}` (docs/protocol/http.md#subscribe,
 * docs/protocol/http.md#unsubscribe): parse → auth → store → RESPONSE_GENERIC.
 *
 * @module
 */

import type { AuthMessage } from "../../auth/mod.ts";
import {
  encodeResponseGeneric,
  MAX_SUBSCRIBE_EXACT_BYTES,
  MAX_SUBSCRIBE_GLOB_BYTES,
  MAX_UNSUBSCRIBE_EXACT_BYTES,
  MAX_UNSUBSCRIBE_GLOB_BYTES,
  parseSubscribeExact,
  parseSubscribeGlob,
  parseUnsubscribeExact,
  parseUnsubscribeGlob,
} from "../../protocol/mod.ts";
import type { Store, SubscribeResult, UnsubscribeResult } from "../../storage/types.ts";
import { checkCallbacks, parseOr400, readBodyCapped } from "../body.ts";
import { missingAuthorization } from "../request_body.ts";
import type { Route } from "../context.ts";
import { authFailure, conflict, ok, storeUnavailable } from "../responses.ts";

const EMPTY = new Uint8Array(0);

/** What distinguishes the four routes. */
interface SubscriptionOp<T extends { tracing: Uint8Array }> {
  /** The longest valid body: larger ones are refused unread. */
  maxBytes: number;
  parse(body: Uint8Array): T;
  /**
   * The request's authorization (unsubscribe reuses subscribe's, no recovery:
   * docs/protocol/http.md#unsubscribe).
   */
  request(msg: T): AuthMessage;
  /** The response's authorization. */
  confirm(msg: T): AuthMessage;
  apply(store: Store, msg: T): Promise<SubscribeResult | UnsubscribeResult>;
  conflictReason: string;
  /** The callback urls a subscribe stores (checked; unsubscribe stores none). */
  callbacks?(msg: T): (string | null)[];
}

function subscriptionRoute<T extends { tracing: Uint8Array }>(op: SubscriptionOp<T>): Route {
  return async (req, ctx) => {
    const missing = missingAuthorization(req, ctx.auth.toBroadcaster);
    if (missing !== null) return missing;
    const body = await readBodyCapped(req, ctx, Math.min(op.maxBytes, ctx.limits.maxBodyBytes));
    if (body instanceof Response) return body;
    const msg = parseOr400(op.parse, body);
    if (msg instanceof Response) return msg;
    const invalid = op.callbacks === undefined ? null : checkCallbacks(op.callbacks(msg));
    if (invalid !== null) return invalid;
    const verdict = await ctx.auth.toBroadcaster.verify(
      op.request(msg),
      msg.tracing,
      req.headers.get("authorization"),
      ctx.now(),
    );
    if (verdict !== "ok") return authFailure(verdict);
    const result = await op.apply(ctx.store, msg);
    if (result === "unavailable") return storeUnavailable();
    if (result !== "success") return conflict(op.conflictReason);
    const authorization = await ctx.auth.toSubscriber.authorize(op.confirm(msg), EMPTY, ctx.now());
    return ok(encodeResponseGeneric({ authorization, tracing: EMPTY }));
  };
}

/** `POST /v1/subscribe/exact`. */
export const subscribeExactRoute: Route = subscriptionRoute({
  maxBytes: MAX_SUBSCRIBE_EXACT_BYTES,
  parse: parseSubscribeExact,
  request: ({ url, recovery, topic }) => ({ type: "subscribe_exact", url, recovery, topic }),
  confirm: ({ url, recovery, topic }) => ({
    type: "confirm_subscribe_exact",
    url,
    recovery,
    topic,
  }),
  apply: (store, { url, topic, recovery }) => store.subscribeExact(url, topic, recovery),
  conflictReason: "Already subscribed to this exact topic with this url",
  callbacks: ({ url, recovery }) => [url, recovery],
});

/** `POST /v1/subscribe/glob`. */
export const subscribeGlobRoute: Route = subscriptionRoute({
  maxBytes: MAX_SUBSCRIBE_GLOB_BYTES,
  parse: parseSubscribeGlob,
  request: ({ url, recovery, glob }) => ({ type: "subscribe_glob", url, recovery, glob }),
  confirm: ({ url, recovery, glob }) => ({ type: "confirm_subscribe_glob", url, recovery, glob }),
  apply: (store, { url, glob, recovery }) => store.subscribeGlob(url, glob, recovery),
  conflictReason: "Already subscribed to this glob with this url",
  callbacks: ({ url, recovery }) => [url, recovery],
});

/** `POST /v1/unsubscribe/exact`. */
export const unsubscribeExactRoute: Route = subscriptionRoute({
  maxBytes: MAX_UNSUBSCRIBE_EXACT_BYTES,
  parse: parseUnsubscribeExact,
  request: ({ url, topic }) => ({ type: "subscribe_exact", url, recovery: null, topic }),
  confirm: ({ url, topic }) => ({ type: "confirm_subscribe_exact", url, recovery: null, topic }),
  apply: (store, { url, topic }) => store.unsubscribeExact(url, topic),
  conflictReason: "Not subscribed to this exact topic with this url",
});

/** `POST /v1/unsubscribe/glob`. */
export const unsubscribeGlobRoute: Route = subscriptionRoute({
  maxBytes: MAX_UNSUBSCRIBE_GLOB_BYTES,
  parse: parseUnsubscribeGlob,
  request: ({ url, glob }) => ({ type: "subscribe_glob", url, recovery: null, glob }),
  confirm: ({ url, glob }) => ({ type: "confirm_subscribe_glob", url, recovery: null, glob }),
  apply: (store, { url, glob }) => store.unsubscribeGlob(url, glob),
  conflictReason: "Not subscribed to this glob with this url",
});
