/**
 * What `notify` and `subscribe` share: loading credentials and mapping the
 * client's errors to exit codes.
 *
 * @module
 */

import { authFromSecretsFile, ClientError } from "../client/mod.ts";
import type { AuthConfig } from "../auth/mod.ts";
import { CliError, UsageError } from "./errors.ts";

/** Exit code for refused credentials. */
export const EXIT_UNAUTHORIZED = 3;

/** The credentials of `--secrets`, or none. */
export async function loadAuth(path: string | undefined): Promise<Partial<AuthConfig>> {
  if (path === undefined) return {};
  try {
    return await authFromSecretsFile(path);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

/** `--broadcaster` values, at least one. */
export function broadcasterUrls(values: string[] | undefined, command: string): string[] {
  if (values === undefined || values.length === 0) {
    throw new UsageError(`${command} needs --broadcaster URL (see: lonelypss ${command} --help)`);
  }
  return values.map((v) => v.replace(/\/+$/, ""));
}

/** The websocket url of a broadcaster given as http(s) (ws urls pass unchanged). */
export function websocketUrl(url: string): string {
  if (/^wss?:/.test(url)) return url;
  return url.replace(/^http/, "ws") + "/v1/websocket";
}

/** A client error as the CLI reports it. */
export function cliErrorOf(e: unknown): unknown {
  if (e instanceof ClientError) {
    return new CliError(
      e.message,
      e.kind === "unauthorized" ? EXIT_UNAUTHORIZED : e.kind === "invalid" ? 1 : 1,
    );
  }
  return e;
}
