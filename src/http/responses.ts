/**
 * Response builders: every status a route answers comes from here.
 *
 * @module
 */

import type { AuthResult } from "../auth/mod.ts";

const OCTETS = { "content-type": "application/octet-stream" };
const TEXT = { "content-type": "text/plain; charset=utf-8" };

/** 200 with a protocol body. */
export function ok(body: Uint8Array): Response {
  return new Response(body as Uint8Array<ArrayBuffer>, { status: 200, headers: OCTETS });
}

/** A 4xx/5xx with a short plain-text reason (never internals). */
export function fail(status: number, reason: string, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set("content-type", TEXT["content-type"]);
  return new Response(reason + "\n", { status, headers: h });
}

/** 400 for a malformed body. */
export function badRequest(reason: string): Response {
  return fail(400, reason);
}

/** The status for a failed authorization check (docs/protocol/auth.md#outcomes). */
export function authFailure(result: Exclude<AuthResult, "ok">): Response {
  switch (result) {
    case "unauthorized":
      return fail(401, "Authorization required");
    case "forbidden":
      return fail(403, "Authorization rejected");
    case "unavailable":
      return fail(503, "Authorization service unavailable");
  }
}

/** 409: subscribe of an existing pair, or unsubscribe of a missing one. */
export function conflict(reason: string): Response {
  return fail(409, reason);
}

/** 503: the store could not answer. */
export function storeUnavailable(): Response {
  return fail(503, "Storage unavailable");
}
