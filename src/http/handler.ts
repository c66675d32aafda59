/**
 * The core `handle(req)`: finds the route, guards against crashes, and tracks
 * requests in flight so shutdown can wait for them.
 *
 * @module
 */

import type { Context } from "../core/context.ts";
import type { Route } from "./context.ts";
import { fail } from "./responses.ts";
import { settleBody } from "./request_body.ts";
import { notifyRoute } from "./routes/notify.ts";
import { checkSubscriptionsRoute, setSubscriptionsRoute } from "./routes/check_set.ts";
import { missedForWebsocketsRoute, receiveForWebsocketsRoute } from "./routes/relay.ts";
import {
  subscribeExactRoute,
  subscribeGlobRoute,
  unsubscribeExactRoute,
  unsubscribeGlobRoute,
} from "./routes/subscriptions.ts";

const ROUTES: ReadonlyMap<string, Route> = new Map([
  ["/v1/notify", notifyRoute],
  ["/v1/subscribe/exact", subscribeExactRoute],
  ["/v1/subscribe/glob", subscribeGlobRoute],
  ["/v1/unsubscribe/exact", unsubscribeExactRoute],
  ["/v1/unsubscribe/glob", unsubscribeGlobRoute],
  ["/v1/check_subscriptions", checkSubscriptionsRoute],
  ["/v1/set_subscriptions", setSubscriptionsRoute],
  ["/v1/receive_for_websockets", receiveForWebsocketsRoute],
  ["/v1/missed_for_websockets", missedForWebsocketsRoute],
]);

/** The path a websocket transport, if any, answers (any method; it checks itself). */
export const WEBSOCKET_PATH = "/v1/websocket";

/**
 * Answers the websocket path; `extra` is what the runtime adapter passed to
 * `handle` (e.g. a per-request upgrader), handed through untouched.
 */
export type WebsocketRoute = (req: Request, extra?: unknown) => Promise<Response>;

/** A request handler plus what shutdown needs to know about it. */
export interface Handler {
  /** Answers one request; never rejects. `extra` goes to the websocket route. */
  handle(req: Request, extra?: unknown): Promise<Response>;
  /** Resolves once no request is in flight (immediately if none is). */
  idle(): Promise<void>;
  /** Requests currently being handled. */
  readonly inFlight: number;
}

/**
 * Builds the handler. `pathPrefix` ("" or e.g. "/pubsub", no trailing slash)
 * is stripped before routing, so the broadcaster can be mounted in a larger app.
 */
export function createHandler(
  ctx: Context,
  pathPrefix: string,
  websocket?: WebsocketRoute,
  ops: ReadonlyMap<string, Route> = new Map(),
  pages: ReadonlyMap<string, Route> = new Map(),
): Handler {
  const prefix = normalisePrefix(pathPrefix);
  let inFlight = 0;
  let waiters: (() => void)[] = [];

  /**
   * Answers `req`; `seen.route` becomes the route it matched (for metrics). Not async, like
   * {@link guarded}: each async layer costs an object per request (only `handle` calls it, and
   * awaits it, so a throw here is a rejection there).
   */
  function dispatch(
    req: Request,
    extra: unknown,
    seen: { route: string },
  ): Promise<Response> {
    let path = plainPath(req.url);
    if (path === null) {
      try {
        path = new URL(req.url).pathname;
      } catch {
        // Servers build the URL from the Host header, which the client controls.
        return Promise.resolve(fail(400, "Invalid request URL (check the Host header)"));
      }
    }
    if (!path.startsWith(prefix)) return Promise.resolve(fail(404, "Not found"));
    const local = path.slice(prefix.length);
    if (local === WEBSOCKET_PATH && websocket !== undefined) {
      seen.route = local;
      return upgrade(websocket, req, extra, path);
    }
    // Pages (the admin page) check their methods themselves.
    const page = pages.get(local);
    if (page !== undefined) {
      seen.route = local;
      return guarded(page, req, path);
    }
    const opsRoute = ops.get(local);
    if (opsRoute !== undefined) {
      seen.route = local;
      if (req.method !== "GET" && req.method !== "HEAD") {
        return Promise.resolve(fail(405, "Method not allowed: use GET", { allow: "GET, HEAD" }));
      }
      return guarded(opsRoute, req, path);
    }
    const route = ROUTES.get(local);
    if (route === undefined) return settleBody(req, fail(404, "Not found"));
    seen.route = local;
    if (req.method !== "POST") {
      return settleBody(req, fail(405, "Method not allowed: use POST", { allow: "POST" }));
    }
    return guarded(route, req, path);
  }

  async function upgrade(
    websocket: WebsocketRoute,
    req: Request,
    extra: unknown,
    path: string,
  ): Promise<Response> {
    try {
      return await websocket(req, extra);
    } catch (e) {
      ctx.log.error("Unhandled error in websocket upgrade", { path, error: e });
      return fail(500, "Internal error");
    }
  }

  /** `route`'s answer (a 500 when it throws or rejects), its body settled. */
  function guarded(route: Route, req: Request, path: string): Promise<Response> {
    let answer: Promise<Response>;
    try {
      answer = route(req, ctx);
    } catch (e) {
      answer = Promise.reject(e);
    }
    return answer.then(
      (res) => settleBody(req, res),
      (e) => {
        ctx.log.error("Unhandled error in route", { path, error: e });
        return settleBody(req, fail(500, "Internal error"));
      },
    );
  }

  return {
    async handle(req, extra) {
      inFlight++;
      const seen = { route: "other" };
      try {
        const res = await dispatch(req, extra, seen);
        ctx.metrics.request(seen.route, res.status);
        return res;
      } finally {
        if (--inFlight === 0) {
          const w = waiters;
          waiters = [];
          for (const resolve of w) resolve();
        }
      }
    },
    idle() {
      return inFlight === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve));
    },
    get inFlight() {
      return inFlight;
    },
  };
}

/** A mount point as routed: `""` or `/x` (leading slash added, trailing slashes dropped). */
export function normalisePrefix(prefix: string): string {
  const trimmed = prefix.replace(/\/+$/, "");
  if (trimmed === "") return "";
  return trimmed.startsWith("/") ? trimmed : "/" + trimmed;
}

/** `scheme://host[:port]` with nothing a URL parser would change or refuse. */
const PLAIN_ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(?::[0-9]{1,5})?$/;
/** A path the URL parser keeps as is: no escapes, dot segments, backslashes or odd characters. */
const PLAIN_PATH = /^(?:\/[A-Za-z0-9_~!$&'()*+,;=:@-]+)*\/?$/;

/**
 * The path of a request url in the common case where parsing it would give
 * it back unchanged (a plain host and path); null for anything else, which
 * then goes through `new URL` (and its 400 when the Host header is bad).
 * Parsing every url showed up in profiles of the subscribe route.
 */
export function plainPath(url: string): string | null {
  const scheme = url.indexOf("://");
  if (scheme < 0) return null;
  const slash = url.indexOf("/", scheme + 3);
  if (slash < 0) return null;
  let end = url.length;
  const query = url.indexOf("?", slash);
  if (query >= 0) end = query;
  const hash = url.indexOf("#", slash);
  if (hash >= 0 && hash < end) end = hash;
  const path = url.slice(slash, end);
  const origin = url.slice(0, slash);
  if (!PLAIN_ORIGIN.test(origin) || !PLAIN_PATH.test(path)) return null;
  const colon = origin.indexOf(":", scheme + 3);
  if (colon >= 0 && Number(origin.slice(colon + 1)) > 65535) return null;
  return path;
}
