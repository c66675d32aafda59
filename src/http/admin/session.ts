/**
 * Admin page access: a bearer token asked for once, then a cookie that is
 * `HttpOnly`, `SameSite=Strict`, scoped to the page's path and `Secure`
 * behind https. The cookie holds an HMAC of the token, not the token: it
 * means nothing elsewhere, survives restarts and is the same in every
 * process that shares the token. Changing the token signs everyone out.
 *
 * @module
 */

import { timingSafeEqual } from "../../crypto/equal.ts";

const COOKIE = "lonelypss_admin";
const UTF8 = new TextEncoder();

/** Checks tokens and cookies for one admin token. */
export class AdminSession {
  readonly #token: Uint8Array<ArrayBuffer>;
  readonly #cookie: Promise<string>;

  /** For `token` (non-empty). */
  constructor(token: string) {
    this.#token = UTF8.encode(token);
    this.#cookie = crypto.subtle
      .importKey("raw", this.#token, { name: "HMAC", hash: "SHA-256" }, false, ["sign"])
      .then((key) => crypto.subtle.sign("HMAC", key, UTF8.encode("lonelypss admin session v1")))
      .then((mac) =>
        Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, "0")).join("")
      );
  }

  /** Whether `given` is the token. */
  tokenMatches(given: string): boolean {
    return same(UTF8.encode(given), this.#token);
  }

  /** Whether `req` carries the session cookie or `Authorization: Bearer <token>`. */
  async allows(req: Request): Promise<boolean> {
    const auth = req.headers.get("authorization");
    if (auth !== null && auth.startsWith("Bearer ") && this.tokenMatches(auth.slice(7))) {
      return true;
    }
    const value = cookieValue(req.headers.get("cookie"), COOKIE);
    return value !== null && same(UTF8.encode(value), UTF8.encode(await this.#cookie));
  }

  /** The `Set-Cookie` value that signs `req`'s browser in, for pages under `path`. */
  async signIn(req: Request, path: string): Promise<string> {
    const secure = isHttps(req) ? "; Secure" : "";
    return `${COOKIE}=${await this.#cookie}; Path=${path}; HttpOnly; SameSite=Strict${secure}`;
  }

  /** The `Set-Cookie` value that signs out. */
  signOut(req: Request, path: string): string {
    const secure = isHttps(req) ? "; Secure" : "";
    return `${COOKIE}=; Path=${path}; Max-Age=0; HttpOnly; SameSite=Strict${secure}`;
  }
}

/** Whether the client reached us over https (directly, or as a proxy says). */
export function isHttps(req: Request): boolean {
  return req.url.startsWith("https:") ||
    req.headers.get("x-forwarded-proto")?.split(",")[0]?.trim() === "https";
}

/**
 * Whether a state-changing request comes from our own page: its `Origin`
 * (sent by browsers on every POST) names this origin, or, without one,
 * `Sec-Fetch-Site` says same-origin. Anything else is refused.
 */
export function sameOrigin(req: Request): boolean {
  const origin = req.headers.get("origin");
  if (origin !== null) {
    const own = new URL(req.url);
    const scheme = isHttps(req) ? "https:" : own.protocol;
    const host = req.headers.get("host") ?? own.host;
    return origin === `${scheme}//${host}` || origin === own.origin;
  }
  return req.headers.get("sec-fetch-site") === "same-origin";
}

function cookieValue(header: string | null, name: string): string | null {
  if (header === null) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
