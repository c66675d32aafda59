/**
 * Flag parsing with `node:util` `parseArgs`'s strict rules (no positionals),
 * done here rather than by `parseArgs` itself: on Deno importing `node:util`
 * loads part of the Node compatibility layer (about 3.5 MiB resident) for a
 * dozen lines of work. Errors are one-line {@link UsageError}s. Plus value
 * checks shared by the commands.
 *
 * @module
 */

import type { parseArgs, ParseArgsConfig } from "node:util";
import { UsageError } from "./errors.ts";

/** Option specs as `parseArgs` takes them. */
export type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parses `args` strictly for `command`, as `parseArgs` with `strict: true`
 * and `allowPositionals: false` does: `--name value`, `--name=value`, a
 * boolean `--name`, a `short` letter `-x`, `multiple` values collected, the
 * last value of any other flag kept; a string flag's value may start with
 * "-" only as `--name=-value`.
 *
 * @throws {UsageError} naming the unknown or malformed flag
 */
export function parseFlags<O extends Options>(
  command: string,
  args: string[],
  options: O,
): ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>>["values"] {
  const hint = `(see: lonelypss ${command} --help)`;
  const values: Record<string, string | boolean | (string | boolean)[]> = {};
  const shorts = new Map<string, string>();
  for (const [name, spec] of Object.entries(options)) {
    if (spec.short !== undefined) shorts.set(spec.short, name);
  }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      if (i + 1 < args.length) {
        throw new UsageError(`Unexpected argument "${args[i + 1]}" for ${command} ${hint}`);
      }
      break;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (eq >= 0) inline = arg.slice(eq + 1);
    } else if (arg.length === 2 && arg[0] === "-") {
      name = shorts.get(arg[1]!);
      if (name === undefined) throw new UsageError(`Unknown option ${arg} for ${command} ${hint}`);
    } else if (arg.startsWith("-") && arg !== "-") {
      throw new UsageError(`Unknown option ${arg} for ${command} ${hint}`);
    } else {
      throw new UsageError(`Unexpected argument "${arg}" for ${command} ${hint}`);
    }
    const spec = Object.hasOwn(options, name) ? options[name] : undefined;
    if (spec === undefined) {
      throw new UsageError(`Unknown option ${arg.split("=")[0]} for ${command} ${hint}`);
    }
    let value: string | boolean;
    if (spec.type === "boolean") {
      if (inline !== undefined) {
        throw new UsageError(`Option --${name} takes no value ${hint}`);
      }
      value = true;
    } else if (inline !== undefined) {
      value = inline;
    } else {
      const next = args[i + 1];
      if (next === undefined || next.startsWith("-")) {
        throw new UsageError(
          `Option ${arg} needs a value (write a value starting with "-" as --${name}=<value>) ${hint}`,
        );
      }
      value = next;
      i++;
    }
    if (spec.multiple) {
      const list = values[name];
      values[name] = Array.isArray(list) ? [...list, value] : [value];
    } else {
      values[name] = value;
    }
  }
  return values as ReturnType<
    typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>
  >["values"];
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
