/**
 * The `lonelypss` command line: `serve` runs a broadcaster.
 *
 * @example
 * ```sh
 * deno run -A jsr:@lonelypss/cli serve --port 3003 --db subscriptions.db
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import denoJson from "./deno.json" with { type: "json" };
import { type Broadcaster, consoleLogger, createBroadcaster, type LogLevel } from "./mod.ts";
import { serveWithDeno } from "./src/runtime/deno.ts";

const VERSION = denoJson.version;

const SERVE_HELP = `Usage: lonelypss serve [options]

Runs a broadcaster on an embedded SQLite database.

Options (each also read from the environment variable shown):
  --host <addr>         interface to bind              LONELYPSS_HOST       default 0.0.0.0
  --port <n>            port to listen on              LONELYPSS_PORT       default 3003
  --db <path>           SQLite file, or :memory:       LONELYPSS_DB         default subscriptions.db
  --spool-dir <dir>     where large notify bodies go   LONELYPSS_SPOOL_DIR  default the OS temp dir
  --path-prefix <p>     mount under a path, e.g. /ps   LONELYPSS_PATH_PREFIX default none
  --log-level <level>   debug|info|warn|error|silent   LONELYPSS_LOG_LEVEL  default info
  --grace <seconds>     shutdown wait for deliveries   LONELYPSS_GRACE      default 10
  --debug               print stack traces on errors
  -h, --help            show this help
`;

const HELP = `lonelypss ${VERSION} — best-effort pub/sub over HTTP

Usage: lonelypss <command> [options]

Commands:
  serve       run a broadcaster (see: lonelypss serve --help)

Options:
  -h, --help      show this help
  -V, --version   print the version
`;

/** A user-facing error: printed without a stack trace, exit code 1. */
class UsageError extends Error {}

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      host: { type: "string" },
      port: { type: "string" },
      db: { type: "string" },
      "spool-dir": { type: "string" },
      "path-prefix": { type: "string" },
      "log-level": { type: "string" },
      grace: { type: "string" },
      debug: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(SERVE_HELP);
    return 0;
  }
  const env = (name: string) => Deno.env.get(name);
  const host = values.host ?? env("LONELYPSS_HOST") ?? "0.0.0.0";
  const port = parseInteger("--port", values.port ?? env("LONELYPSS_PORT") ?? "3003", 0, 65535);
  const database = values.db ?? env("LONELYPSS_DB") ?? "subscriptions.db";
  const spoolDir = values["spool-dir"] ?? env("LONELYPSS_SPOOL_DIR");
  const pathPrefix = values["path-prefix"] ?? env("LONELYPSS_PATH_PREFIX") ?? "";
  const logLevel = parseLogLevel(values["log-level"] ?? env("LONELYPSS_LOG_LEVEL") ?? "info");
  const graceMs = 1000 * parseNumber("--grace", values.grace ?? env("LONELYPSS_GRACE") ?? "10");
  const logger = consoleLogger(logLevel);

  let broadcaster: Broadcaster;
  try {
    broadcaster = await createBroadcaster({
      database,
      pathPrefix,
      logger,
      limits: spoolDir === undefined ? {} : { spoolDir },
    });
  } catch (e) {
    throw new UsageError(`Cannot open database ${database}: ${errorMessage(e)}`);
  }
  let server;
  try {
    server = serveWithDeno(broadcaster, { hostname: host, port });
  } catch (e) {
    await broadcaster.close(0);
    if (e instanceof Deno.errors.AddrInUse) {
      throw new UsageError(`Port ${port} on ${host} is already in use`);
    }
    throw new UsageError(`Cannot listen on ${host}:${port}: ${errorMessage(e)}`);
  }
  const shown = server.addr.hostname === "0.0.0.0" ? "127.0.0.1" : server.addr.hostname;
  console.log(
    `lonelypss ${VERSION} listening on http://${shown}:${server.addr.port}${pathPrefix} ` +
      `(db ${database}, auth none/none)`,
  );
  const stop = () => {
    logger.info("Shutting down");
    server.shutdown(graceMs);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await server.finished;
  await server.shutdown(graceMs);
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  logger.info("Stopped");
  return 0;
}

function parseInteger(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    throw new UsageError(
      `Invalid ${flag}: expected an integer from ${min} to ${max}, got "${text}"`,
    );
  }
  return n;
}

function parseNumber(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new UsageError(`Invalid ${flag}: expected a non-negative number, got "${text}"`);
  }
  return n;
}

function parseLogLevel(text: string): LogLevel {
  const levels = ["debug", "info", "warn", "error", "silent"];
  if (!levels.includes(text)) {
    throw new UsageError(
      `Invalid --log-level: expected one of ${levels.join(", ")}, got "${text}"`,
    );
  }
  return text as LogLevel;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Runs the CLI with `args`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const debug = args.includes("--debug");
  try {
    const [command, ...rest] = args;
    switch (command) {
      case "serve":
        return await serve(rest);
      case "-V":
      case "--version":
        console.log(VERSION);
        return 0;
      case undefined:
      case "-h":
      case "--help":
      case "help":
        console.log(HELP);
        return 0;
      default:
        throw new UsageError(`Unknown command "${command}" (try --help)`);
    }
  } catch (e) {
    const isUsage = e instanceof UsageError ||
      (e instanceof TypeError && "code" in e && String(e.code).startsWith("ERR_PARSE_ARGS"));
    console.error(`error: ${errorMessage(e)}`);
    if (debug || !isUsage) console.error(e);
    return isUsage ? 2 : 1;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
