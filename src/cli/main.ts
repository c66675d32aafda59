/**
 * The `lonelypss` command line: dispatches to `setup` and `serve` and turns
 * every failure into one friendly line and an exit code (2 for a wrong
 * command line, 1 for everything else; a stack trace only with `--debug`).
 *
 * @module
 */

import { CliError, errorMessage, UsageError } from "./errors.ts";
import { MAIN_HELP } from "./help.ts";
import { type Io, processIo } from "./io.ts";
import { VERSION } from "./version.ts";

// Each command's module is imported when it runs: `serve` does not load the
// client, and no command loads what only another one needs.

/** Runs the CLI with `args` (without the program name); resolves to the exit code. */
export async function main(args: string[], io: Io = processIo()): Promise<number> {
  const debug = args.includes("--debug");
  try {
    const [command, ...rest] = args;
    switch (command) {
      case "setup":
        return await (await import("./setup.ts")).setup(rest, io);
      case "serve":
        return await (await import("./serve.ts")).serve(rest, io);
      case "notify":
        return await (await import("./notify.ts")).notify(rest, io);
      case "subscribe":
        return await (await import("./subscribe.ts")).subscribe(rest, io);
      case "subscriptions":
        return await (await import("./subscriptions.ts")).subscriptions(rest, io);
      case "stats":
        return await (await import("./subscriptions.ts")).stats(rest, io);
      case "-V":
      case "--version":
        io.out(VERSION);
        return 0;
      case undefined:
      case "-h":
      case "--help":
      case "help":
        io.out(MAIN_HELP);
        return 0;
      case "--debug":
        return await main(rest, io);
      default:
        throw new UsageError(
          command.startsWith("-")
            ? `Unknown option ${command} (see: lonelypss --help)`
            : `Unknown command "${command}" (expected setup, serve, notify, subscribe, subscriptions or stats; see: lonelypss --help)`,
        );
    }
  } catch (e) {
    io.err(`${io.errColour.red("error:")} ${errorMessage(e)}`);
    if (debug) io.err(e instanceof Error ? (e.stack ?? e.message) : String(e));
    if (e instanceof CliError) return e.exitCode;
    if (!debug) io.err("(run again with --debug for the stack trace)");
    return 1;
  }
}
