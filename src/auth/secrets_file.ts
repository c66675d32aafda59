/**
 * The reference's secrets files, `broadcaster-secrets.json` and
 * `subscriber-secrets.json` (docs/protocol/storage.md#secrets-files): format
 * version `"2"` and one optional entry per direction; a missing entry means
 * `none`. Ours may also hold the rqlite credentials (`"rqlite": {"user",
 * "password"}`) or the PostgreSQL connection string (`"postgres": {"url"}`,
 * which carries a password), in the broadcaster's file only.
 *
 * @module
 */

import { decodeHmacSecret, hmacAuth } from "./hmac.ts";
import { noneAuth } from "./none.ts";
import { type ReplayStore, sharedReplayStore } from "./replay_store.ts";
import { tokenAuth } from "./token.ts";
import type { AuthConfig, AuthStrategy } from "./types.ts";
import { readTextFile } from "../portable.ts";

/** One direction's entry. */
export interface SecretsEntry {
  /** Strategy; `none` is expressed by leaving the entry out. */
  readonly type: "hmac" | "token";
  /** hmac: 64 bytes as base64url (86 characters); token: the bearer text. */
  readonly secret: string;
}

/** A parsed secrets file. */
export interface SecretsFile {
  /** Always `"2"` (a string, as the reference writes and requires it). */
  readonly version: "2";
  /** Secret for messages whose recipient is the broadcaster. */
  readonly toBroadcaster?: SecretsEntry;
  /** Secret for messages whose recipient is a subscriber. */
  readonly toSubscriber?: SecretsEntry;
  /** Basic auth credentials for rqlite (broadcaster side only). */
  readonly rqlite?: RqliteCredentials;
  /** The PostgreSQL connection string, with its password (broadcaster side only). */
  readonly postgres?: { readonly url: string };
}

/** rqlite basic auth credentials. */
export interface RqliteCredentials {
  /** User name. */
  readonly user: string;
  /** Password. */
  readonly password: string;
}

const KEYS = { "to-broadcaster": "toBroadcaster", "to-subscriber": "toSubscriber" } as const;

/**
 * Parses a secrets file's text. Unknown keys are rejected: a misspelt
 * direction would otherwise silently mean `none`.
 *
 * @throws {Error} naming `fileName` and the offending field
 */
export function parseSecretsFile(text: string, fileName: string): SecretsFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`Invalid secrets file ${fileName}: not JSON: ${(e as Error).message}`);
  }
  if (!isObject(raw)) throw new Error(`Invalid secrets file ${fileName}: expected a JSON object`);
  if (raw.version !== "2") {
    throw new Error(
      `Invalid secrets file ${fileName}: "version" must be the string "2", got ${
        JSON.stringify(raw.version) ?? "nothing"
      }`,
    );
  }
  const out: {
    version: "2";
    toBroadcaster?: SecretsEntry;
    toSubscriber?: SecretsEntry;
    rqlite?: RqliteCredentials;
    postgres?: { url: string };
  } = { version: "2" };
  for (const key of Object.keys(raw)) {
    if (key === "version") continue;
    if (key === "rqlite") {
      out.rqlite = parseRqlite(raw[key], `${fileName}: "rqlite"`);
      continue;
    }
    if (key === "postgres") {
      out.postgres = parsePostgres(raw[key], `${fileName}: "postgres"`);
      continue;
    }
    if (!Object.hasOwn(KEYS, key)) {
      throw new Error(
        `Invalid secrets file ${fileName}: unknown key ${
          JSON.stringify(key)
        } (expected "version", "to-broadcaster", "to-subscriber", "rqlite", "postgres")`,
      );
    }
    const k = key as keyof typeof KEYS;
    out[KEYS[k]] = parseEntry(raw[k], `${fileName}: "${k}"`);
  }
  return out;
}

function parseEntry(v: unknown, where: string): SecretsEntry {
  if (!isObject(v)) throw new Error(`Invalid secrets file ${where} must be an object`);
  for (const key of Object.keys(v)) {
    if (key !== "type" && key !== "secret") {
      throw new Error(`Invalid secrets file ${where} has unknown key ${JSON.stringify(key)}`);
    }
  }
  const { type, secret } = v;
  if (type !== "hmac" && type !== "token") {
    throw new Error(
      `Invalid secrets file ${where}.type must be "hmac" or "token", got ${
        JSON.stringify(type) ?? "nothing"
      }`,
    );
  }
  if (typeof secret !== "string" || secret === "") {
    throw new Error(`Invalid secrets file ${where}.secret is missing or not a non-empty string`);
  }
  if (type === "hmac") {
    try {
      decodeHmacSecret(secret);
    } catch (e) {
      throw new Error(`Invalid secrets file ${where}.secret: ${(e as Error).message}`);
    }
  } else if (hasControlCharacter(secret)) {
    throw new Error(
      `Invalid secrets file ${where}.secret: control characters cannot travel in a header`,
    );
  }
  return { type, secret };
}

function parseRqlite(v: unknown, where: string): RqliteCredentials {
  if (!isObject(v)) throw new Error(`Invalid secrets file ${where} must be an object`);
  for (const key of Object.keys(v)) {
    if (key !== "user" && key !== "password") {
      throw new Error(`Invalid secrets file ${where} has unknown key ${JSON.stringify(key)}`);
    }
  }
  const { user, password } = v;
  if (typeof user !== "string" || user === "" || user.includes(":") || hasControlCharacter(user)) {
    throw new Error(
      `Invalid secrets file ${where}.user must be a non-empty string without ":" or control characters`,
    );
  }
  if (typeof password !== "string") {
    throw new Error(`Invalid secrets file ${where}.password is missing or not a string`);
  }
  return { user, password };
}

function parsePostgres(v: unknown, where: string): { url: string } {
  if (!isObject(v)) throw new Error(`Invalid secrets file ${where} must be an object`);
  for (const key of Object.keys(v)) {
    if (key !== "url") {
      throw new Error(`Invalid secrets file ${where} has unknown key ${JSON.stringify(key)}`);
    }
  }
  // The url itself is checked when the store opens (never echoed: it holds a password).
  if (typeof v.url !== "string" || v.url === "") {
    throw new Error(`Invalid secrets file ${where}.url is missing or not a non-empty string`);
  }
  return { url: v.url };
}

function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Formats a secrets file as the reference writes it: 2-space indentation,
 * key order `version`, `to-broadcaster`, `to-subscriber`, everything outside
 * printable ASCII escaped as `\uXXXX` (Python's `ensure_ascii`), trailing
 * newline.
 */
export function formatSecretsFile(s: SecretsFile): string {
  const parts = [`  "version": ${pyString(s.version)}`];
  const entry = (key: string, e: SecretsEntry): string =>
    `  "${key}": {\n    "type": ${pyString(e.type)},\n    "secret": ${pyString(e.secret)}\n  }`;
  if (s.toBroadcaster) parts.push(entry("to-broadcaster", s.toBroadcaster));
  if (s.toSubscriber) parts.push(entry("to-subscriber", s.toSubscriber));
  if (s.rqlite) {
    parts.push(
      `  "rqlite": {\n    "user": ${pyString(s.rqlite.user)},\n    "password": ${
        pyString(s.rqlite.password)
      }\n  }`,
    );
  }
  if (s.postgres) parts.push(`  "postgres": {\n    "url": ${pyString(s.postgres.url)}\n  }`);
  return `{\n${parts.join(",\n")}\n}\n`;
}

function pyString(s: string): string {
  return JSON.stringify(s).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Options for {@link authFromSecrets}. */
export interface AuthFromSecretsOptions {
  /** Creates the replay store; called at most once, and only if a direction uses hmac. */
  readonly replay: () => Promise<ReplayStore>;
  /** hmac clock window, seconds (default 120). */
  readonly tokenLifetimeSeconds?: number;
}

/**
 * Builds both directions from a secrets file. Both hmac directions share
 * one replay store, closed when both strategies are closed.
 */
export async function authFromSecrets(
  s: SecretsFile,
  opts: AuthFromSecretsOptions,
): Promise<AuthConfig> {
  // Decode every secret before creating the store, so a bad one leaks nothing.
  const secrets = [s.toBroadcaster, s.toSubscriber].map((e) =>
    e?.type === "hmac" ? decodeHmacSecret(e.secret) : null
  );
  const shared = secrets.some((b) => b !== null) ? sharedReplayStore(await opts.replay()) : null;
  const build = (e: SecretsEntry | undefined, hmacSecret: Uint8Array | null): AuthStrategy => {
    if (e === undefined) return noneAuth();
    if (hmacSecret === null || shared === null) return tokenAuth(e.secret);
    return hmacAuth({
      secret: hmacSecret,
      replay: shared.acquire(),
      ...(opts.tokenLifetimeSeconds === undefined
        ? {}
        : { tokenLifetimeSeconds: opts.tokenLifetimeSeconds }),
    });
  };
  return {
    toBroadcaster: build(s.toBroadcaster, secrets[0] ?? null),
    toSubscriber: build(s.toSubscriber, secrets[1] ?? null),
  };
}

/**
 * Reads and parses the secrets file at `path`.
 *
 * @throws {Error} when it cannot be read or is invalid (naming the file)
 */
export async function loadSecretsFile(path: string): Promise<SecretsFile> {
  let text: string;
  try {
    text = await readTextFile(path);
  } catch (e) {
    throw new Error(`Cannot read secrets file ${path}: ${(e as Error).message}`);
  }
  return parseSecretsFile(text, path);
}

/**
 * Writes a secrets file readable only by its owner (mode 0600 where the
 * platform has modes; the reference leaves it to the umask).
 */
export async function saveSecretsFile(path: string, s: SecretsFile): Promise<void> {
  const { writeFile } = await import("node:fs/promises");
  await writeFile(path, formatSecretsFile(s), { encoding: "utf8", mode: 0o600 });
}
