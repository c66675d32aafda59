/**
 * Flag parsing on top of `node:util` `parseArgs`, turning its errors into a
 * one-line {@link UsageError}, plus value checks shared by the commands.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./errors.ts";

/** Option specs as `parseArgs` takes them. */
export type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parses `args` strictly (no positionals) for `command`.
 *
 * @throws {UsageError} naming the unknown or malformed flag
 */
export function parseFlags<O extends Options>(
  command: string,
  args: string[],
  options: O,
): ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>>["values"] {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const message = (e as Error).message;
    const flag = /'(-[^']*)'/.exec(message)?.[1] ?? "";
    const hint = `(see: lonelypss ${command} --help)`;
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      throw new UsageError(`Unknown option ${flag} for ${command} ${hint}`);
    }
    if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
      const arg = /'([^']*)'/.exec(message)?.[1] ?? "";
      throw new UsageError(`Unexpected argument "${arg}" for ${command} ${hint}`);
    }
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      const name = flag.split(" ")[0];
      throw new UsageError(
        `Option ${name} needs a value (write a value starting with "-" as ${name}=<value>) ${hint}`,
      );
    }
    throw new UsageError(`${message} ${hint}`);
  }
}

/**
 * An integer in `[min, max]`, written in decimal.
 *
 * @throws {UsageError} naming `what`
 */
export function parseInteger(what: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    throw new UsageError(
      `Invalid ${what}: expected an integer from ${min} to ${max}, got "${text}"`,
    );
  }
  return n;
}

/**
 * A finite number ≥ 0.
 *
 * @throws {UsageError} naming `what`
 */
export function parseSeconds(what: string, text: string): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new UsageError(
      `Invalid ${what}: expected a non-negative number of seconds, got "${text}"`,
    );
  }
  return n;
}

/**
 * One of `choices`.
 *
 * @throws {UsageError} naming `what` and the choices
 */
export function parseChoice<C extends string>(
  what: string,
  text: string,
  choices: readonly C[],
): C {
  if (!(choices as readonly string[]).includes(text)) {
    throw new UsageError(`Invalid ${what}: expected one of ${choices.join(", ")}, got "${text}"`);
  }
  return text as C;
}

/** Log levels accepted by `--log-level`. */
export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
