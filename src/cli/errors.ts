/**
 * Errors the CLI reports as one friendly line (no stack trace unless
 * `--debug`), each with the exit code it maps to.
 *
 * @module
 */

/** A failure the operator can fix (bad file, port in use, …): exit 1. */
export class CliError extends Error {
  /** Process exit code. */
  readonly exitCode: number;

  /** A one-line message; `exitCode` defaults to 1. */
  constructor(message: string, exitCode = 1, options?: ErrorOptions) {
    super(message, options);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/** A wrong command line (unknown flag, bad value): exit 2, as argparse does. */
export class UsageError extends CliError {
  /** A one-line message. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, 2, options);
    this.name = "UsageError";
  }
}

/** The message of anything thrown. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
