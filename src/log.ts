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

/**
 * A logger that keeps every line in memory as `level message {fields}`
 * (tests, and embedders who forward lines elsewhere).
 */
export function recordingLogger(): Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  const keep = (level: LogLevel) => (msg: string, fields?: Record<string, unknown>) =>
    lines.push(`${level} ${msg} ${JSON.stringify(fields ?? {}, jsonSafe)}`);
  return {
    lines,
    debug: keep("debug"),
    info: keep("info"),
    warn: keep("warn"),
    error: keep("error"),
  };
}

/** A logger that drops everything. */
export const silentLogger: Logger = consoleLogger("silent");

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (value instanceof Error) return value.message;
  return value;
}

/** A short description of a failure for a log line: message and cause, never a stack. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
  return `${typeof code === "string" ? code + ": " : ""}${error.message}${cause}`;
}

/**
 * Logs a recurring failure at most once per interval per message: the first
 * occurrence at once, then one line per interval carrying how many were
 * held back. No timers: a held-back line waits for the next occurrence.
 */
export class ThrottledLog {
  readonly #log: Logger;
  readonly #intervalMs: number;
  readonly #last = new Map<string, { at: number; suppressed: number }>();

  /** Logs through `log`, at most once per `intervalMs` (default 10 s) for each message. */
  constructor(log: Logger, intervalMs = 10_000) {
    this.#log = log;
    this.#intervalMs = intervalMs;
  }

  /** A warning, rate limited. */
  warn(msg: string, fields: Record<string, unknown> = {}): void {
    this.#emit("warn", msg, fields);
  }

  /** An error, rate limited. */
  error(msg: string, fields: Record<string, unknown> = {}): void {
    this.#emit("error", msg, fields);
  }

  #emit(level: "warn" | "error", msg: string, fields: Record<string, unknown>): void {
    const now = performance.now();
    const last = this.#last.get(msg);
    if (last !== undefined && now - last.at < this.#intervalMs) {
      last.suppressed++;
      return;
    }
    const suppressed = last?.suppressed ?? 0;
    this.#last.set(msg, { at: now, suppressed: 0 });
    this.#log[level](msg, suppressed > 0 ? { ...fields, suppressed } : fields);
  }
}
