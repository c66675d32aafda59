/**
 * A minimal levelled logger; the CLI decides where lines go.
 *
 * @module
 */

/** Log levels, least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

/** Structured logger used across the broadcaster. */
export interface Logger {
  /** Developer detail. */
  debug(msg: string, fields?: Record<string, unknown>): void;
  /** Normal operation. */
  info(msg: string, fields?: Record<string, unknown>): void;
  /** Something went wrong but service continues. */
  warn(msg: string, fields?: Record<string, unknown>): void;
  /** Something needs an operator. */
  error(msg: string, fields?: Record<string, unknown>): void;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };

/** A logger writing one line per event to stderr, below `level` dropped. */
export function consoleLogger(level: LogLevel = "info"): Logger {
  const min = ORDER[level];
  const emit =
    (lvl: Exclude<LogLevel, "silent">) => (msg: string, fields?: Record<string, unknown>) => {
      if (ORDER[lvl] < min) return;
      const extra = fields === undefined ? "" : " " + JSON.stringify(fields, jsonSafe);
      console.error(`${new Date().toISOString()} ${lvl.toUpperCase()} ${msg}${extra}`);
    };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

/** A logger that drops everything. */
export const silentLogger: Logger = consoleLogger("silent");

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (value instanceof Error) return value.message;
  return value;
}
