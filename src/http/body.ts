/**
 * Reading small request bodies whole, within the route's limit and the
 * broadcaster's memory budget (see `request_body.ts`). Notify and the relay's
 * receive never come here: they stream.
 *
 * @module
 */

import type { Context } from "../core/context.ts";
import { callbackUrlProblem, ParseError } from "../protocol/mod.ts";
import { RequestBody } from "./request_body.ts";
import { badRequest } from "./responses.ts";

/**
 * Reads the whole body of `req` if it is at most `max` bytes; otherwise
 * stops reading and answers 413 with the limit (at once when the declared
 * Content-Length is over it). 503 when the memory budget for request bodies
 * is full, 408 when the client sends too slowly.
 */
export function readBodyCapped(
  req: Request,
  ctx: Context,
  max: number,
): Promise<Uint8Array | Response> {
  return RequestBody.of(req, ctx).readAll(max);
}

/** Runs a parser; a {@link ParseError} becomes 400 with its message. */
export function parseOr400<T>(parse: (b: Uint8Array) => T, body: Uint8Array): T | Response {
  try {
    return parse(body);
  } catch (e) {
    if (e instanceof ParseError) return badRequest(e.message);
    throw e;
  }
}

/** 400 naming the first url that cannot be a callback url (nulls are absent recovery urls). */
export function checkCallbacks(urls: readonly (string | null)[]): Response | null {
  for (const url of urls) {
    if (url === null) continue;
    const problem = callbackUrlProblem(url);
    if (problem !== null) return badRequest(`Invalid callback url: ${problem}`);
  }
  return null;
}
