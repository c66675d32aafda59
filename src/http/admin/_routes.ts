/**
 * The admin routes themselves (see `./mod.ts`), loaded only when the page is on.
 *
 * @module
 */

import type { Context } from "../../core/context.ts";
import type { Route } from "../context.ts";
import { fail } from "../responses.ts";
import type { OpsState } from "../routes/ops.ts";
import { ADMIN_CSS, ADMIN_JS } from "./assets.ts";
import { adminPage, loginPage } from "./page.ts";
import { AdminSession, sameOrigin } from "./session.ts";

/** Rows per page of the subscriptions table. */
export const ADMIN_PAGE_SIZE = 50;
/** Largest form body accepted (a url and a little more). */
const MAX_FORM_BYTES = 16 * 1024;

// No other origin, no framing, no plugins; forms post only to us.
const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; " +
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "cache-control": "no-store",
};

function html(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/html; charset=utf-8", ...SECURITY_HEADERS, ...headers },
  });
}

function redirect(to: string, headers: Record<string, string> = {}): Response {
  return new Response(null, {
    status: 303,
    headers: { location: to, ...SECURITY_HEADERS, ...headers },
  });
}

async function readForm(req: Request): Promise<URLSearchParams | null> {
  const type = req.headers.get("content-type") ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded")) return null;
  const length = Number(req.headers.get("content-length") ?? "0");
  if (length > MAX_FORM_BYTES) return null;
  const text = await req.text();
  return text.length > MAX_FORM_BYTES ? null : new URLSearchParams(text);
}

/** The admin routes by local path (they answer any method and check it), signed in with `token`. */
export function adminRoutes(token: string, state: OpsState, prefix: string): Map<string, Route> {
  const routes = new Map<string, Route>();
  const session = new AdminSession(token);
  const base = `${prefix}/admin`;
  const post = (route: Route): Route => async (req, ctx) => {
    if (req.method !== "POST") return fail(405, "Method not allowed: use POST", { allow: "POST" });
    if (!sameOrigin(req)) return fail(403, "Cross-origin request refused");
    return await route(req, ctx);
  };
  const asset = (type: string, body: string): Route => (req) =>
    Promise.resolve(
      req.method === "GET" || req.method === "HEAD"
        ? new Response(body, {
          headers: { "content-type": type, ...SECURITY_HEADERS, "cache-control": "max-age=300" },
        })
        : fail(405, "Method not allowed: use GET", { allow: "GET, HEAD" }),
    );
  routes.set("/admin/admin.css", asset("text/css; charset=utf-8", ADMIN_CSS));
  routes.set("/admin/admin.js", asset("text/javascript; charset=utf-8", ADMIN_JS));
  routes.set("/admin", async (req, ctx) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return fail(405, "Method not allowed: use GET", { allow: "GET, HEAD" });
    }
    if (!await session.allows(req)) {
      return html(401, loginPage(base, null), {
        "www-authenticate": 'Bearer realm="lonelypss admin"',
      });
    }
    return await render(req, ctx, state, base);
  });
  routes.set(
    "/admin/login",
    post(async (req) => {
      const form = await readForm(req);
      if (form === null) return fail(400, "Expected a form with a token");
      if (!session.tokenMatches(form.get("token") ?? "")) {
        return html(401, loginPage(base, "Wrong token"));
      }
      return redirect(base, { "set-cookie": await session.signIn(req, base) });
    }),
  );
  routes.set(
    "/admin/logout",
    post((req) => Promise.resolve(redirect(base, { "set-cookie": session.signOut(req, base) }))),
  );
  routes.set(
    "/admin/remove",
    post(async (req, ctx) => {
      if (!await session.allows(req)) return fail(401, "Sign in first");
      const form = await readForm(req);
      const url = form?.get("url") ?? "";
      if (url === "") return fail(400, "Expected a form with the url to remove");
      const removed = await ctx.store.pruneSubscriptions(
        { kind: "url", url },
        { now: Math.round(ctx.now() * 1000), reason: "admin" },
      );
      if (removed === "unavailable") return fail(503, "Storage unavailable");
      const n = removed.reduce((s, u) => s + u.exacts + u.globs, 0);
      ctx.log.info("Url removed from the admin page", { url, subscriptions: n });
      return redirect(`${base}?${new URLSearchParams({ removed: url, n: String(n) })}`);
    }),
  );
  return routes;
}

async function render(
  req: Request,
  ctx: Context,
  state: OpsState,
  base: string,
): Promise<Response> {
  const params = new URL(req.url).searchParams;
  const q = (params.get("q") ?? "").slice(0, 1000);
  const failing = params.get("failing") === "1";
  const page = Math.max(1, Math.min(1e6, Math.floor(Number(params.get("page") ?? "1")) || 1));
  const [report, rows, prunes, pendingMissed] = await Promise.all([
    ctx.store.subscriptionReport(20),
    ctx.store.listSubscriptionStats({
      ...(q === "" ? {} : { search: q }),
      ...(failing ? { failing: true } : {}),
      limit: ADMIN_PAGE_SIZE,
      offset: (page - 1) * ADMIN_PAGE_SIZE,
    }),
    ctx.store.listPrunes(20),
    ctx.store.countPendingMissed(),
  ]);
  if (report === "unavailable" || rows === "unavailable" || prunes === "unavailable") {
    return fail(503, "Storage unavailable");
  }
  const nowMs = ctx.now() * 1000;
  const removed = params.get("removed");
  return html(
    200,
    adminPage({
      base,
      report,
      websockets: state.websocketConnections(),
      recent: ctx.stats === null
        ? null
        : { minute: ctx.stats.recent(60, nowMs), hour: ctx.stats.recent(3600, nowMs) },
      pendingMissed,
      filter: { q, failing, page },
      pageSize: ADMIN_PAGE_SIZE,
      rows,
      prunes,
      notice: removed === null
        ? null
        : `Removed ${params.get("n") ?? "0"} subscriptions of ${removed}`,
    }),
  );
}
