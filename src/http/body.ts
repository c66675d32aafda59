/**
 * Reading small request bodies with a hard cap. Notify never comes here: it
 * streams (see `routes/notify.ts`).
 *
 * @module
 */

import { ParseError } from "../protocol/bytes.ts";
import { callbackUrlProblem } from "../protocol/callback_url.ts";
import { badRequest, fail } from "./responses.ts";

/**
 * Reads the whole body of `req` if it is at most `max` bytes; otherwise stops
 * reading and answers 413 with the limit. A declared `Content-Length` over the
 * limit is refused before reading anything.
 */
export async function readBodyCapped(req: Request, max: number): Promise<Uint8Array | Response> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > max) return tooLarge(max);
  if (req.body === null) return new Uint8Array(0);
  if (declared !== null) {
    // The server enforces the declared length, so it bounds what we hold.
    try {
      return new Uint8Array(await req.arrayBuffer());
    } catch {
      return badRequest("Request body could not be read");
    }
  }
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > max) {
        await reader.cancel().catch(() => {});
        return tooLarge(max);
      }
      chunks.push(value);
    }
  } catch {
    return badRequest("Request body could not be read");
  } finally {
    reader.releaseLock();
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function tooLarge(max: number): Response {
  return fail(413, `Request body larger than the limit of ${max} bytes`);
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
