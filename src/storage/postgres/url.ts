/**
 * The connection string: checked, its TLS parameters (`sslmode`,
 * `sslrootcert`, as libpq spells them) turned into driver settings, and a
 * label without the password for log lines, errors and the banner.
 *
 * @module
 */

import type { DriverSsl } from "./driver.ts";

/** libpq's `sslmode` values. */
export const SSL_MODES = [
  "disable",
  "allow",
  "prefer",
  "require",
  "verify-ca",
  "verify-full",
] as const;
/** One of {@link SSL_MODES}. */
export type SslMode = (typeof SSL_MODES)[number];

/** A checked connection string. */
export interface ParsedUrl {
  /** The string for the driver: TLS parameters taken out. */
  readonly driverUrl: string;
  /** `postgres://user@host:port/db`: no password, no parameters. */
  readonly label: string;
  /** TLS mode (default `prefer`, as libpq). */
  readonly sslMode: SslMode;
  /** `sslrootcert` of the string, if any. */
  readonly caFile: string | null;
  /** Host name or address (for certificate checks). */
  readonly host: string;
}

/**
 * Checks a connection string (`postgres://` or `postgresql://`). Error
 * messages never include the password.
 *
 * @throws {RangeError} saying what is wrong
 */
export function parsePostgresUrl(text: string): ParsedUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RangeError("Invalid PostgreSQL url: not a postgres://user:password@host/db url");
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new RangeError(`Invalid PostgreSQL url: must start with postgres:// or postgresql://`);
  }
  if (url.hostname === "") throw new RangeError("Invalid PostgreSQL url: no host");
  const mode = url.searchParams.get("sslmode") ?? "prefer";
  if (!(SSL_MODES as readonly string[]).includes(mode)) {
    throw new RangeError(
      `Invalid PostgreSQL url: sslmode must be one of ${SSL_MODES.join(", ")}, got "${mode}"`,
    );
  }
  const caFile = url.searchParams.get("sslrootcert");
  url.searchParams.delete("sslmode");
  url.searchParams.delete("sslrootcert");
  const user = url.username === "" ? "" : `${url.username}@`;
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return {
    driverUrl: url.toString(),
    label: `${url.protocol}//${user}${url.host}${url.pathname === "/" ? "" : url.pathname}`,
    sslMode: mode as SslMode,
    caFile: caFile === "" ? null : caFile,
    host,
  };
}

/**
 * The driver's TLS settings for `mode`. With a CA file, `require` checks the
 * chain as libpq does (`verify-ca`); `verify-full` also checks the host name.
 *
 * @throws {Error} when the CA file cannot be read
 */
export async function driverSsl(
  parsed: ParsedUrl,
  caFileOption: string | null,
): Promise<DriverSsl> {
  const caFile = caFileOption ?? parsed.caFile;
  const mode = parsed.sslMode === "require" && caFile !== null ? "verify-ca" : parsed.sslMode;
  if (mode === "disable") return false;
  if (mode === "allow" || mode === "prefer") return "prefer";
  if (mode === "require") return "require";
  const ca = caFile === null ? undefined : await readCa(caFile);
  const options: Record<string, unknown> = {
    rejectUnauthorized: true,
    ...(ca === undefined ? {} : { ca }),
  };
  if (mode === "verify-ca") {
    options.checkServerIdentity = () => undefined;
  } else {
    options.host = parsed.host;
    // node:net and node:fs are imported on use: on Deno they load part of the
    // Node compatibility layer, which a broadcaster without PostgreSQL never needs.
    const { isIP } = await import("node:net");
    if (isIP(parsed.host) === 0) options.servername = parsed.host;
  }
  return options;
}

async function readCa(path: string): Promise<string> {
  try {
    const { readFile } = await import("node:fs/promises");
    return await readFile(path, "utf8");
  } catch (e) {
    throw new Error(`Cannot read the PostgreSQL CA file ${path}: ${(e as Error).message}`);
  }
}
