/**
 * Response builders: every status a route answers comes from here.
 *
 * @module
 */

import type { AuthResult } from "../auth/mod.ts";

const TEXT = { "content-type": "text/plain; charset=utf-8" };
const encoder = new TextEncoder();

/**
 * Where a response built here keeps its body's bytes, for a server that
 * writes responses itself (the Deno front): it sends them as they are, head
 * and body in one write, instead of reading the body back as a stream
 * (`Response.bytes()` makes one: 3–4 µs a response).
 */
const BODY_BYTES: unique symbol = Symbol("lonelypss.bodyBytes");
type WithBytes = Response & { [BODY_BYTES]?: Uint8Array };

/** The body of a response built here (see `BODY_BYTES`), else undefined. */
export function bodyBytesOf(res: Response): Uint8Array | undefined {
  return (res as WithBytes)[BODY_BYTES];
}

function withBytes(res: Response, bytes: Uint8Array): Response {
  (res as WithBytes)[BODY_BYTES] = bytes;
  return res;
}

/** The init of every 200 with a protocol body (shared: the Response copies what it needs). */
const OK_INIT: ResponseInit = {
  status: 200,
  headers: { "content-type": "application/octet-stream" },
};

/** 200 with a protocol body. */
export function ok(body: Uint8Array): Response {
  return withBytes(new Response(body as Uint8Array<ArrayBuffer>, OK_INIT), body);
}

/** A 4xx/5xx with a short plain-text reason (never internals). */
export function fail(status: number, reason: string, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set("content-type", TEXT["content-type"]);
  const bytes = encoder.encode(reason + "\n");
  return withBytes(new Response(bytes, { status, headers: h }), bytes);
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
