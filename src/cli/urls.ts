/**
 * The urls the CLI reads from flags and the config file: a relay base url and
 * rqlite node urls (shared by `config.ts`, `settings.ts` and `setup.ts`).
 *
 * @module
 */

import { checkRqliteUrl } from "../storage/rqlite/options.ts";
import { UsageError } from "./errors.ts";

/**
 * Checks a relay base url: absolute http(s), no query or fragment; a trailing
 * slash is dropped. Peers compare it with the URL they send, so it is kept as typed.
 *
 * @throws {UsageError} naming `what` when it is not such a url
 */
export function parseRelayUrl(what: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${what} must be an absolute http(s) url, got "${text}"`);
  }
  if (
    (url.protocol !== "http:" && url.protocol !== "https:") || url.search !== "" || url.hash !== ""
  ) {
    throw new UsageError(`${what} must be an http(s) url without query or fragment, got "${text}"`);
  }
  return text.replace(/\/+$/, "");
}

/**
 * A comma-separated list of rqlite node urls.
 *
 * @throws {UsageError} naming `what` and the bad url
 */
export function parseUrls(what: string, text: string): string[] {
  const urls = text.split(",").map((u) => u.trim()).filter((u) => u !== "");
  if (urls.length === 0) throw new UsageError(`Invalid ${what}: expected URL[,URL...]`);
  for (const u of urls) {
    try {
      checkRqliteUrl(u);
    } catch (e) {
      throw new UsageError(
        `Invalid ${what}: ${(e as Error).message.replace(/^Invalid rqlite url /, "")}`,
      );
    }
  }
  return urls;
}
