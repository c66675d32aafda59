/**
 * What a callback url (a subscription's url or recovery url) must be at subscribe time
 * (docs/decisions.md#redirects-and-callback-urls): an absolute `http:` or `https:` url with a host,
 * no credentials, no whitespace or control characters. The length limit (65,535 bytes) is the wire
 * format's, checked by the parsers.
 *
 * @module
 */

/**
 * Why `url` cannot be a callback url, or null when it can.
 *
 * @example
 * ```ts
 * import { callbackUrlProblem } from "./callback_url.ts";
 * console.log(callbackUrlProblem("http://127.0.0.1:3002/v1/receive")); // null
 * console.log(callbackUrlProblem("ftp://example.com/")); // "must be http or https"
 * ```
 */
export function callbackUrlProblem(url: string): string | null {
  // WHATWG parsing would quietly strip or encode these; the stored url must be what is used.
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return "must not contain whitespace or control characters";
  }
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return "must be an absolute url";
  if (scheme !== "http" && scheme !== "https") return "must be http or https";
  if (!/^https?:\/\//i.test(url)) return "must be an absolute url (scheme://host/...)";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "is not a valid url";
  }
  if (parsed.hostname === "") return "must name a host";
  if (parsed.username !== "" || parsed.password !== "") {
    return "must not carry credentials (use the authorization settings)";
  }
  return null;
}
